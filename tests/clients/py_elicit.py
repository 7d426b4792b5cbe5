"""Answers codemode's confirmation questions (MCP elicitation) with the official Python MCP SDK.

Usage:
  py_elicit.py <command> [args...]     (a stdio server started with confirmation of mutating calls)

The elicitation callback approves a request whose question mentions "Approved-Pet" and declines
every other one. It runs one `execute` program that creates two pets (the first approved, the second
declined, caught inside the program) and, when the server lists per-operation tools, calls
`createPet` once. It prints one JSON object on stdout:
  {"sdk": "<version>", "questions": [texts], "execute": {...}, "per_operation": {...}|null}
The Rust test asserts on that JSON and on what the upstream received; this script only reports.
"""

import asyncio
import json
import sys
from importlib.metadata import version

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client

from py_client import summarize  # the same report shape as the other client checks

PROGRAM = """
const made = await api.createPet({ body: { name: "Approved-Pet" } });
let declined = null;
try {
  await api.createPet({ body: { name: "Declined-Pet" } });
} catch (e) {
  declined = { name: e.name, message: e.message };
}
return { made, declined };
"""


async def exercise(read, write):
    questions = []

    async def answer(context, params):
        message = params.message
        questions.append(message)
        if "Approved-Pet" in message:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    async with ClientSession(read, write, elicitation_callback=answer) as session:
        await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        report = {"sdk": version("mcp"), "tools": tools, "execute": None, "per_operation": None}
        if "execute" in tools:
            report["execute"] = summarize(await session.call_tool("execute", {"code": PROGRAM}))
        if "createPet" in tools:
            result = await session.call_tool("createPet", {"body": {"name": "Declined-Pet"}})
            report["per_operation"] = summarize(result)
        report["questions"] = questions
        return report


async def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    params = StdioServerParameters(command=argv[1], args=argv[2:])
    async with stdio_client(params) as streams:
        report = await exercise(streams[0], streams[1])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
