"""Drives a codemode MCP server over streamable HTTP with the official Python MCP SDK (1.x and
2.x), sending `Authorization: Bearer <token>` on every request.

Usage:
  py_oauth.py <url> <token>      (token "-" sends no Authorization header)

Connects, lists tools and runs `execute` with a program that calls the upstream once, then prints
one JSON object on stdout: {"ok": true, "tools": [...], "execute": {...}} when every step
succeeded, or {"ok": false, "error": "<what failed>"} when the server refused (the SDK raises) or
nothing came within 20 s. The Rust test asserts on that JSON; this script only reports.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client


def summarize(result):
    data = result.model_dump(by_alias=True, mode="json")
    is_error = data.get("isError", data.get("is_error")) or False
    structured = data.get("structuredContent", data.get("structured_content"))
    texts = [block.get("text") for block in data.get("content", []) if block.get("type") == "text"]
    return {"isError": bool(is_error), "text": texts, "structured": structured}


def describe(error):
    """The error and, for an exception group, every error inside it, on one line."""
    parts = [f"{type(error).__name__}: {error}"]
    for inner in getattr(error, "exceptions", []) or []:
        parts.append(describe(inner))
    return " | ".join(parts)


async def exercise(url, token):
    headers = {} if token == "-" else {"Authorization": f"Bearer {token}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                listed = await session.list_tools()
                execute = await session.call_tool(
                    "execute", {"code": "const pets = await api.listPets(); return { n: pets.length }"}
                )
                return {
                    "ok": True,
                    "tools": [tool.name for tool in listed.tools],
                    "execute": summarize(execute),
                }


async def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        report = await asyncio.wait_for(exercise(argv[1], argv[2]), timeout=20)
    except asyncio.TimeoutError:
        report = {"ok": False, "error": "no answer within 20 s"}
    except BaseException as error:  # noqa: BLE001 - the report says what failed
        report = {"ok": False, "error": describe(error)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
