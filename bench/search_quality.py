#!/usr/bin/env python3
"""Search quality, codemode vs FastMCP CodeMode, on the shared dev query set, scored by search-eval.py.

Ours: `codemode search --spec SPEC --batch --limit 10` per API, queries on stdin, JSON lines out
(`{"query", "results": [{"name","method","path","score"}]}`).
Peer: FastMCP's CodeMode `search` tool ranks with `BM25SearchTransform._search(catalog, query)` over the
tools `FastMCP.from_openapi` built. We call exactly that function in-process on the same catalog (the MCP
round trip adds nothing to the ranking, and the peer's server takes minutes to build some specs: doing it
once per API keeps the run bounded). Each hit maps back to `METHOD /path` through the tool's route.
A spec the peer cannot load (e.g. Swagger 2.0, multi-file $refs) scores zero for the peer on those queries;
the summary also gives the figures restricted to the APIs both sides loaded.

Usage: .venv-bench/bin/python bench/search_quality.py [--sides codemode,fastmcp] [--apis all] [--out DIR]
Writes DIR/{codemode,fastmcp}.jsonl and prints search-eval.py's report for each.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tarfile
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SHARED = os.path.join(common.MAIN, "..", "shared")
DEV_SET = os.path.join(SHARED, "search-dev.tsv")
EVAL = os.path.join(SHARED, "search-eval.py")

SPEC_OF = {
    "github": "github",
    "stripe": "stripe",
    "cloudflare": "cloudflare",
    "discord": "discord",
    "petstore": "petstore",
}
EXTRA = {"kubernetes": "kubernetes-swagger.json", "openai": "openai-openapi.yaml"}


def spec_for(api: str) -> str:
    if api in SPEC_OF:
        return common.spec_path(SPEC_OF[api])
    if api in EXTRA:
        return os.path.abspath(os.path.join(common.SPECS, EXTRA[api]))
    if api == "digitalocean":
        root = os.path.join(common.scratch_dir(), "do")
        entry = os.path.join(root, "digitalocean-openapi", "specification", "DigitalOcean-public.v2.yaml")
        if not os.path.exists(entry):
            with tarfile.open(os.path.join(common.SPECS, "digitalocean-openapi.tar.gz")) as t:
                t.extractall(root, filter="data")
        return entry
    raise KeyError(api)


def load_queries() -> dict[str, list[str]]:
    by_api: dict[str, list[str]] = defaultdict(list)
    with open(DEV_SET, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                api, query, _gold = line.rstrip("\n").split("\t")
                by_api[api].append(query)
    return by_api


def ours(api: str, queries: list[str], limit: int) -> list[dict]:
    """Rank with `codemode search --batch`; returns eval lines (api, query, results)."""
    proc = subprocess.run(
        [common.CODEMODE_BIN, "search", "--spec", spec_for(api), "--batch", "--limit", str(limit)],
        input="\n".join(queries) + "\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        print(f"  codemode search failed on {api}: {proc.stderr.strip()[:400]}", file=sys.stderr)
        return []
    out = []
    for line in proc.stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            out.append({"api": api, "query": r["query"], "results": r["results"]})
    return out


async def peer(api: str, queries: list[str], limit: int) -> list[dict]:
    """Rank with FastMCP CodeMode's search function over the from_openapi catalog."""
    import httpx2
    from fastmcp import FastMCP
    from fastmcp.server.transforms.search.bm25 import BM25SearchTransform

    from fastmcp_server import load_spec

    import logging

    logging.getLogger("fastmcp").setLevel(logging.CRITICAL)  # a failed load logs every validation error
    try:
        spec = load_spec(spec_for(api))
        server = FastMCP.from_openapi(openapi_spec=spec, client=httpx2.AsyncClient(base_url="http://127.0.0.1:9"))
        tools = list(await server.list_tools(run_middleware=False))
    except Exception as e:  # the peer cannot load this spec: its queries score zero
        print(f"  fastmcp could not load {api}: {type(e).__name__}: {str(e)[:300]}", file=sys.stderr)
        return []
    # Same construction as CodeMode's default Search(): BM25SearchTransform(max_results=default_limit or 50).
    bm25 = BM25SearchTransform(max_results=50)
    out = []
    for q in queries:
        hits = (await bm25._search(tools, q))[:limit]
        results = [{"name": t.name, "method": t._route.method.upper(), "path": t._route.path} for t in hits
                   if hasattr(t, "_route")]
        out.append({"api": api, "query": q, "results": results})
    return out


def score(tsv: str, rankings: str) -> str:
    return subprocess.run([sys.executable, EVAL, tsv, rankings], capture_output=True, text=True, check=True).stdout


def restricted_tsv(apis: set[str], path: str) -> str:
    with open(DEV_SET, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as g:
        for line in f:
            if line.startswith("#") or not line.strip() or line.split("\t", 1)[0] in apis:
                g.write(line)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sides", default="codemode,fastmcp")
    ap.add_argument("--apis", default="all")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(common.scratch_dir(), "quality"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    by_api = load_queries()
    apis = list(by_api) if args.apis == "all" else args.apis.split(",")
    loaded: dict[str, set[str]] = {}
    files = {}
    for side in args.sides.split(","):
        lines, ok = [], set()
        for api in apis:
            t0 = time.perf_counter()
            got = ours(api, by_api[api], args.limit) if side == "codemode" else asyncio.run(peer(api, by_api[api], args.limit))
            print(f"[{side}] {api}: {len(got)}/{len(by_api[api])} ranked in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            if got:
                ok.add(api)
            lines += got
        files[side] = os.path.join(args.out, f"{side}.jsonl")
        with open(files[side], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(x) + "\n" for x in lines)
        loaded[side] = ok
    tsv = DEV_SET if args.apis == "all" else restricted_tsv(set(apis), os.path.join(args.out, "subset.tsv"))
    for side, path in files.items():
        print(f"## {side} — all {'' if args.apis == 'all' else 'selected '}queries ({path})\n```\n{score(tsv, path)}```")
    if len(files) == 2:
        both = set.intersection(*loaded.values())
        if both != set(apis):
            sub = restricted_tsv(both, os.path.join(args.out, "both-loaded.tsv"))
            for side, path in files.items():
                print(f"## {side} — only APIs both sides loaded ({', '.join(sorted(both))})\n```\n{score(sub, path)}```")
    return 0


if __name__ == "__main__":
    common.exit_cleanly_on_sigterm()
    sys.exit(main())
