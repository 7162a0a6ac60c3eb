#!/usr/bin/env python
"""Benchmark: national-record completeness by organisation and record exports, on the data set of
scripts/bench/trace.py (PostgreSQL by default).

    .venv/bin/python scripts/bench/national_record.py [--db postgresql|sqlite] [--events 1000000] [--lots 100000]

Measures completeness_by_org() over every lot (what the console's /app/console/national-record page
and GET /api/v1/national-record/completeness run), a period export page of 100 records
(GET /api/v1/exports/national-record) with and without proof bundles, and single records, against
a plain count of the lots in the same run (the floor).
"""

from __future__ import annotations

import statistics
import time
from trace import generate  # scripts/bench/trace.py (first on sys.path), not the standard library's

from common import arguments, migrated, scratch_database, timed
from sqlmodel import Session, col, func, select

from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product
from traceability_api.national.completeness import completeness_by_org
from traceability_api.national.export import record_set
from traceability_api.national.record import national_record
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.service import Principal

AUTHORITY = Principal(0, "bench", Role.auditor, 0, OrgKind.authority)


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--lots", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    with scratch_database(a.db) as (tmp, url):
        engine = migrated(url)
        t0 = time.perf_counter()
        generate(engine, a.lots, a.events)
        print(f"generated {a.lots:,} lots and {a.events:,} events in {time.perf_counter() - t0:.0f} s")  # noqa: T201
        with Session(engine) as s:
            floor = timed(lambda: s.exec(select(func.count()).select_from(Lot)).one(), a.reps)
            join = select(EventLot.lot_id, func.count()).join(Event, col(Event.id) == EventLot.event_id)
            scan = timed(lambda: s.exec(join.group_by(col(EventLot.lot_id))).all(), a.reps)  # type: ignore[call-overload]
            figures = timed(lambda: completeness_by_org(s), a.reps)
            rows = completeness_by_org(s)

            def export(bundles: bool) -> None:
                record_set(s, AUTHORITY, since=None, until=None, org_id=None, base_url="https://x", contract=None,
                           with_bundles=bundles)  # fmt: skip

            page = timed(lambda: export(False), a.reps)
            bundles = timed(lambda: export(True), a.reps)
            lot = s.get(Lot, int(a.lots * 0.9))  # a retail pack: three levels of inputs upstream
            assert lot is not None
            product = s.get(Product, lot.product_id)
            assert product is not None
            one = timed(lambda: national_record(s, lot, product, base_url="https://x"), a.reps * 5)
        med = statistics.median
        print(f"lots judged: {sum(r['lots'] for r in rows):,} in {len(rows)} organisation(s)")  # noqa: T201
        print(f"count(*) of lots (floor): median {med(floor) * 1000:.0f} ms")  # noqa: T201
        print(f"events per lot, one grouped join (floor of any per-lot stage figure): median {med(scan):.2f} s")  # noqa: T201
        print(f"completeness_by_org, every lot: median {med(figures):.2f} s (min {min(figures):.2f}),"  # noqa: T201
              f" {med(figures) / med(scan):.1f}x the grouped join")  # fmt: skip
        print(f"export page of 100 records, no bundles: median {med(page):.2f} s")  # noqa: T201
        print(f"export page of 100 records with bundles: median {med(bundles):.2f} s")  # noqa: T201
        print(f"one record with bundle (retail lot, 3 levels up): median {med(one) * 1000:.0f} ms")  # noqa: T201


if __name__ == "__main__":
    main()
