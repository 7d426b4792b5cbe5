#!/usr/bin/env python3
"""How often a search answer shows the right operation: declared, or at least named.

Renders the real answer (`codemode search --spec SPEC QUERY`, default budget) for every query of
a query set (`api<TAB>query<TAB>gold`, e.g. ../shared/search-dev.tsv) and looks for a gold
`METHOD /path` among the declared operations (the numbered list above the declarations) and the
"Also ranked" list below them.

    cargo build --release -p codemode-cli
    python3 bench/answer_visibility.py target/release/codemode ../shared/search-dev.tsv
"""

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SPECS = {
    "github": "github-api.github.com.json.gz",
    "cloudflare": "cloudflare-openapi.json",
    "stripe": "stripe-spec3.yaml",
    "kubernetes": "kubernetes-swagger.json",
    "openai": "openai-openapi.yaml",
    "discord": "discord-openapi.json",
    "petstore": "petstore3-openapi.yaml",
}
DIGITALOCEAN_ROOT = "digitalocean-openapi/specification/DigitalOcean-public.v2.yaml"


def spec_paths(specs_dir: Path, scratch: Path) -> dict:
    paths = {api: specs_dir / name for api, name in SPECS.items()}
    with tarfile.open(specs_dir / "digitalocean-openapi.tar.gz") as archive:
        archive.extractall(scratch, filter="data")
    paths["digitalocean"] = scratch / DIGITALOCEAN_ROOT
    return paths


def listed_keys(lines):
    """`METHOD /path` of every `N. METHOD /path → api.name` line."""
    keys = []
    for line in lines:
        head, sep, _ = line.partition(" → api.")
        number, dot, key = head.partition(". ")
        if sep and dot and number.isdigit():
            keys.append(key)
    return keys


def main() -> None:
    binary = sys.argv[1]
    queries = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/search-dev.tsv")
    specs_dir = queries.parent / "specs"
    rows = [
        line.rstrip("\n").split("\t")
        for line in queries.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    declared = named = trimmed = 0
    with tempfile.TemporaryDirectory() as scratch:
        paths = spec_paths(specs_dir, Path(scratch))
        for api, query, gold in rows:
            wanted = {g.strip() for g in gold.split("|")}
            answer = subprocess.run(
                [binary, "search", "--spec", str(paths[api]), query],
                capture_output=True, text=True, check=True,
            ).stdout
            head, _, rest = answer.partition("```ts")
            tail = rest.split("```", 1)[1] if "```" in rest else ""
            shown = listed_keys(head.splitlines())
            more = listed_keys(tail.splitlines())
            declared += bool(wanted & set(shown))
            named += bool(wanted & set(shown + more))
            trimmed += "descriptions left out" in answer
    print(f"{len(rows)} queries: gold declared {declared}, gold named anywhere {named}, "
          f"answers with descriptions dropped to fit {trimmed}")


if __name__ == "__main__":
    main()
