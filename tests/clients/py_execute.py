"""Runs one program through a codemode MCP server over streamable HTTP with the official Python
MCP SDK (mcp 1.x and 2.x), sending the given request headers (a bearer token for the server,
an upstream credential for `[auth.from_request]`, …).

Usage:
  py_execute.py <url> <headers-json> <code>

Prints one JSON object on stdout: {"isError": bool, "text": [texts]}. The Rust test asserts on
it; this script only reports.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, headers, code = argv[1], json.loads(argv[2]), argv[3]
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(url, http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                result = await session.call_tool("execute", {"code": code})
    data = result.model_dump(by_alias=True, mode="json")
    is_error = data.get("isError", data.get("is_error")) or False
    texts = [b.get("text") for b in data.get("content", []) if b.get("type") == "text"]
    print(json.dumps({"isError": bool(is_error), "text": texts}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
