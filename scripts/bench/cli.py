#!/usr/bin/env python
"""Benchmark: start-up time of ``agritrace --help`` beside bare Python and ``import typer``.

    .venv/bin/python scripts/bench/cli.py [--repeat 3]

Each command runs as a fresh process; prints each run's wall time, the best of the runs and the
ratio of ``agritrace --help`` to the reference.  A figure, not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import typer"': [sys.executable, "-c", "import typer"],
    "agritrace --help": [str(BIN / "agritrace"), "--help"],
    "agritrace create-org --help": [str(BIN / "agritrace"), "create-org", "--help"],
}


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    best: dict[str, float] = {}
    for name, cmd in COMMANDS.items():
        runs = [timed(cmd) for _ in range(args.repeat)]
        best[name] = min(runs)
        print(f"{name:32} best {best[name] * 1000:7.0f} ms   runs: {', '.join(f'{r * 1000:.0f}' for r in runs)} ms")  # noqa: T201
    help_s = best["agritrace --help"]
    for ref in ("python -c pass", 'python -c "import typer"'):
        print(f"agritrace --help / {ref}: {help_s / best[ref]:.1f}x")  # noqa: T201


if __name__ == "__main__":
    main()
