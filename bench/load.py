#!/usr/bin/env python3
"""Load test: N concurrent MCP clients over streamable HTTP, search + execute mix, for a bounded time.

Starts the steady mock upstream (GitHub spec by default) and `codemode serve --http 127.0.0.1:PORT`
(or the FastMCP peer with --target fastmcp), then runs N clients (official Python MCP client,
`streamable_http_client` at /mcp), spread over --procs worker processes so the Python client is not the
bottleneck. Each client loops: `search` (rotating queries), then `execute` of a program making one upstream
call, until --duration seconds have passed. The server's process-tree RSS is sampled every --sample
seconds. Everything stops by itself: the duration bounds the loops and a hard timeout bounds the run.

Prints throughput (tool calls/s), p50/p99 per tool, error count and the RSS series.
Exit status: 1 if any call failed or RSS grew more than --max-rss-growth between the first sample after
warm-up and the last one; 0 otherwise.

Usage: .venv-bench/bin/python bench/load.py [--clients 8] [--duration 60] [--api github] [--target codemode]
Env: CODEMODE_BIN (default /work/target-bench/release/codemode).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from peer import WORKLOADS  # noqa: E402


def exec_program(target: str, api: str) -> str:
    w = WORKLOADS[api]
    if target == "codemode":
        return f"const r = await {w.ours_call};\nreturn 1;"
    return f"r = await {w.peer_call}\nreturn 1"


async def one_client(url: str, target: str, api: str, deadline: float, cid: int) -> dict:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    w = WORKLOADS[api]
    code = exec_program(target, api)
    lat: dict[str, list[float]] = {"search": [], "execute": []}
    errors: list[str] = []
    i = cid
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            while time.monotonic() < deadline:
                for tool, args in (("search", {"query": w.queries[i % len(w.queries)], "limit": 10}),
                                   ("execute", {"code": code})):
                    t0 = time.perf_counter()
                    try:
                        res = await s.call_tool(tool, args)
                        if res.is_error:
                            errors.append(f"{tool}: " + "".join(getattr(c, "text", "") for c in res.content)[:200])
                    except Exception as e:  # transport failure counts as an error too
                        errors.append(f"{tool}: {type(e).__name__}: {e}"[:200])
                    lat[tool].append(time.perf_counter() - t0)
                i += 1
    return {"lat": lat, "errors": errors}


def worker(url: str, target: str, api: str, deadline_wall: float, ids: list[int], q) -> None:
    """One process running several clients; `deadline_wall` is time.time() based (monotonic is per process)."""

    async def run() -> list[dict]:
        deadline = time.monotonic() + (deadline_wall - time.time())
        return await asyncio.gather(*(one_client(url, target, api, deadline, c) for c in ids), return_exceptions=True)

    out = []
    for r in asyncio.run(run()):
        out.append(r if isinstance(r, dict) else {"lat": {"search": [], "execute": []}, "errors": [f"client: {r!r}"[:300]]})
    q.put(out)


def wait_port(port: int, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port} within {timeout_s}s")


def start_server(target: str, spec: str, upstream: str, port: int) -> subprocess.Popen:
    if target == "codemode":
        cmd = [common.CODEMODE_BIN, "serve", "--spec", spec, "--base-url", upstream, "--http", f"127.0.0.1:{port}"]
    else:
        cmd = [sys.executable, os.path.join(common.HERE, "fastmcp_server.py"), "--spec", spec, "--base-url", upstream,
               "--http", str(port)]
    log = open(os.path.join(common.scratch_dir(), f"{target}-http.log"), "wb")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--procs", type=int, default=2, help="client worker processes")
    ap.add_argument("--api", default="github", choices=sorted(WORKLOADS))
    ap.add_argument("--target", default="codemode", choices=["codemode", "fastmcp"])
    ap.add_argument("--sample", type=float, default=5.0, help="RSS sampling period, seconds")
    ap.add_argument("--warmup", type=float, default=10.0, help="RSS baseline = first sample after this many seconds")
    ap.add_argument("--max-rss-growth", type=float, default=0.25)
    ap.add_argument("--startup-timeout", type=float, default=600.0)
    args = ap.parse_args()

    spec = common.spec_path(args.api)
    with common.Steady(spec, common.APIS[args.api].steady_flags) as steady:
        port = common.free_port()
        server = start_server(args.target, spec, steady.url, port)
        try:
            wait_port(port, server, args.startup_timeout)
            url = f"http://127.0.0.1:{port}/mcp"
            t_start = time.time()
            deadline = t_start + args.duration
            q = mp.get_context("spawn").Queue()
            ids = list(range(args.clients))
            procs = [mp.get_context("spawn").Process(target=worker, args=(url, args.target, args.api, deadline, ids[k::args.procs], q))
                     for k in range(min(args.procs, args.clients))]
            for p in procs:
                p.start()
            rss: list[tuple[float, int]] = []
            while time.time() < deadline:
                rss.append((time.time() - t_start, common.tree_rss_bytes(server.pid)))
                time.sleep(min(args.sample, max(0.0, deadline - time.time())))
            rss.append((time.time() - t_start, common.tree_rss_bytes(server.pid)))
            results = []
            hard = time.time() + 120  # clients finish their in-flight call, then stop
            for _ in procs:
                results += q.get(timeout=max(1.0, hard - time.time()))
            for p in procs:
                p.join(timeout=max(1.0, hard - time.time()))
                if p.is_alive():
                    p.terminate()
            elapsed = time.time() - t_start
        finally:
            common.stop_group(server)

    lat = {"search": [], "execute": []}
    errors: list[str] = []
    for r in results:
        for k in lat:
            lat[k] += r["lat"][k]
        errors += r["errors"]
    total = sum(len(v) for v in lat.values())
    print(f"target {args.target}, api {args.api}, {args.clients} clients in {args.procs} processes, "
          f"{args.duration:.0f} s (wall {elapsed:.1f} s), upstream steady mock on 127.0.0.1")
    print(f"throughput: {total / elapsed:.1f} tool calls/s ({total} calls: {len(lat['search'])} search, "
          f"{len(lat['execute'])} execute)")
    for k, v in lat.items():
        print(f"  {k:8} p50 {common.fmt_ms(common.pct(v, 50))}  p99 {common.fmt_ms(common.pct(v, 99))}  max {common.fmt_ms(max(v) if v else float('nan'))}")
    print(f"errors: {len(errors)}")
    for e in errors[:10]:
        print(f"  {e}")
    print("RSS (s, MB): " + ", ".join(f"{t:.0f}:{b / 1e6:.1f}" for t, b in rss))
    base = next((b for t, b in rss if t >= args.warmup), rss[0][1] if rss else 0)
    last = rss[-1][1] if rss else 0
    growth = (last - base) / base if base else float("nan")
    print(f"RSS after warm-up {base / 1e6:.1f} MB -> end {last / 1e6:.1f} MB ({growth * 100:+.1f}%), "
          f"max {max(b for _, b in rss) / 1e6:.1f} MB")
    ok = not errors and total > 0 and growth <= args.max_rss_growth
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    common.exit_cleanly_on_sigterm()
    sys.exit(main())
