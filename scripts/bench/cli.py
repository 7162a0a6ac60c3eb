#!/usr/bin/env python
"""Benchmark: start-up time of ``agritrace --help`` and of a real ``agritrace create-org`` (a
command that needs no chain: database, migrations, one organisation) beside bare Python
(``python -c pass``, the reference) and ``import typer``.

    .venv/bin/python scripts/bench/cli.py [--repeat 3]

Each command runs as a fresh process (create-org in a fresh SQLite data directory, a new name each
run); prints each run's wall time, min and median, and the ratio of each agritrace command (median)
to the reference.  A figure, not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import typer"': [sys.executable, "-c", "import typer"],
    "agritrace --help": [str(BIN / "agritrace"), "--help"],
    "agritrace create-org --help": [str(BIN / "agritrace"), "create-org", "--help"],
    "agritrace create-org (SQLite)": [str(BIN / "agritrace"), "create-org", "--kind", "cooperative", "--name"],
}
_names = itertools.count(1)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    if cmd[-1] == "--name":
        cmd = [*cmd, f"Bench {next(_names)}"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    median: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
        env["AGRITRACE_DATA_DIR"] = tmp
        for name, cmd in COMMANDS.items():
            runs = [timed(cmd, env) for _ in range(args.repeat)]
            median[name] = statistics.median(runs)
            print(f"{name:32} min {min(runs) * 1000:6.0f} ms  median {median[name] * 1000:6.0f} ms   "  # noqa: T201
                  f"runs: {', '.join(f'{r * 1000:.0f}' for r in runs)} ms")  # fmt: skip
    ref = median["python -c pass"]
    for name in COMMANDS:
        if name.startswith("agritrace"):
            print(f"{name} / python -c pass (medians): {median[name] / ref:.1f}x")  # noqa: T201


if __name__ == "__main__":
    main()
