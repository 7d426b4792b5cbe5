"""Shared helpers for the bench scripts: specs, the steady mock upstream, process RSS, token counts, stats.

Everything here runs locally: steady binds 127.0.0.1 on a free port and is stopped by the scripts.
"""
from __future__ import annotations

import contextlib
import glob
import gzip
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = os.path.dirname(HERE)
SPECS = os.environ.get("BENCH_SPECS", os.path.join(MAIN, "..", "shared", "specs"))
NODE_BIN = os.path.join(MAIN, "node_modules", ".bin")
DEFAULT_CODEMODE_BIN = "/work/target-bench/release/codemode"
CODEMODE_BIN = os.environ.get("CODEMODE_BIN", DEFAULT_CODEMODE_BIN)

# Stripe sends form bodies and deepObject queries in PHP bracket style; steady must be told so.
STRIPE_STEADY_FLAGS = [
    "--validator-form-object-format=brackets",
    "--validator-form-array-format=brackets",
    "--validator-query-array-format=brackets",
]


@dataclass
class Api:
    name: str
    spec_file: str  # under SPECS
    steady_flags: tuple[str, ...] = ()


APIS = {
    "petstore": Api("petstore", "petstore3-openapi.yaml"),
    "discord": Api("discord", "discord-openapi.json"),
    "stripe": Api("stripe", "stripe-spec3.yaml", tuple(STRIPE_STEADY_FLAGS)),
    "github": Api("github", "github-api.github.com.json.gz"),
    "cloudflare": Api("cloudflare", "cloudflare-openapi.json"),
}

_SCRATCH = None


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM (e.g. from `timeout`) into SystemExit so `with Steady(...)` blocks stop their servers."""
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def scratch_dir() -> str:
    """One temp dir per bench run (gunzipped specs, generated specs); removed at exit."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = tempfile.mkdtemp(prefix="codemode-bench-")
        import atexit

        atexit.register(shutil.rmtree, _SCRATCH, True)
    return _SCRATCH


def spec_path(api: str) -> str:
    """Path to a readable spec for `api` (gzipped specs are unpacked to the scratch dir)."""
    src = os.path.join(SPECS, APIS[api].spec_file)
    if not src.endswith(".gz"):
        return os.path.abspath(src)
    dst = os.path.join(scratch_dir(), os.path.basename(src)[: -len(".gz")])
    if not os.path.exists(dst):
        with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    return dst


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env() -> dict[str, str]:
    """Environment with the project's node_modules/.bin first (steady needs node 22, which lives there)."""
    env = dict(os.environ)
    env["PATH"] = NODE_BIN + os.pathsep + env.get("PATH", "")
    return env


class Steady:
    """The steady mock upstream for one spec, on 127.0.0.1:<free port>. Use as a context manager."""

    def __init__(self, spec: str, flags: tuple[str, ...] = (), timeout_s: float = 120.0):
        self.spec, self.flags, self.timeout_s = spec, flags, timeout_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Steady":
        self.log = open(os.path.join(scratch_dir(), f"steady-{self.port}.log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(NODE_BIN, "steady"), "-p", str(self.port), "--host", "127.0.0.1", "-q", *self.flags, self.spec],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=bench_env(),
            start_new_session=True,
        )
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"steady exited with {self.proc.returncode}; log: {self.log.name}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return self
            except urllib.error.HTTPError:
                return self  # any HTTP answer means it is listening
            except OSError:
                time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"steady did not answer within {self.timeout_s}s")

    def __exit__(self, *exc) -> None:
        if self.proc:
            # steady's node launcher runs a native child: signal the whole (own) process group.
            stop_group(self.proc)
        self.log.close()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, and everything in its process group."""
    import signal

    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group
            return
        except subprocess.TimeoutExpired:
            continue


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (0 if it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def find_child_pid(marker: str) -> int | None:
    """PID of this process's newest descendant whose command line contains `marker`."""
    import psutil

    best = None
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if marker in " ".join(p.cmdline()):
                if best is None or p.create_time() >= best.create_time():
                    best = p
    return best.pid if best else None


# ---- tokens -------------------------------------------------------------------------------------

_ENC = None


def o200k_file() -> str | None:
    """Find o200k_base.tiktoken offline: $O200K_FILE, then the copy the tiktoken-rs crate ships."""
    cands = [os.environ.get("O200K_FILE", "")]
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    cands += sorted(glob.glob(os.path.join(cargo_home, "registry/src/*/tiktoken-rs-*/assets/o200k_base.tiktoken")))
    return next((c for c in reversed(cands) if c and os.path.exists(c)), None)


def o200k():
    """The o200k_base encoding, loaded from a local BPE file (no download); checked against tiktoken's hash."""
    global _ENC
    if _ENC is None:
        import tiktoken
        import tiktoken_ext.openai_public as pub
        from tiktoken.load import load_tiktoken_bpe

        path = o200k_file()
        if path is None:
            raise RuntimeError("o200k_base.tiktoken not found; set O200K_FILE")
        real = load_tiktoken_bpe

        def local(_url, expected_hash=None):
            return real(path, expected_hash=expected_hash)

        pub.load_tiktoken_bpe = local
        try:
            _ENC = tiktoken.Encoding(**pub.o200k_base())
        finally:
            pub.load_tiktoken_bpe = real
    return _ENC


def count_tokens(text: str) -> int:
    return len(o200k().encode(text, disallowed_special=()))


# ---- stats --------------------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float:
    """q-th percentile (0..100), nearest-rank; NaN for an empty list."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt_ms(s: float) -> str:
    ms = s * 1000.0
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def fmt_mb(b: float) -> str:
    return f"{b / 1e6:.1f} MB"
