#!/usr/bin/env python
"""Benchmark: open-data regeneration (every dataset as CSV and JSON, digests, storage) at a
province's size, against a reference measured in the same run on the same database.

    .venv/bin/python scripts/bench/opendata.py [--db postgresql|sqlite] [--lots 100000] [--events 500000]

Data set (generated in SQL): 200 cooperatives, 1,000 products, 20,000 coded plots with a commune in
their address, ``--lots`` harvest lots over 24 months each with its commissioning event, and other
events up to ``--events``.  Reference: the bare ``SELECT ... GROUP BY`` of the same four tables
(volumes grouped by month, product and plot in SQL) written with ``csv.writer`` and ``json.dumps``,
nothing stored.  Each is run three times; the ratio is build / reference (median of three).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import time
from pathlib import Path

from common import arguments, migrated, scratch_database
from sqlalchemy import text
from sqlalchemy.engine import Engine

from traceability_api.config import Settings
from traceability_api.opendata.build import build

COMMISSIONING = "https://ref.gs1.org/cbv/BizStep-commissioning"


def generate(engine: Engine, n_lots: int, n_events: int) -> None:
    pg = engine.dialect.name == "postgresql"
    series = (
        "generate_series(1, {n}) AS g(i)"
        if pg
        else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < {n}) SELECT i FROM s) AS g"
    )
    ts, yes = ("now()", "true") if pg else ("CURRENT_TIMESTAMP", "1")
    day = "DATE '2024-01-01' + (i % 730)" if pg else "date('2024-01-01', '+' || (i % 730) || ' days')"
    statements = [
        f"INSERT INTO organisation (id, name, kind, address, public_profile, created_at) SELECT i, 'HTX số ' || i, "
        f"'cooperative', 'Ấp 1, xã Phú ' || i || ', huyện Cờ Đỏ', {yes}, {ts} FROM " + series.format(n=200),
        f"INSERT INTO member (id, org_id, name, role, active, created_at) SELECT i, i, 'Thành viên ' || i, 'admin', "
        f"{yes}, {ts} FROM " + series.format(n=200),
        "INSERT INTO product (id, gtin, org_id, name, unit, certifications, max_yield, created_at) SELECT i, "
        "lpad(CAST(i AS TEXT), 14, '0'), 1 + (i % 200), 'Sản phẩm ' || i, 'KGM', '[\"VietGAP\", \"OCOP 4 sao\"]', "
        f"1.0, {ts} FROM " + series.format(n=1000)
        if pg
        else "INSERT INTO product (id, gtin, org_id, name, unit, certifications, max_yield, created_at) SELECT i, "
        "substr('00000000000000' || i, -14, 14), 1 + (i % 200), 'Sản phẩm ' || i, 'KGM', "
        f'\'["VietGAP", "OCOP 4 sao"]\', 1.0, {ts} FROM ' + series.format(n=1000),
        "INSERT INTO place (id, org_id, kind, name, planting_area_code, address, area_ha, created_at) SELECT i, "
        "1 + (i % 200), 'plot', 'Ruộng ' || i, 'VN-CT-' || i, 'Ấp 2, xã Thạnh ' || (i % 300) || ', huyện Cờ Đỏ', "
        f"1.5, {ts} FROM " + series.format(n=20_000),
        "INSERT INTO lot (id, product_id, lot_code, owner_org_id, holder_org_id, quantity, quantity_remaining, uom, "
        f"status, origin_place_id, harvest_date, ilmd, created_at) SELECT i, 1 + (i % 1000), 'L' || i, 1 + (i % 200), "
        f"1 + (i % 200), 1000, 1000, 'KGM', 'active', 1 + (i % 20000), {day}, '{{}}', {ts} FROM "
        + series.format(n=n_lots),
        "INSERT INTO event (id, org_id, member_id, client_event_id, hash_id, event_type, biz_step, event_time, "
        f"record_time, document) SELECT i, 1 + (i % 200), 1 + (i % 200), 'e' || i, 'h' || i, 'ObjectEvent', CASE WHEN "
        f"i <= {n_lots} THEN '{COMMISSIONING}' ELSE 'https://ref.gs1.org/cbv/BizStep-shipping' END, {ts}, {ts}, "
        '\'{"type": "ObjectEvent"}\' FROM ' + series.format(n=max(n_events, n_lots)),
        "INSERT INTO event_lot (event_id, lot_id, role, quantity, uom) SELECT i, 1 + ((i - 1) % "
        f"{n_lots}), 'epc', 1000, 'KGM' FROM " + series.format(n=max(n_events, n_lots)),
    ]
    with engine.begin() as c:
        for sql in statements:
            c.execute(text(sql))
        if pg:
            for t in ("organisation", "product", "place", "lot", "event", "event_lot"):
                c.execute(text(f"ANALYZE {t}"))


def reference(engine: Engine) -> int:
    """The same four tables by bare SQL (volumes grouped in SQL by month, product and plot),
    written as CSV with a BOM and as JSON; returns the bytes written."""
    pg = engine.dialect.name == "postgresql"
    month = "to_char(l.harvest_date, 'YYYY-MM')" if pg else "substr(l.harvest_date, 1, 7)"
    queries = {
        "products": "SELECT p.gtin, p.name, p.name_en, p.brand, p.unit, p.ocop_stars, o.name, o.kind FROM product p "
        "JOIN organisation o ON o.id = p.org_id ORDER BY p.gtin",
        "planting_areas": "SELECT pl.planting_area_code, pl.kind, pl.address, pl.area_ha, o.name FROM place pl "
        "JOIN organisation o ON o.id = pl.org_id WHERE pl.planting_area_code IS NOT NULL ORDER BY pl.id",
        "monthly_volumes": f"SELECT {month} AS m, p.gtin, p.name, pl.address, sum(l.quantity), l.uom, count(*) "
        "FROM lot l JOIN event_lot el ON el.lot_id = l.id JOIN event e ON e.id = el.event_id "
        "JOIN product p ON p.id = l.product_id LEFT JOIN place pl ON pl.id = l.origin_place_id "
        f"WHERE e.biz_step = '{COMMISSIONING}' GROUP BY m, p.gtin, p.name, pl.address, l.uom ORDER BY m, p.gtin",
        "certifications": "SELECT p.gtin, p.name, p.certifications FROM product p ORDER BY p.gtin",
    }
    size = 0
    with engine.connect() as c:
        for sql in queries.values():
            rows = [tuple(r) for r in c.execute(text(sql))]
            buf = io.StringIO()
            buf.write("\ufeff")
            csv.writer(buf, lineterminator="\r\n").writerows(rows)
            size += len(buf.getvalue().encode()) + len(json.dumps(rows, default=str, ensure_ascii=False).encode())
    return size


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--lots", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=500_000)
    a = ap.parse_args()
    with scratch_database(a.db) as (tmp, url):
        engine = migrated(url)
        t0 = time.perf_counter()
        generate(engine, a.lots, a.events)
        print(f"generated {a.lots:,} lots, {max(a.events, a.lots):,} events, 20,000 plots, 1,000 products "  # noqa: T201
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        settings = Settings(data_dir=Path(tmp) / "var", database_url=url, chain_enabled=False)
        builds, refs = [], []
        for rep in range(3):
            tb, report = timed(build, engine, settings)
            tr, size = timed(reference, engine)
            builds.append(tb)
            refs.append(tr)
            print(  # noqa: T201
                f"  run {rep + 1}: build {tb:.2f} s ({report.changed} files changed, "
                f"{sum(int(str(f['size'])) for f in report.files) / 1e6:.1f} MB), reference {tr:.2f} s "
                f"({size / 1e6:.1f} MB)"
            )
        b, r = statistics.median(builds), statistics.median(refs)
        print(f"opendata[{a.db}] regeneration: build median {b:.2f} s, reference median {r:.2f} s, ratio {b / r:.1f}x")  # noqa: T201
        engine.dispose()


if __name__ == "__main__":
    main()
