"""Answers codemode's approvals over stateless HTTP (`input_required`, MCP 2026-07-28) with the
official Python MCP SDK 2.x, whose `Client` drives the rounds by itself.

Usage:
  py_approve.py <url>      (an HTTP server that asks before every deletePet)

The elicitation callback approves a question that mentions "DELETE /v1/pets/7" and declines every
other one. It runs one `execute` program that creates A, deletes pet 7 (approved), tries to delete
pet 8 (declined, caught inside the program) and creates C. It prints one JSON object on stdout:
  {"sdk": "<version>", "questions": [texts], "execute": {...}}
The Rust test asserts on that JSON and on what the upstream received; this script only reports.
"""

import asyncio
import json
import sys
from importlib.metadata import version

from mcp import Client, types

from py_client import summarize  # the same report shape as the other client checks

PROGRAM = """
const a = await api.createPet({ body: { name: "A" } });
await api.deletePet({ petId: "7" });
let declined = null;
try {
  await api.deletePet({ petId: "8" });
} catch (e) {
  declined = e.name;
}
const c = await api.createPet({ body: { name: "C" } });
return { a: a.id, c: c.id, declined };
"""


async def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    questions = []

    async def answer(context, params):
        questions.append(params.message)
        approve = "DELETE /v1/pets/7" in params.message
        return types.ElicitResult(action="accept", content={"approve": approve})

    async with Client(argv[1], mode="2026-07-28", elicitation_callback=answer) as client:
        result = await client.call_tool("execute", {"code": PROGRAM})
    print(json.dumps({"sdk": version("mcp"), "questions": questions, "execute": summarize(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
