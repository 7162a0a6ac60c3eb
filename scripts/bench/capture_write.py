#!/usr/bin/env python
"""Benchmark: the work of the capture group commit, in process, with figures a busy machine barely moves.

    .venv/bin/python scripts/bench/capture_write.py [--db postgresql|sqlite] [--groups 300] [--size 2] [--reps 3]
                                                    [--fsma-triggers]   (PostgreSQL)

The same realistic single events as ``capture.py`` (one in five commissions a new lot) are
prepared first (schema, hash: not measured), then stored by ``GroupCommit._write`` in groups of
--size, one after another in this thread.  Printed per event: the thread's CPU time of each
repetition (``time.thread_time``: waiting for the database is not counted), then, counted once,
the SQL statements (SELECTs among them) and the Python function calls (cProfile) the writes
made; the same for ``authenticate`` (session, API key lookup, close) per request.  The counts
do not depend on load: compare them, and the CPU times of runs made in the same window.

--fsma-triggers: what the triggers that mark FSMA rows stale (migration 0024) cost capture.  Each
repetition writes the same number of groups twice, interleaved, once with the triggers and once
with them disabled (``ALTER TABLE ... DISABLE TRIGGER USER``); printed per event for each: the wall
time, this thread's CPU and the CPU of the database's backends (/proc of the server processes
serving the scratch database), and the ratio with/without."""

from __future__ import annotations

import cProfile
import importlib
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

from capture import Events, bootstrap
from common import arguments, cpu_s, migrated, scratch_database
from sqlalchemy import event, text
from sqlmodel import Session

from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.events.capture import DEFAULT_CONTEXT, prepare_events
from traceability_api.events.group_commit import GroupCommit, _Job
from traceability_api.parties.service import authenticate


def counted(engine: Any, fn: Callable[[], object]) -> tuple[list[str], int]:
    """The statements ``fn`` ran and the Python function calls it made."""
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    profile = cProfile.Profile()
    try:
        profile.runcall(fn)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return statements, pstats.Stats(profile).total_calls  # type: ignore[attr-defined]


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--groups", type=int, default=300)
    ap.add_argument("--size", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--fsma-triggers", action="store_true", help="A/B: with and without the FSMA triggers")
    args = ap.parse_args()
    if args.fsma_triggers and args.db != "postgresql":
        ap.error("--fsma-triggers: PostgreSQL only (SQLite cannot disable a trigger)")
    with scratch_database(args.db) as (_, url):
        key = bootstrap(url, 8)
        engine = migrated(url)
        settings = Settings()
        writer = GroupCommit(engine, settings, CAPTURE_CHECKS)
        with Session(engine) as s:
            p = authenticate(s, key)
        streams = [Events(i, 1234 + i) for i in range(8)]
        made = iter(range(10**9))

        def group() -> list[_Job]:
            events = [streams[next(made) % 8].next() for _ in range(args.size)]
            return [_Job(p, prepare_events([e], DEFAULT_CONTEXT, settings)[0], None) for e in events]

        def write_all(groups: list[list[_Job]]) -> None:
            for g in groups:
                writer._write(g)
            failed = [j.error for g in groups for j in g if j.error is not None]
            assert not failed, failed[:1]

        def sign_in() -> None:
            for _ in range(args.groups):
                with Session(engine) as s:
                    authenticate(s, key)

        write_all([group() for _ in range(30)])  # warm: statements compiled and prepared
        n = args.groups * args.size
        if args.fsma_triggers:
            triggers_ab(engine, group, write_all, args.groups, n, args.reps)
            engine.dispose()
            return
        cpu, auth = [], []
        for _ in range(args.reps):
            groups = [group() for _ in range(args.groups)]
            t0 = time.thread_time()
            write_all(groups)
            cpu.append((time.thread_time() - t0) / n * 1000)
            t0 = time.thread_time()
            sign_in()
            auth.append((time.thread_time() - t0) / args.groups * 1000)
        groups = [group() for _ in range(args.groups)]
        statements, calls = counted(engine, lambda: write_all(groups))
        selects = sum(1 for x in statements if x.lstrip().upper().startswith("SELECT"))
        a_statements, a_calls = counted(engine, sign_in)
        engine.dispose()
    print(f"capture write[{args.db}] groups of {args.size}, {args.groups} groups per repetition")  # noqa: T201
    print(f"  CPU per event     {' '.join(f'{x:.3f}' for x in cpu)} ms (min {min(cpu):.3f})")  # noqa: T201
    print(f"  per event         {len(statements) / n:.2f} statements ({selects / n:.2f} SELECT), "  # noqa: T201
          f"{calls / n:,.0f} Python calls")  # fmt: skip
    print(f"  authenticate CPU  {' '.join(f'{x:.3f}' for x in auth)} ms per request (min {min(auth):.3f}); "  # noqa: T201
          f"{len(a_statements) / args.groups:.2f} statements, {a_calls / args.groups:,.0f} Python calls")  # fmt: skip


def triggers_ab(engine: Any, group: Callable[[], list[_Job]], write_all: Callable[[list[list[_Job]]], None],
                groups: int, n: int, reps: int) -> None:  # fmt: skip
    migration = importlib.import_module("traceability_api.migrations.versions.0024_fsma_cache")
    tables = sorted(set(migration.TRIGGERS.values()))  # the tables its triggers are on

    def switch(on: bool) -> None:
        with engine.begin() as c:
            for t in tables:
                c.execute(text(f"ALTER TABLE {t} {'ENABLE' if on else 'DISABLE'} TRIGGER USER"))

    def backends() -> list[int]:
        with engine.connect() as c:
            q = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            return [int(x) for x in c.execute(text(q)).scalars()]

    figures: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
    for rep in range(reps):
        for on in (True, False) if rep % 2 == 0 else (False, True):
            switch(on)
            batch = [group() for _ in range(groups)]
            pids = backends()
            db0, w0, t0 = cpu_s(pids), time.perf_counter(), time.thread_time()
            write_all(batch)
            t1, w1, db1 = time.thread_time(), time.perf_counter(), cpu_s(pids)
            figures[on].append(((w1 - w0) / n * 1000, (t1 - t0) / n * 1000, (db1 - db0) / n * 1000))
    switch(True)
    print(f"capture write[postgresql] groups of {n // groups}, {groups} groups per repetition, FSMA triggers A/B")  # noqa: T201
    med = {on: [statistics.median(f[i] for f in figures[on]) for i in range(3)] for on in figures}
    for on in (True, False):
        runs = "  ".join(f"{w:.3f}/{c:.3f}/{d:.3f}" for w, c, d in figures[on])
        label = "with triggers   " if on else "without triggers"
        print(f"  {label} wall/Python CPU/database CPU ms per event: {runs}")  # noqa: T201
    for i, name in enumerate(("wall", "Python CPU", "database CPU")):
        print(f"  median {name:13} with {med[True][i]:.3f}  without {med[False][i]:.3f}  "  # noqa: T201
              f"ratio {med[True][i] / med[False][i]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
