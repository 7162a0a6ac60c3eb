#!/usr/bin/env python
"""Profile of the consumer page on the real server (py-spy sampling the uvicorn process).

    .venv/bin/python scripts/bench/profile_consumer.py [--lots 60] [--seconds 10] [--mode uncached]

Seeds the lots of scripts/bench/consumer.py, starts the service in ``--mode`` (as in consumer.py:
``recomputed`` or ``uncached``), puts it under the benchmark's load (20 clients, distinct URLs) and
samples it with py-spy for ``--seconds``.  Prints the share of samples (of the busy ones, idle event-loop
waits left out) spent in each of the parts of a request named in PARTS, inclusive.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from consumer import MODES, load, seeded_site

from chain.node import AnvilNode, free_port

REPO = Path(__file__).resolve().parents[2]
# (label, substring of a frame "function (file:line)") in the order printed; first match per part counts once
PARTS = [
    ("whole request handler (_resolve)", "_resolve (traceability_api/consumer/router.py"),
    ("  data stamp query", "data_stamp ("),
    ("  lot/product/serial lookups (_find)", "_find (traceability_api/consumer/router.py"),
    ("  scan log buffer", "scan_row ("),
    ("  build_lot_view (load + verify + view model)", "build_lot_view ("),
    ("    verify_events", "verify_events ("),
    ("  Jinja render", "lot_page (consumer_site/render.py"),
    ("  compression", "encode (traceability_api/consumer/encoding.py"),
    ("Digital Link parse (strict_link dependency)", "strict_link ("),
    ("session open/close (SessionDep)", "get_session ("),
    ("SQLAlchemy execute (anywhere)", "execute (sqlalchemy/orm/session.py"),
    ("write-log middleware", "write_log.py"),
    ("rate-limit / body-limit middleware", "body_limits.py"),
    ("uvicorn HTTP protocol", "httptools_impl.py"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lots", type=int, default=60)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--mode", choices=["recomputed", "uncached", "cached"], default="uncached")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node:
        paths, env = seeded_site(tmp, node, a.lots)
        env |= MODES[a.mode]
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory",
                                 "--port", str(port), "--log-level", "warning", "--no-access-log"],
                                env={**os.environ, **env, "PYTHONPATH": str(REPO)}, cwd=REPO)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            load(base, paths, 20, 2.0)  # warm
            raw = Path(tmp) / "profile.txt"
            result: dict[str, float] = {}
            loader = threading.Thread(target=lambda: result.update(load(base, paths, 20, a.seconds + 2)))
            loader.start()
            spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(proc.pid), "--rate", "250",
                   "--duration", str(int(a.seconds)), "--format", "raw", "--nonblocking", "-o", str(raw)]  # fmt: skip
            subprocess.run(spy, check=True, capture_output=True)
            loader.join()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        stacks: collections.Counter[str] = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            stacks[stack] += int(n)
        waits = ("select (selectors.py", "Condition.wait (threading.py", "Queue.get (queue.py")
        busy = {s: n for s, n in stacks.items() if not any(w in s.rsplit(";", 3)[-1] for w in waits)}
        total = sum(busy.values())
        print(f"{a.mode}: {result.get('rps', 0):.0f} req/s under py-spy; {total} busy samples "  # noqa: T201
              f"({sum(stacks.values())} in all, idle loop waits left out)")  # fmt: skip
        for label, needle in PARTS:
            n = sum(c for s, c in busy.items() if needle in s)
            print(f"  {label:48s} {100 * n / total:5.1f} %")  # noqa: T201
        inclusive: collections.Counter[str] = collections.Counter()
        for s, n in busy.items():
            for frame in set(s.split(";")):
                inclusive[frame] += n
        print(f"top {a.top} frames, inclusive:")  # noqa: T201
        for frame, n in inclusive.most_common(a.top):
            print(f"  {100 * n / total:5.1f} %  {frame[:150]}")  # noqa: T201


if __name__ == "__main__":
    main()
