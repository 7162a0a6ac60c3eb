#!/usr/bin/env python
"""Benchmark: the cost of a logged read that names its owners (``write_log.record``: the entry, its
outbox row and its ``audit_read_owner`` rows, one transaction) and of an owner's listing
(``read_log.reads_of``, 200 rows out of ~21,000 entries spread over 49 owners).

    .venv/bin/python scripts/bench/read_log.py [--db sqlite|postgresql] [--n 300] [--reps 3]

References measured in the same run: one bare ``INSERT`` of an audit-log row in its own
transaction (for ``record``), and a bare ``SELECT`` of 200 audit-log rows by id (for the listing);
each figure is printed with its ratio to its reference, min and median over the repetitions.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace

from common import arguments, migrated, scratch_database
from sqlalchemy import insert, text
from sqlmodel import Session

from traceability_api.authority import write_log
from traceability_api.authority.models import ReadOwner
from traceability_api.authority.read_log import reads_of
from traceability_api.parties.kinds import OrgKind
from traceability_api.parties.models import Member, Organisation, Role
from traceability_api.parties.service import Principal


def median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def report(db: str, runs: dict[str, list[float]]) -> None:
    """Each case's median ms per repetition (min, median of them) and its ratio to the first case."""
    ref = statistics.median(next(iter(runs.values())))
    for name, ms in runs.items():
        med = statistics.median(ms)
        print(f"[{db}] {name:<36} min {min(ms):7.2f} ms  median {med:7.2f} ms  = {med / ref:5.1f} x reference")  # noqa: T201


def main() -> None:
    ap = arguments(__doc__, db="sqlite")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    with scratch_database(args.db) as (tmp, url):
        engine = migrated(url)
        with Session(engine) as s:
            orgs = [Organisation(name=f"O{i}", kind=OrgKind.authority if i == 0 else OrgKind.cooperative)
                    for i in range(50)]  # fmt: skip
            s.add_all(orgs)
            s.commit()
            ids = [o.id or 0 for o in orgs]
            member = Member(org_id=ids[0], name="chicuc", role=Role.admin)
            s.add(member)
            s.commit()
            reader = SimpleNamespace(org_id=ids[0], member_id=member.id)

        def record(owners: Sequence[int]) -> None:
            write_log.record(engine, reader, "GET", "/app/console/lots/1", 200, owners)

        def bare_insert() -> None:  # the reference: one row, its own transaction, nothing else
            with engine.begin() as c:
                c.execute(text("INSERT INTO audit_log (at, org_id, member_id, method, path, status, digest) "
                               "VALUES (CURRENT_TIMESTAMP, :o, :m, 'GET', '/x', 200, :d)"),
                          {"o": reader.org_id, "m": reader.member_id, "d": "0" * 64})  # fmt: skip

        cases: dict[str, Callable[[], object]] = {
            "bare INSERT (reference)": bare_insert,
            "record, no owners": lambda: record([]),
            "record, 2 owners": lambda: record(ids[1:3]),
            "record, 20 owners": lambda: record(ids[1:21]),
        }
        report(args.db, {k: [median_ms(f, args.n) for _ in range(args.reps)] for k, f in cases.items()})
        for i in range(20):
            with Session(engine) as s:
                for j in range(1000):
                    (eid,) = write_log.write_entries(s, [write_log._row(reader, "GET", "/x", 200)])
                    s.execute(insert(ReadOwner), [{"entry_id": eid, "org_id": ids[1 + (i * 1000 + j) % 49]}])
                s.commit()
        owner = Principal(1, "a", Role.auditor, ids[5], OrgKind.cooperative)
        bare_select = text("SELECT * FROM audit_log ORDER BY id LIMIT 200")
        with Session(engine) as s:
            listing: dict[str, Callable[[], object]] = {
                "bare SELECT of 200 rows (reference)": lambda: s.execute(bare_select).all(),
                "reads_of, 200 of ~21,000 entries": lambda: reads_of(s, owner, 0, 200),
            }
            report(args.db, {k: [median_ms(f, 50) for _ in range(args.reps)] for k, f in listing.items()})
        engine.dispose()


if __name__ == "__main__":
    main()
