#!/usr/bin/env python
"""Benchmark: the FSMA 204 sortable spreadsheet of one product over a year (PostgreSQL).

    .venv/bin/python scripts/bench/fsma.py [--events 200000] [--reps 3] [--xlsx-rows 50000]

The data set is generated in SQL (capturing through the API would measure capture): one product,
``events / 4`` lots, each harvested on a plot, cooled, shipped with its reference documents and
received, spread over 2025.  Each repetition times, in the same run:

- ours: what ``GET /api/v1/fsma/spreadsheet.csv`` does: ``fsma.records.count_rows``, then
  ``row_chunks`` (the set-based queries: the (event, lot) pairs from a server-side cursor, TLC
  sources, shipments, places and organisations, every KDE column, romanised names) written chunk by
  chunk with ``fsma.sheet.csv_chunks``;
- reference: a bare SELECT of the same (event, lot) rows (event columns and the JSON fields the
  spreadsheet reads, lot, product) written with ``csv.writer``: the floor for any export of them.

It prints events/s, the ratio ours / reference, and the extrapolation to 1,000,000 events; then
the peak Python heap of one streamed export against building every row in one list (as before).  XLSX
(openpyxl, write-only) is timed once on ``--xlsx-rows`` rows and extrapolated the same way.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from common import arguments, migrated, scratch_database
from sqlalchemy import text
from sqlmodel import Session

from traceability_api.fsma import sheet
from traceability_api.fsma.records import Selection, count_rows, row_chunks, rows

GTIN = "08930000030012"
BT = "https://ref.gs1.org/cbv/BizStep-"
STEPS = [BT + "commissioning", "https://ns.agritrace.vn/voc/BizStep-cooling", BT + "shipping", BT + "receiving"]


def generate(engine, n_events: int) -> None:  # type: ignore[no-untyped-def]
    n_lots = n_events // 4
    series = "generate_series(1, {n}) AS g(i)"
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO organisation (id, name, kind, public_profile, address, phone, created_at) VALUES "
            "(1, 'HTX Xoài Mỹ Xương', 'cooperative', true, 'Xã Mỹ Xương, huyện Cao Lãnh, Đồng Tháp', '+84 277 3851 012', now()),"
            "(2, 'Kho lạnh Mỹ Hiệp', 'distributor', true, 'Quốc lộ 30, xã Mỹ Hiệp', '+84 277 3850 777', now()),"
            "(3, 'Nhà đóng gói Xoài Cao Lãnh', 'processor', true, 'Xã Mỹ Hiệp, Đồng Tháp', '+84 277 3852 310', now())"
        ))  # fmt: skip
        c.execute(text("INSERT INTO member (id, org_id, name, role, active, created_at) VALUES "
                       "(1, 1, 'a', 'admin', true, now()), (2, 2, 'b', 'admin', true, now())"))  # fmt: skip
        c.execute(text(
            "INSERT INTO place (id, org_id, kind, name, planting_area_code, geo, created_at) SELECT i, 1, 'plot', "
            "'Vườn xoài số ' || i || ', ấp Mỹ Thạnh', 'VN-DTCL-MX-' || i, "
            "json_build_object('type', 'Point', 'coordinates', json_build_array(105.65 + i * 0.001, 10.40)), now() "
            "FROM generate_series(1, 50) AS g(i)"
        ))  # fmt: skip
        c.execute(text("INSERT INTO place (id, org_id, kind, name, address, created_at) VALUES "
                       "(51, 2, 'warehouse', 'Kho lạnh buồng 2', 'Quốc lộ 30, Mỹ Hiệp', now())"))  # fmt: skip
        c.execute(text("INSERT INTO product (id, gtin, org_id, name, name_en, unit, certifications, max_yield, "
                       "ftl_category, created_at) VALUES (1, :g, 1, 'Xoài cát Chu', 'Cat Chu mango', 'KGM', '[]', 1.0, "
                       "'Tropical tree fruits', now())"), {"g": GTIN})  # fmt: skip
        c.execute(text(
            "INSERT INTO lot (id, product_id, lot_code, owner_org_id, holder_org_id, quantity, quantity_remaining, uom, "
            "status, origin_place_id, harvest_date, ilmd, created_at) SELECT i, 1, 'MX-' || lpad(i::text, 7, '0'), 1, 3, "
            "1000, 1000, 'KGM', 'active', 1 + i % 50, date '2025-01-01' + (i * 365 / :n), '{}', now() FROM "
            + series.format(n=n_lots)
        ), {"n": n_lots})  # fmt: skip
        # event i: lot 1 + (i - 1) / 4, step (i - 1) % 4; times spread over 2025
        c.execute(text(
            "INSERT INTO event (id, org_id, member_id, client_event_id, hash_id, event_type, biz_step, event_time, "
            "place_id, record_time, document) SELECT i, CASE WHEN (i - 1) % 4 IN (1, 2) THEN 2 ELSE 1 END, 1, 'e' || i, "
            "'ni:///sha-256;' || md5(i::text) || md5((i + 1)::text) || '?ver=CBV2.0', 'ObjectEvent', "
            "(ARRAY[:s0, :s1, :s2, :s3])[1 + (i - 1) % 4], "
            "timestamptz '2025-01-01 00:00+07' + ((i - 1) / 4) * (interval '365 days' / :n) + ((i - 1) % 4) * interval '2 hours', "
            "CASE (i - 1) % 4 WHEN 0 THEN 1 + ((i - 1) / 4 + 1) % 50 WHEN 1 THEN 51 ELSE NULL END, now(), "
            "json_build_object('type', 'ObjectEvent', 'eventTimeZoneOffset', '+07:00', "
            " 'bizTransactionList', json_build_array(json_build_object('type', 'inv', 'bizTransaction', 'urn:agritrace:doc:HD-' || i),"
            "   json_build_object('type', 'po', 'bizTransaction', 'urn:agritrace:doc:PO-' || i)), "
            " 'sourceList', json_build_array(json_build_object('type', 'possessing_party', 'source', 'urn:agritrace:party:2')), "
            " 'destinationList', json_build_array(json_build_object('type', 'owning_party', 'destination', 'urn:agritrace:party:3')), "
            " 'ilmd', CASE WHEN (i - 1) % 4 = 0 THEN json_build_object('agri:plot', 'urn:agritrace:place:1', 'agri:variety', 'Cat Chu') END) "
            "FROM " + series.format(n=n_events)
        ), {"n": n_lots, "s0": STEPS[0], "s1": STEPS[1], "s2": STEPS[2], "s3": STEPS[3]})  # fmt: skip
        c.execute(text(
            "INSERT INTO event_lot (event_id, lot_id, role, quantity, uom) "
            "SELECT i, 1 + (i - 1) / 4, 'epc', 1000, 'KGM' FROM " + series.format(n=n_events)
        ))  # fmt: skip
        for t in ("organisation", "place", "product", "lot", "event", "event_lot"):
            c.execute(text(f"ANALYZE {t}"))


REFERENCE = (
    "SELECT e.id, e.hash_id, e.org_id, e.event_type, e.biz_step, e.event_time, e.place_id, "
    "e.document -> 'bizTransactionList', e.document -> 'sourceList', e.document -> 'destinationList', "
    "e.document -> 'ilmd', el.lot_id, el.role, el.quantity, el.uom, l.lot_code, l.origin_place_id, l.harvest_date, "
    "p.gtin, p.name FROM event_lot el JOIN event e ON e.id = el.event_id JOIN lot l ON l.id = el.lot_id "
    "JOIN product p ON p.id = l.product_id WHERE p.gtin = :g AND e.event_time >= :a AND e.event_time < :b "
    "ORDER BY e.event_time, e.id"
)


def reference(engine, since: datetime, until: datetime) -> int:  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    w = csv.writer(buf)
    n = 0
    with engine.connect() as c:
        for row in c.execute(text(REFERENCE), {"g": GTIN, "a": since, "b": until}):
            w.writerow(row)
            n += 1
    return n


def ours(engine, sel: Selection) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """What GET /api/v1/fsma/spreadsheet.csv does: count, then rows chunk by chunk into CSV pieces."""
    n_rows = size = 0
    with Session(engine) as s:
        n = count_rows(s, sel)
        for chunk in row_chunks(s, sel, n):
            n_rows += len(chunk)
            size += len(b"".join(sheet.csv_chunks([chunk])))
    return n_rows, size


def whole(engine, sel: Selection) -> int:  # type: ignore[no-untyped-def]
    """The export as it was before streaming: every row in one list, then the CSV in one piece."""
    with Session(engine) as s:
        return len(sheet.to_csv(rows(s, sel)))


def peak_mb(fn) -> float:  # type: ignore[no-untyped-def]
    """Peak Python heap allocated while ``fn`` runs (tracemalloc), in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--xlsx-rows", type=int, default=50_000)
    a = ap.parse_args()
    since, until = datetime(2024, 12, 31, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    sel = Selection(gtin=GTIN, since=since, until=until)
    with scratch_database("postgresql") as (tmp, url):
        engine = migrated(url)
        t0 = time.perf_counter()
        generate(engine, a.events)
        print(f"generated {a.events:,} events ({a.events // 4:,} lots) in {time.perf_counter() - t0:.0f} s")  # noqa: T201
        ours_t, ref_t = [], []
        for rep in range(a.reps):
            t = time.perf_counter()
            n_ref = reference(engine, since, until)
            ref_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            n_rows, size = ours(engine, sel)
            ours_t.append(time.perf_counter() - t)
            assert n_rows == n_ref == a.events, (n_rows, n_ref)
            print(f"rep {rep + 1}: ours {ours_t[-1]:.2f} s ({n_rows / ours_t[-1]:,.0f} events/s, CSV {size / 1e6:.1f} MB); "  # noqa: T201
                  f"reference {ref_t[-1]:.2f} s ({n_ref / ref_t[-1]:,.0f} rows/s); ratio {ours_t[-1] / ref_t[-1]:.2f}x")  # fmt: skip
        mo, mr = statistics.median(ours_t), statistics.median(ref_t)
        print(f"median: ours {mo:.2f} s = {a.events / mo:,.0f} events/s, reference {mr:.2f} s, ratio {mo / mr:.2f}x; "  # noqa: T201
              f"1,000,000 events: ours ~{1e6 / (a.events / mo):.1f} s, reference ~{1e6 / (a.events / mr):.1f} s")  # fmt: skip
        streamed, at_once = peak_mb(lambda: ours(engine, sel)), peak_mb(lambda: whole(engine, sel))
        print(f"peak Python heap of one export of {a.events:,} events (tracemalloc): streamed {streamed:,.0f} MB, "  # noqa: T201
              f"every row in one list (before) {at_once:,.0f} MB ({at_once / streamed:.0f}x)")  # fmt: skip
        with Session(engine) as s:
            part = rows(s, sel)[: a.xlsx_rows]
        t = time.perf_counter()
        size = len(sheet.to_xlsx(part))
        dt = time.perf_counter() - t
        print(f"XLSX of {len(part):,} rows: {dt:.2f} s ({len(part) / dt:,.0f} rows/s, {size / 1e6:.1f} MB); "  # noqa: T201
              f"1,000,000 rows ~{1e6 / (len(part) / dt):.0f} s (an XLSX sheet holds at most 1,048,575 rows)")  # fmt: skip


if __name__ == "__main__":
    main()
