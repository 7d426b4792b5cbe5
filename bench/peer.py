#!/usr/bin/env python3
"""Side-by-side benchmark: codemode vs FastMCP (from_openapi + CodeMode), same spec, same upstream, same client.

For each API (default: github, stripe) this starts the steady mock upstream once, then drives both MCP
servers over stdio with the official Python MCP client (`mcp`), and measures:
  - start-up: spawn until `tools/list` has answered (spec load included), median of --startup-runs
  - tools/list size: o200k tokens of the JSON tools array the client receives
  - search latency: `search` round trip, median/p90 over --runs x queries
  - execute latency: trivial program, 1 upstream call, 10 sequential upstream calls (median/p90)
  - resident memory: RSS of the server's process tree, idle after start-up and peak after the workload
Calls alternate ours/peer inside one loop, so machine load hits both sides alike.
Prints a markdown table: ours, peer, ours/peer, and the advantage (peer/ours for lower-is-better figures).

Usage: .venv-bench/bin/python bench/peer.py [--apis github,stripe] [--runs 5] [--startup-runs 3]
Env: CODEMODE_BIN (default /work/target-bench/release/codemode).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402


@dataclass
class Workload:
    """What each API asks of both servers: search queries and one upstream operation to call."""

    queries: list[str]
    ours_call: str  # JS expression (awaited) for codemode's `execute`
    peer_call: str  # Python expression (awaited) for FastMCP's `execute`


WORKLOADS = {
    "petstore": Workload(
        queries=[
            "find pets by status",
            "place an order for a pet",
            "delete a user",
            "log a user in",
            "upload an image of a pet",
        ],
        ours_call='api.findPetsByStatus({status: "available"})',
        peer_call='call_tool("findPetsByStatus", {"status": "available"})',
    ),
    "github": Workload(
        queries=[
            "list open pull requests of a repository",
            "create a comment on an issue",
            "get a repository",
            "list workflow runs for a repository",
            "star a repository for the authenticated user",
        ],
        ours_call='api.pullsList({owner: "octocat", repo: "hello-world"})',
        peer_call='call_tool("pullslist", {"owner": "octocat", "repo": "hello-world"})',
    ),
    "stripe": Workload(
        queries=[
            "list customers",
            "create a payment intent",
            "refund a charge",
            "cancel a subscription",
            "retrieve an invoice",
        ],
        ours_call="api.getCustomers({limit: 3})",
        peer_call='call_tool("GetCustomers", {"limit": 3})',
    ),
}


def programs(w: Workload) -> dict[str, tuple[str, str]]:
    """Equivalent programs per execute scenario: (ours JS, peer Python). Each returns a small number."""
    return {
        "trivial": ("return 1 + 1;", "return 1 + 1"),
        "1 call": (
            f"const r = await {w.ours_call};\nreturn 1;",
            f"r = await {w.peer_call}\nreturn 1",
        ),
        "10 calls": (
            f"let n = 0;\nfor (let i = 0; i < 10; i++) {{ await {w.ours_call}; n++; }}\nreturn n;",
            f"n = 0\nfor i in range(10):\n    await {w.peer_call}\n    n += 1\nreturn n",
        ),
    }


@dataclass
class Server:
    label: str
    params: StdioServerParameters
    marker: str  # substring of the server's command line, to find its pid
    session: ClientSession | None = None
    pid: int | None = None
    tools_json: str = ""
    startups: list[float] = field(default_factory=list)
    rss_idle: int = 0
    rss_peak: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)

    def sample_rss(self) -> None:
        if self.pid:
            self.rss_peak = max(self.rss_peak, common.tree_rss_bytes(self.pid))


PEER_EXTRA_ARGS: list[str] = []  # e.g. ["--no-dereference"] with --peer-tuned


def make_servers(spec: str, base_url: str, errlog_dir: str) -> tuple[Server, Server]:
    ours = Server(
        "codemode",
        StdioServerParameters(command=common.CODEMODE_BIN, args=["serve", "--spec", spec, "--base-url", base_url]),
        marker=f"serve --spec {spec} --base-url {base_url}",
    )
    peer = Server(
        "fastmcp",
        StdioServerParameters(
            command=sys.executable,
            args=[os.path.join(common.HERE, "fastmcp_server.py"), "--spec", spec, "--base-url", base_url,
                  *PEER_EXTRA_ARGS],
        ),
        marker=f"fastmcp_server.py --spec {spec} --base-url {base_url}",
    )
    return ours, peer


async def open_session(stack: contextlib.AsyncExitStack, srv: Server, errlog) -> float:
    """Spawn the server, initialize, list tools; returns seconds from spawn to the tools/list answer."""
    t0 = time.perf_counter()
    read, write = await stack.enter_async_context(stdio_client(srv.params, errlog=errlog))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    tools = await session.list_tools()
    elapsed = time.perf_counter() - t0
    srv.session = session
    srv.pid = common.find_child_pid(srv.marker)
    srv.tools_json = json.dumps(
        [t.model_dump(mode="json", exclude_none=True) for t in tools.tools], separators=(",", ":")
    )
    return elapsed


async def measure_startup(srv: Server, runs: int, errlog) -> None:
    for _ in range(runs):
        async with contextlib.AsyncExitStack() as stack:
            probe = Server(srv.label, srv.params, srv.marker)
            srv.startups.append(await open_session(stack, probe, errlog))


async def timed_call(srv: Server, tool: str, args: dict, key: str) -> str:
    t0 = time.perf_counter()
    res = await srv.session.call_tool(tool, args)
    srv.times.setdefault(key, []).append(time.perf_counter() - t0)
    text = "".join(getattr(c, "text", "") for c in res.content)
    if res.is_error:
        raise RuntimeError(f"{srv.label} {tool} failed ({key}): {text[:500]}")
    return text


async def bench_api(api: str, args, errlog) -> tuple[Server, Server]:
    w = WORKLOADS[api]
    spec = common.spec_path(api)
    with common.Steady(spec, common.APIS[api].steady_flags) as steady:
        ours, peer = make_servers(spec, steady.url, common.scratch_dir())
        sides = [s for s in (ours, peer) if s.label in args.sides]
        print(f"[{api}] start-up x{args.startup_runs} each ...", file=sys.stderr)
        for srv in sides:
            await measure_startup(srv, max(0, args.startup_runs - 1), errlog)
        async with contextlib.AsyncExitStack() as stack:
            for srv in sides:
                srv.startups.append(await open_session(stack, srv, errlog))
                await asyncio.sleep(1.0)  # let start-up allocations settle before the idle sample
                srv.rss_idle = common.tree_rss_bytes(srv.pid) if srv.pid else 0
                srv.rss_peak = srv.rss_idle
            progs = programs(w)
            # One warm-up of each call on both sides (first-call costs are reported by start-up instead).
            indexed = [(s, 0 if s is ours else 1) for s in sides]
            for srv, i in indexed:
                await timed_call(srv, "search", {"query": w.queries[0], "limit": 10}, "warmup")
                for name, pair in progs.items():
                    if name != "10 calls":  # same code path as "1 call"; skipping it keeps the run short
                        await timed_call(srv, "execute", {"code": pair[i]}, "warmup")
            print(f"[{api}] measuring x{args.runs} ...", file=sys.stderr)
            for _ in range(args.runs):
                for q in w.queries:
                    for srv in sides:
                        await timed_call(srv, "search", {"query": q, "limit": 10}, "search")
                for name, pair in progs.items():
                    for srv, i in indexed:
                        out = await timed_call(srv, "execute", {"code": pair[i]}, f"execute {name}")
                        expect = {"trivial": "2", "1 call": "1", "10 calls": "10"}[name]
                        if expect not in out:
                            raise RuntimeError(f"{srv.label} execute {name}: unexpected result {out[:300]}")
                for srv in sides:
                    srv.sample_rss()
    return ours, peer


def ratio_row(metric: str, ours: float, peer: float, fmt, lower_is_better: bool = True) -> str:
    if ours != ours or peer != peer or not ours or not peer:  # a side not run (NaN or 0)
        return f"| {metric} | {fmt(ours) if ours == ours and ours else '—'} | {fmt(peer) if peer == peer and peer else '—'} | — | — |"
    r = ours / peer if peer else float("nan")
    adv = (peer / ours if lower_is_better else ours / peer) if ours and peer else float("nan")
    return f"| {metric} | {fmt(ours)} | {fmt(peer)} | {r:.3f} | **{adv:.1f}×** |"


def report(api: str, ours: Server, peer: Server) -> str:
    rows = [
        f"### {api}",
        "",
        "| metric | codemode | FastMCP CodeMode | ours/peer | advantage |",
        "|---|---|---|---|---|",
        ratio_row("start-up to tools/list (median)", common.median(ours.startups), common.median(peer.startups), common.fmt_ms),
        ratio_row(
            "tools/list tokens (o200k)",
            common.count_tokens(ours.tools_json) if ours.tools_json else 0,
            common.count_tokens(peer.tools_json) if peer.tools_json else 0,
            lambda x: f"{x:,.0f}",
        ),
    ]
    for key in ["search", "execute trivial", "execute 1 call", "execute 10 calls"]:
        o, p = ours.times.get(key, []), peer.times.get(key, [])
        rows.append(ratio_row(f"{key} p50 (n={len(o) or len(p)})", common.median(o), common.median(p), common.fmt_ms))
        rows.append(ratio_row(f"{key} p90", common.pct(o, 90), common.pct(p, 90), common.fmt_ms))
    rows.append(ratio_row("RSS idle after start-up", ours.rss_idle, peer.rss_idle, common.fmt_mb))
    rows.append(ratio_row("RSS peak during workload", ours.rss_peak, peer.rss_peak, common.fmt_mb))
    return "\n".join(rows)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apis", default="github,stripe")
    ap.add_argument("--runs", type=int, default=5, help="rounds; each round = every query + every program once")
    ap.add_argument("--startup-runs", type=int, default=3)
    ap.add_argument("--json", help="also write raw timings here")
    ap.add_argument("--peer-tuned", action="store_true",
                    help="run FastMCP with dereference_schemas=False (faster than its default)")
    ap.add_argument("--sides", default="codemode,fastmcp", help="which servers to run (both for ratios)")
    args = ap.parse_args()
    if args.peer_tuned:
        PEER_EXTRA_ARGS.append("--no-dereference")
    if "codemode" in args.sides and not os.access(common.CODEMODE_BIN, os.X_OK):
        print(f"codemode binary not found at {common.CODEMODE_BIN} (set CODEMODE_BIN)", file=sys.stderr)
        return 2
    errlog = open(os.path.join(common.scratch_dir(), "servers-stderr.log"), "w")
    out, raw = [], {}
    for api in args.apis.split(","):
        ours, peer = await bench_api(api, args, errlog)
        out.append(report(api, ours, peer))
        raw[api] = {s.label: {"startups": s.startups, "times": s.times, "rss_idle": s.rss_idle, "rss_peak": s.rss_peak,
                              "tools_tokens": common.count_tokens(s.tools_json) if s.tools_json else 0} for s in (ours, peer)}
    import fastmcp

    tuned = " with dereference_schemas=False" if args.peer_tuned else " (defaults)"
    print(f"FastMCP {fastmcp.__version__}{tuned} (CodeMode, Monty sandbox) vs codemode {common.CODEMODE_BIN}; "
          f"official MCP client over stdio; upstream: steady mock on 127.0.0.1\n")
    print("\n\n".join(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    return 0


if __name__ == "__main__":
    common.exit_cleanly_on_sigterm()
    sys.exit(asyncio.run(main()))
