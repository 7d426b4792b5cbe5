#!/usr/bin/env python3
"""The peer under test: FastMCP's OpenAPI server with its CodeMode transform.

Builds `FastMCP.from_openapi(openapi_spec=..., client=httpx2.AsyncClient(base_url=...))`, one tool per
operation, then collapses them with `fastmcp.experimental.transforms.code_mode.CodeMode` (default
discovery tools: `search` (BM25) + `get_schema`, and `execute`, which runs Python in the pydantic-monty
sandbox with `call_tool(name, params)` in scope). This is FastMCP's documented code-mode setup; nothing
is tuned, so the comparison is against the peer as a user gets it.

Usage: fastmcp_server.py --spec SPEC(.json|.yaml|.json.gz) --base-url URL [--http PORT] [--no-dereference]
stdio is the default transport, like `codemode serve`.
"""
import argparse
import gzip
import json
import logging
import os
import sys


def load_spec(path: str) -> dict:
    """Read a JSON, gzipped JSON or YAML OpenAPI document into a dict."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")) or path.endswith((".yaml.gz", ".yml.gz")):
        import yaml

        # CSafeLoader when available: the peer should not be penalised for a slow pure-Python YAML parse.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(text, Loader=loader)
    return json.loads(text)


def build_server(spec_path: str, base_url: str, dereference: bool = True):
    import httpx2
    from fastmcp import FastMCP
    from fastmcp.experimental.transforms.code_mode import CodeMode

    spec = load_spec(spec_path)
    client = httpx2.AsyncClient(base_url=base_url, timeout=30.0)
    # dereference_schemas=True is FastMCP's default: every list_tools (which CodeMode's search and each
    # call_tool run internally) inlines the $refs of every tool schema. --no-dereference is the tuned variant.
    server = FastMCP.from_openapi(
        openapi_spec=spec, client=client, name="fastmcp-openapi-peer", dereference_schemas=dereference
    )
    server.add_transform(CodeMode())
    return server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--no-dereference", action="store_true", help="FastMCP(dereference_schemas=False)")
    ap.add_argument("--http", type=int, default=None, help="serve streamable HTTP on 127.0.0.1:PORT")
    args = ap.parse_args()
    # Keep stderr quiet: a spec with thousands of operations makes FastMCP log per-route warnings.
    logging.basicConfig(level=os.environ.get("PEER_LOG_LEVEL", "ERROR"), stream=sys.stderr)
    os.environ.setdefault("FASTMCP_LOG_LEVEL", "ERROR")
    server = build_server(args.spec, args.base_url, dereference=not args.no_dereference)
    if args.http is not None:
        server.run(transport="http", host="127.0.0.1", port=args.http, show_banner=False)
    else:
        server.run(transport="stdio", show_banner=False)


if __name__ == "__main__":
    main()
