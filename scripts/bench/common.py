"""Helpers shared by the benchmarks: a fresh database, a bootstrapped organisation, a server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
PG_DSN = os.environ.get("AGRITRACE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    schema = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{PG_DSN}?options=-csearch_path%3D{schema}"
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def server(env: dict[str, str], workers: int) -> Iterator[str]:
    from chain.node import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory",
           "--workers", str(workers), "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, **env, "PYTHONPATH": str(REPO)}, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def server_pids(base: str) -> list[int]:
    """The server process (found by its port, as capture.py's profiler does) and its workers."""
    port = base.rsplit(":", 1)[1]
    found = subprocess.run(["pgrep", "-f", "--", f"--port {port} "], capture_output=True, text=True).stdout.split()
    pids = [int(p) for p in found]
    for pid in list(pids):
        pids += [
            int(c) for c in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        ]
    return pids


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (every thread; /proc/PID/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    return total / os.sysconf("SC_CLK_TCK")
