"""Drives a codemode MCP server with the official Python MCP SDK (works with mcp 1.x and 2.x).

Usage:
  py_client.py stdio <command> [args...]
  py_client.py http <url>

Connects, lists tools, calls `search` and `execute`, and prints one JSON object on stdout:
  {"sdk": "<version>", "tools": [names], "search": {...}, "execute": {...}, "error_call": {...}}
where each call is {"isError": bool, "text": [texts], "structured": object|null}.
The Rust test asserts on that JSON; this script only reports.
"""

import asyncio
import json
import sys
from importlib.metadata import version

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def summarize(result):
    data = result.model_dump(by_alias=True, mode="json")
    is_error = data.get("isError", data.get("is_error")) or False
    structured = data.get("structuredContent", data.get("structured_content"))
    texts = [block.get("text") for block in data.get("content", []) if block.get("type") == "text"]
    return {"isError": bool(is_error), "text": texts, "structured": structured}


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        tools = [tool.name for tool in listed.tools]
        search = await session.call_tool("search", {"query": "list pets"})
        execute = await session.call_tool("execute", {"code": "return { sum: 1 + 1 }"})
        error_call = await session.call_tool("execute", {"code": "throw new Error('boom')"})
        return {
            "sdk": version("mcp"),
            "tools": tools,
            "search": summarize(search),
            "execute": summarize(execute),
            "error_call": summarize(error_call),
        }


async def main(argv):
    if len(argv) >= 3 and argv[1] == "stdio":
        params = StdioServerParameters(command=argv[2], args=argv[3:])
        async with stdio_client(params) as streams:
            report = await exercise(streams[0], streams[1])
    elif len(argv) == 3 and argv[1] == "http":
        async with streamable_http_client(argv[2]) as streams:
            report = await exercise(streams[0], streams[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
