#!/usr/bin/env python
"""Benchmark: full upstream + downstream trace of one lot in a database of 1,000,000 events and
100,000 lots (PostgreSQL by default).

    .venv/bin/python scripts/bench/trace.py [--db postgresql|sqlite] [--events 1000000] [--lots 100000]

The data set is generated in SQL (capturing a million events through the API would measure
capture, not trace): 60 % paddy lots, 20 % milled lots each made from 3 paddy lots, 12 % blends
of 2 milled lots, 8 % retail packs; ~10 events per lot, custody events among them.  Then
trace.graph() -- the function behind GET /api/v1/trace/lots/{id} -- runs for random lots.
"""

from __future__ import annotations

import random
import statistics
import time

from common import arguments, migrated, scratch_database
from sqlalchemy import text
from sqlmodel import Session

from traceability_api.authority import trace


def generate(engine, n_lots: int, n_events: int) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    l0, l1, l2 = int(n_lots * 0.6), int(n_lots * 0.2), int(n_lots * 0.12)
    l3 = n_lots - l0 - l1 - l2
    pg = engine.dialect.name == "postgresql"
    series = (
        "generate_series(1, {n}) AS g(i)"
        if pg
        else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < {n}) SELECT i FROM s) AS g"
    )
    ts = "now()" if pg else "CURRENT_TIMESTAMP"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO organisation (id, name, kind, public_profile, created_at) VALUES "
                "(1, 'HTX', 'cooperative', true, " + ts + ")"
                if pg
                else "INSERT INTO organisation (id, name, kind, public_profile, created_at) VALUES (1, 'HTX', 'cooperative', 1, "
                + ts
                + ")"
            )
        )
        c.execute(
            text(
                "INSERT INTO member (id, org_id, name, role, active, created_at) VALUES (1, 1, 'a', "
                + ("'admin', true, " if pg else "'admin', 1, ")
                + ts
                + ")"
            )
        )
        c.execute(
            text(
                "INSERT INTO product (id, gtin, org_id, name, unit, certifications, max_yield, created_at) "
                "VALUES (1, '08930000000019', 1, 'Lúa', 'KGM', '[]', 1.0, " + ts + ")"
            )
        )
        status = "'active'"
        c.execute(
            text(
                "INSERT INTO lot (id, product_id, lot_code, owner_org_id, holder_org_id, quantity, quantity_remaining, uom, "
                f"status, ilmd, created_at) SELECT i, 1, 'L' || i, 1, 1, 1000, 1000, 'KGM', {status}, '{{}}', {ts} FROM "
                + series.format(n=n_lots)
            )
        )
        # one anchor event per lineage edge's transformation is implied; edges reference event 1
        c.execute(
            text(
                f"INSERT INTO event (id, org_id, member_id, client_event_id, hash_id, event_type, biz_step, "
                f"event_time, record_time, document) SELECT i, 1, 1, 'e' || i, 'h' || i, 'ObjectEvent', "
                f"CASE WHEN i % 10 = 3 THEN 'https://ref.gs1.org/cbv/BizStep-shipping' "
                f"WHEN i % 10 = 4 THEN 'https://ref.gs1.org/cbv/BizStep-receiving' "
                f"ELSE 'https://ref.gs1.org/cbv/BizStep-inspecting' END, {ts}, {ts}, '{{\"type\": \"ObjectEvent\"}}' "
                f"FROM " + series.format(n=n_events)
            )
        )
        c.execute(
            text(
                f"INSERT INTO event_lot (event_id, lot_id, role, quantity, uom) "
                f"SELECT i, 1 + (i % {n_lots}), 'epc', 10, 'KGM' FROM " + series.format(n=n_events)
            )
        )
        # lineage: L1 <- 3 x L0, L2 <- 2 x L1, L3 <- 1 x L2
        c.execute(
            text(
                f"INSERT INTO lot_link (parent_lot_id, child_lot_id, event_id, quantity) "
                f"SELECT 1 + ((i * 3 + k) % {l0}), {l0} + 1 + (i % {l1}), 1, 100 FROM "
                + series.format(n=l1)
                + ", (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2) AS kk"
            )
        )
        c.execute(
            text(
                f"INSERT INTO lot_link (parent_lot_id, child_lot_id, event_id, quantity) "
                f"SELECT {l0} + 1 + ((i * 2 + k) % {l1}), {l0 + l1} + 1 + (i % {l2}), 1, 100 FROM "
                + series.format(n=l2)
                + ", (SELECT 0 AS k UNION ALL SELECT 1) AS kk"
            )
        )
        c.execute(
            text(
                f"INSERT INTO lot_link (parent_lot_id, child_lot_id, event_id, quantity) "
                f"SELECT {l0 + l1} + 1 + (i % {l2}), {l0 + l1 + l2} + 1 + (i % {l3}), 1, 100 FROM "
                + series.format(n=l3)
            )
        )
        if pg:
            for t in ("lot", "event", "event_lot", "lot_link"):
                c.execute(text(f"ANALYZE {t}"))
    return l0, l1, l2


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--lots", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=50)
    a = ap.parse_args()
    with scratch_database(a.db) as (tmp, url):
        engine = migrated(url)
        t0 = time.perf_counter()
        l0, l1, l2 = generate(engine, a.lots, a.events)
        print(f"generated {a.lots:,} lots and {a.events:,} events in {time.perf_counter() - t0:.0f} s")  # noqa: T201
        rng = random.Random(7)
        times, sizes = [], []
        with Session(engine) as s:
            for _ in range(a.samples):
                lot = l0 + 1 + rng.randrange(l1)  # a milled lot: paddy upstream, blends and retail downstream
                t = time.perf_counter()
                g = trace.graph(s, lot, "both")
                times.append(time.perf_counter() - t)
                sizes.append((len(g["nodes"]), len(g["edges"]), len(g["custody"])))
        times.sort()
        p50, p95 = statistics.median(times), times[int(0.95 * len(times)) - 1]
        n, e, cu = (statistics.mean(x) for x in zip(*sizes, strict=True))
        print(  # noqa: T201
            f"trace[{a.db}] full upstream+downstream of a lot ({n:.0f} lots, {e:.0f} edges, {cu:.0f} custody events "
            f"on average): p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
