#!/usr/bin/env python
"""Benchmark: the work of the capture group commit, in process, with figures a busy machine barely moves.

    .venv/bin/python scripts/bench/capture_write.py [--db postgresql|sqlite] [--groups 300] [--size 2] [--reps 3]

The same realistic single events as ``capture.py`` (one in five commissions a new lot) are
prepared first (schema, hash: not measured), then stored by ``GroupCommit._write`` in groups of
--size, one after another in this thread.  Printed per event: the thread's CPU time of each
repetition (``time.thread_time``: waiting for the database is not counted), then, counted once,
the SQL statements (SELECTs among them) and the Python function calls (cProfile) the writes
made; the same for ``authenticate`` (session, API key lookup, close) per request.  The counts
do not depend on load: compare them, and the CPU times of runs made in the same window."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

from capture import Events, bootstrap
from common import arguments, migrated, scratch_database
from sqlalchemy import event
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
