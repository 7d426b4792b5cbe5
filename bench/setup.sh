#!/usr/bin/env bash
# Creates /work/main/.venv-bench (or $BENCH_VENV) with the peer (FastMCP) and the official MCP client.
# Idempotent: re-running only installs what is missing. Versions are pinned to the ones measured.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${BENCH_VENV:-$here/../.venv-bench}"
py="${BENCH_PYTHON:-}"
if [ -z "$py" ]; then
  for cand in /root/.pyenv/versions/3.12.1/bin/python3 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1; then py="$cand"; break; fi
  done
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python" - <<'PY'
import fastmcp, mcp, httpx
print("fastmcp", fastmcp.__version__)
PY
