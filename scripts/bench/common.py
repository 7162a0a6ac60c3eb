"""Helpers shared by the benchmarks: a fresh database (migrated), a bootstrapped organisation, a server,
clients in threads."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psycopg

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from traceability_api.parties.models import ApiKeyIssued, Organisation
    from traceability_api.parties.service import Principal

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
def scratch_database(kind: str) -> Iterator[tuple[str, str]]:
    """A temporary directory and, in it or beside it, a fresh database of ``kind``: (directory, URL)."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        yield tmp, url


def arguments(doc: str | None, db: str | None = None) -> argparse.ArgumentParser:
    """A bench's command line: its docstring as the help, and with ``db`` an option ``--db``
    (postgresql or sqlite, ``db`` by default)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if db is not None:
        ap.add_argument("--db", choices=["postgresql", "sqlite"], default=db)
    return ap


def timed(fn: Callable[[], object], reps: int) -> list[float]:
    """The seconds of each of ``reps`` calls of ``fn``."""
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


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


def migrated(url: str) -> Engine:
    """The engine of a database at the service's schema (every migration applied)."""
    from traceability_api.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    return engine


def cooperative(
    s: Session, name: str = "HTX", gtin: str | None = None, product: str = "Lúa"
) -> tuple[Organisation, ApiKeyIssued, Principal]:
    """A cooperative with its admin ``a`` (and, given a GTIN, its product): the organisation, what its
    creation issued (the admin's API key) and the admin's principal, in ``s`` (not committed)."""
    from traceability_api.lots.models import ProductCreate
    from traceability_api.lots.service import create_product
    from traceability_api.parties.models import OrganisationCreate
    from traceability_api.parties.service import Principal, create_organisation

    org, issued = create_organisation(s, OrganisationCreate(name=name, kind="cooperative", admin_name="a"))  # type: ignore[arg-type]
    p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
    if gtin is not None:
        create_product(s, p, ProductCreate(gtin=gtin, name=product))
    return org, issued, p


def run_threads(targets: list[Callable[[], object]], ready: threading.Barrier | None = None) -> float:
    """Runs each target in a thread of its own until the last ends; the seconds that took, counted from
    the first start, or with ``ready`` (a barrier the targets and this call wait at) from when all are ready."""
    threads = [threading.Thread(target=t) for t in targets]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    if ready is not None:
        ready.wait()
        t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def profiler(base: str, seconds: float, out: str) -> subprocess.Popen[bytes]:
    """py-spy (from PyPI, a sampling profiler that attaches to the running server and its
    workers without changing them) recording collapsed stacks of the server for ``seconds``; with
    ``--gil`` it samples only threads holding the GIL: where the CPU goes, not where threads wait."""
    port = base.rsplit(":", 1)[1]
    pid = subprocess.run(["pgrep", "-f", "--", f"--port {port} "], capture_output=True, text=True).stdout.split()[0]
    spy = Path(sys.executable).parent / "py-spy"
    cmd = [str(spy), "record", "-p", pid, "--subprocesses", "-d", str(max(1, int(seconds) - 1)), "-r", "200",
           "-f", "raw", "-o", out, "--nonblocking", "--gil"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
