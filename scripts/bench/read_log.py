#!/usr/bin/env python
"""Benchmark: the cost of a logged read that names its owners (``write_log.record``: the entry, its
outbox row and its ``audit_read_owner`` rows, one transaction) and of an owner's listing
(``read_log.reads_of``, 200 rows out of ~21,000 entries spread over 49 owners).

    .venv/bin/python scripts/bench/read_log.py [--db sqlite|postgresql] [--n 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

from common import fresh_database
from sqlalchemy import insert
from sqlmodel import Session

from traceability_api.authority import write_log
from traceability_api.authority.models import ReadOwner
from traceability_api.authority.read_log import reads_of
from traceability_api.db import make_engine, migrate
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.db, Path(tmp)) as url:
        engine = make_engine(url)
        migrate(engine)
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

        for label, owners in (("no owners", []), ("2 owners", ids[1:3]), ("20 owners", ids[1:21])):
            print(f"[{args.db}] record, {label}: {median_ms(lambda o=owners: record(o), args.n):.2f} ms median")  # noqa: T201
        for i in range(20):
            with Session(engine) as s:
                for j in range(1000):
                    (eid,) = write_log.write_entries(s, [write_log._row(reader, "GET", "/x", 200)])
                    s.execute(insert(ReadOwner), [{"entry_id": eid, "org_id": ids[1 + (i * 1000 + j) % 49]}])
                s.commit()
        owner = Principal(1, "a", Role.auditor, ids[5], OrgKind.cooperative)
        with Session(engine) as s:
            ms = median_ms(lambda: reads_of(s, owner, 0, 200), 50)
        print(f"[{args.db}] reads_of, 200 rows of ~21,000 entries: {ms:.2f} ms median")  # noqa: T201
        engine.dispose()


if __name__ == "__main__":
    main()
