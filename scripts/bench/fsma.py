#!/usr/bin/env python
"""Benchmark: the FSMA 204 sortable spreadsheet of one product over a year (PostgreSQL).

    .venv/bin/python scripts/bench/fsma.py [--events 200000] [--reps 3] [--http] [--built] [--xlsx-rows 50000]

The data set is generated in SQL (capturing through the API would measure capture): one product,
``events / 4`` lots, each harvested on a plot, cooled, shipped with its reference documents and
received, spread over 2025.  The triggers mark every lot stale as the rows go in; the rows the
spreadsheet reads are then built once (``fsma.cache.refresh``, what the background loop does after
writes), and that is timed too.  Each repetition then times, in the same run:

- ours: what ``GET /api/v1/fsma/spreadsheet.csv`` does for an authority, in-process
  (``fsma.cache.kept_csv``: refresh (nothing stale), count, read log, then every CSV line in event
  time order, by ``COPY ... TO STDOUT``, line ends and escapes turned back);
- reference: ``COPY`` of the same lines from a plain table already in their order, read the same
  way with nothing done to them: the floor for handing these bytes out of PostgreSQL.

``--http`` also times the request itself against a server (uvicorn, one worker), body streamed
and counted by httpx, uncompressed and gzip (as browsers ask; ISA-L level 1 in the server).  ``--built`` also times, once each, the rows built from the events per
request (as before the rows were kept; the path an organisation whose rows draw on another's
non-public events still takes) and a bare SELECT of the same event rows written with
``csv.writer``.  XLSX (openpyxl, write-only, built from the events) is timed on ``--xlsx-rows``
rows and extrapolated.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from datetime import UTC, datetime

import httpx
from common import arguments, migrated, scratch_database, server
from sqlalchemy import text
from sqlmodel import Session

from traceability_api.fsma import cache, sheet
from traceability_api.fsma.records import MAX_ROWS, Selection, count_rows, row_chunks
from traceability_api.parties.models import Member, OrgKind, Role
from traceability_api.parties.service import Principal, issue_key

GTIN = "08930000030012"
BT = "https://ref.gs1.org/cbv/BizStep-"
STEPS = [BT + "commissioning", "https://ns.agritrace.vn/voc/BizStep-cooling", BT + "shipping", BT + "receiving"]
AUTHORITY = Principal(3, "inspector", Role.auditor, 4, OrgKind.authority)


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
        c.execute(text("INSERT INTO organisation (id, name, kind, public_profile, address, created_at) VALUES "
                       "(4, 'Chi cục QLCL Đồng Tháp', 'authority', true, 'TP. Cao Lãnh', now())"))  # fmt: skip
        c.execute(text("INSERT INTO member (id, org_id, name, role, active, created_at) VALUES "
                       "(1, 1, 'a', 'admin', true, now()), (2, 2, 'b', 'admin', true, now()), "
                       "(3, 4, 'inspector', 'auditor', true, now())"))  # fmt: skip
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


BUILT_REFERENCE = (
    "SELECT e.id, e.hash_id, e.org_id, e.event_type, e.biz_step, e.event_time, e.place_id, "
    "e.document -> 'bizTransactionList', e.document -> 'sourceList', e.document -> 'destinationList', "
    "e.document -> 'ilmd', el.lot_id, el.role, el.quantity, el.uom, l.lot_code, l.origin_place_id, l.harvest_date, "
    "p.gtin, p.name FROM event_lot el JOIN event e ON e.id = el.event_id JOIN lot l ON l.id = el.lot_id "
    "JOIN product p ON p.id = l.product_id WHERE p.gtin = :g AND e.event_time >= :a AND e.event_time < :b "
    "ORDER BY e.event_time, e.id"
)


def bare_select(engine, since: datetime, until: datetime) -> int:  # type: ignore[no-untyped-def]
    """The event rows the spreadsheet is built from, by a bare SELECT written with csv.writer."""
    buf = io.StringIO()
    w = csv.writer(buf)
    n = 0
    with engine.connect() as c:
        for row in c.execute(text(BUILT_REFERENCE), {"g": GTIN, "a": since, "b": until}):
            w.writerow(row)
            n += 1
    return n


def built(engine, sel: Selection) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The spreadsheet built from the events for the request (count, then rows chunk by chunk)."""
    n_rows = size = 0
    with Session(engine) as s:
        n = count_rows(s, sel)
        for chunk in row_chunks(s, sel, n):
            n_rows += len(chunk)
            size += len(b"".join(sheet.csv_chunks([chunk])))
    return n_rows, size


def ours(engine, sel: Selection) -> int:  # type: ignore[no-untyped-def]
    """What GET /api/v1/fsma/spreadsheet.csv does for an authority: the bytes of the kept rows."""
    with Session(engine) as s:
        pieces = cache.kept_csv(s, engine, AUTHORITY, sel, MAX_ROWS)
        assert pieces is not None
        return sum(len(p) for p in pieces)


def make_reference_table(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as c:
        c.execute(text("DROP TABLE IF EXISTS bench_lines"))
        c.execute(text("CREATE TABLE bench_lines AS SELECT line FROM fsma_row ORDER BY event_time, event_id, pair_id"))
        c.execute(text("ANALYZE bench_lines"))


def reference(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """COPY of the same lines from a plain table in their order, read as ours reads them."""
    n = size = 0
    with engine.connect() as c:
        raw = c.connection.driver_connection
        with raw.cursor() as cur, cur.copy("COPY (SELECT line FROM bench_lines) TO STDOUT") as copy:
            buf = []
            for data in copy:
                buf.append(data)
                n += 1
                if len(buf) == cache.PIECE_ROWS:
                    size += len(b"".join(buf))
                    buf.clear()
            size += len(b"".join(buf))
    return n, size


def over_http(url: str, key: str, since: datetime, until: datetime, coding: str) -> int:
    """The bytes on the wire of one GET (``coding``: identity, or gzip as browsers ask)."""
    params = {"gtin": GTIN, "since": since.isoformat(), "until": until.isoformat()}
    headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": coding}
    size = 0
    with httpx.stream("GET", url + "/api/v1/fsma/spreadsheet.csv", params=params, headers=headers, timeout=600) as r:
        assert r.status_code == 200, r.read()[:500]
        for piece in r.iter_raw(2**20):
            size += len(piece)
    return size


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--built", action="store_true")
    ap.add_argument("--xlsx-rows", type=int, default=50_000)
    a = ap.parse_args()
    since, until = datetime(2024, 12, 31, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    sel = Selection(gtin=GTIN, since=since, until=until)
    with scratch_database("postgresql") as (tmp, url):
        engine = migrated(url)
        t0 = time.perf_counter()
        generate(engine, a.events)
        print(f"generated {a.events:,} events ({a.events // 4:,} lots) in {time.perf_counter() - t0:.0f} s")  # noqa: T201
        t0 = time.perf_counter()
        lots = cache.refresh(engine)
        dt = time.perf_counter() - t0
        print(f"rows kept on write: {lots:,} lots ({a.events:,} rows) built in {dt:.1f} s "  # noqa: T201
              f"({a.events / dt:,.0f} rows/s; once per change of a lot, by the background loop)")  # fmt: skip
        make_reference_table(engine)
        ours_t, ref_t = [], []
        for rep in range(a.reps):
            t = time.perf_counter()
            n_ref, ref_size = reference(engine)
            ref_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            size = ours(engine, sel)
            ours_t.append(time.perf_counter() - t)
            assert n_ref == a.events and size == len(sheet.csv_header()) + ref_size + n_ref, (n_ref, size, ref_size)
            print(f"rep {rep + 1}: ours {ours_t[-1]:.2f} s ({a.events / ours_t[-1]:,.0f} events/s, CSV {size / 1e6:.1f} MB); "  # noqa: T201
                  f"reference COPY {ref_t[-1]:.2f} s ({n_ref / ref_t[-1]:,.0f} rows/s); ratio {ours_t[-1] / ref_t[-1]:.2f}x")  # fmt: skip
        mo, mr = statistics.median(ours_t), statistics.median(ref_t)
        print(f"median: ours {mo:.2f} s (min {min(ours_t):.2f}) = {a.events / mo:,.0f} events/s, reference {mr:.2f} s, "  # noqa: T201
              f"ratio {mo / mr:.2f}x; 1,000,000 events: ours ~{1e6 / (a.events / mo):.1f} s")  # fmt: skip
        if a.http:
            with Session(engine) as s:
                member = s.get(Member, 3)
                assert member is not None
                key = issue_key(s, member)
                s.commit()
            env = {"DATABASE_URL": url, "AGRITRACE_DATA_DIR": str(tmp), "AGRITRACE_ANCHOR_WORKER": "false",
                   "AGRITRACE_RATE_LIMIT_ENABLED": "false", "AGRITRACE_FSMA_REFRESH_S": "0"}  # fmt: skip
            with server(env, 1) as base:
                for coding in ("identity", "gzip"):
                    times = []
                    for rep in range(a.reps):
                        t = time.perf_counter()
                        got = over_http(base, key, since, until, coding)
                        times.append(time.perf_counter() - t)
                        print(f"HTTP ({coding}) rep {rep + 1}: {times[-1]:.2f} s ({got / 1e6:.1f} MB on the wire)")  # noqa: T201
                    mh = statistics.median(times)
                    print(f"HTTP ({coding}) median {mh:.2f} s (min {min(times):.2f}), "  # noqa: T201
                          f"ratio to the reference COPY {mh / mr:.2f}x")  # fmt: skip
        if a.built:
            t = time.perf_counter()
            n_rows, size = built(engine, sel)
            tb = time.perf_counter() - t
            t = time.perf_counter()
            n_bare = bare_select(engine, since, until)
            tr = time.perf_counter() - t
            print(f"built from the events per request (before): {tb:.1f} s ({n_rows / tb:,.0f} events/s); "  # noqa: T201
                  f"bare SELECT + csv.writer of the event rows {tr:.1f} s ({n_bare:,} rows); ours is {tb / mo:.0f}x faster")  # fmt: skip
        with Session(engine) as s:
            part: list[dict[str, object]] = []
            for chunk in row_chunks(s, sel, a.xlsx_rows):
                part += chunk
        t = time.perf_counter()
        size = len(sheet.to_xlsx(part))
        dt = time.perf_counter() - t
        print(f"XLSX of {len(part):,} rows: {dt:.2f} s ({len(part) / dt:,.0f} rows/s, {size / 1e6:.1f} MB); "  # noqa: T201
              f"1,000,000 rows ~{1e6 / (len(part) / dt):.0f} s (an XLSX sheet holds at most 1,048,575 rows)")  # fmt: skip


if __name__ == "__main__":
    main()
