#!/usr/bin/env python
"""Benchmark: the authority console's home and figures at a province's scale, on PostgreSQL.

    .venv/bin/python scripts/bench/console.py [--lots 100000] [--events-per-lot 10] [--clients 4]
                                              [--requests 20] [--repeat 3]

Seeds ``--lots`` lots (x ``--events-per-lot`` events, each with its lot link and outbox row, 99 %
anchored; a consumer scan per 4 lots; 200 cooperatives, 2,000 plots in 40 communes, 20 products)
with set-based ``INSERT ... SELECT generate_series`` (the goal's size, 100k lots / 1M events, is the
default), then signs an authority member in on ``--clients`` clients that fetch, at once, the
console home, the figures page (three figures: lots, complete and verified share, organisations
active) and, as the reference in the same run, a static file of the same server. Prints p95 per page
over ``--repeat`` repetitions (min / median) and the ratio to the static file; goal p95 < 300 ms.
Twice: with the figures kept until the data changes (the default, ``AGRITRACE_CONSOLE_CACHE``;
nothing is written during the run) and recomputed on every request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx
from common import arguments, fresh_database, percentile, run_threads, server
from eth_account import Account
from sqlalchemy import text
from sqlmodel import Session

from chain.client import connect
from chain.node import AnvilNode
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.db import make_engine
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.models import Member, OrganisationCreate
from traceability_api.parties.service import create_organisation
from traceability_api.workspace.auth import hash_password
from traceability_api.workspace.models import WorkspaceLogin

PASSWORD = "bench-password-1"
PAGES = ("/app/console", "/app/console/figures?figure=lots", "/app/console/figures?figure=complete_share",
         "/app/console/figures?figure=orgs_active")  # fmt: skip
REFERENCE = "/app/static/app.css"
COOPS, PLOTS, COMMUNES, PRODUCTS = 200, 2000, 40, 20
# kept: answers filed under the data stamp (no writes during the run: every request after the first is
# served kept, one stamp query); recomputed: every request runs the figure's query
# kept + writes: a writer inserts a counterfeit report 10 times a second (the stamp always moves on),
# so answers are served kept while recomputed in the background (AGRITRACE_CONSOLE_CACHE_STALE_S)
MODES = {"kept": {"AGRITRACE_CONSOLE_CACHE": "true"}, "kept + writes": {"AGRITRACE_CONSOLE_CACHE": "true"},
         "recomputed": {"AGRITRACE_CONSOLE_CACHE": "false"}}  # fmt: skip

# one statement per table; :lots and :per are the size; ids are offset by the rows already there
SEED = [
    """INSERT INTO organisation (name, kind, public_profile, created_at)
       SELECT 'HTX ' || g, 'cooperative', true, now() FROM generate_series(1, :coops) g""",
    """INSERT INTO member (name, role, org_id, active, created_at)
       SELECT 'Thành viên ' || o.id, 'admin', o.id, true, now() FROM organisation o WHERE o.name LIKE 'HTX %'""",
    """INSERT INTO product (gtin, name, unit, max_yield, certifications, org_id, created_at)
       SELECT lpad((89300000000 + g)::text, 13, '0') || '0', 'Sản phẩm ' || g, 'KGM', 1, '[]',
              (SELECT min(id) FROM organisation WHERE name LIKE 'HTX %'), now()
       FROM generate_series(1, :products) g""",
    """INSERT INTO place (kind, name, planting_area_code, commune, province, org_id, geo, created_at)
       SELECT 'plot', 'Thửa ' || g, 'VN-DT-' || g, 'Xã ' || (g % :communes), 'Đồng Tháp',
              (SELECT min(id) FROM organisation WHERE name LIKE 'HTX %') + g % :coops,
              json_build_object('type', 'Point', 'coordinates', json_build_array(105.4 + (g % 50) * 0.01,
                                10.2 + (g / 50) * 0.01)), now()
       FROM generate_series(1, :plots) g""",
    """INSERT INTO lot (product_id, lot_code, owner_org_id, holder_org_id, quantity, quantity_remaining, uom,
                        status, origin_place_id, harvest_date, ilmd, created_at)
       SELECT p0 + g % :products, 'L' || g, o0 + g % :coops, o0 + g % :coops, 1000, 1000, 'KGM',
              (CASE WHEN g % 500 = 0 THEN 'recalled' ELSE 'active' END)::lotstatus,
              pl0 + g % :plots, date '2025-01-01' + (g % 365), '{}', now()
       FROM generate_series(1, :lots) g,
            (SELECT min(id) p0 FROM product) a, (SELECT min(id) o0 FROM organisation WHERE name LIKE 'HTX %') b,
            (SELECT min(id) pl0 FROM place WHERE name LIKE 'Thửa %') c""",
    """INSERT INTO event (org_id, member_id, client_event_id, hash_id, event_type, biz_step, action, event_time,
                          place_id, record_time, document, hash_rule)
       SELECT l.owner_org_id, m.id, 'bench-' || l.id || '-' || k, 'ni:///sha-256;' || md5(l.id || '-' || k),
              'ObjectEvent', CASE WHEN k = 0 THEN 'https://ref.gs1.org/cbv/BizStep-commissioning'
                                  ELSE 'https://ref.gs1.org/cbv/BizStep-inspecting' END,
              'OBSERVE', l.harvest_date + make_interval(days => k), l.origin_place_id, now(),
              '{"type": "ObjectEvent"}', 2
       FROM lot l JOIN member m ON m.org_id = l.owner_org_id, generate_series(0, :per - 1) k""",
    """INSERT INTO event_lot (event_id, lot_id, role, quantity, uom)
       SELECT e.id, l.id, 'epc', 1000, 'KGM' FROM event e
       JOIN lot l ON l.lot_code = 'L' || split_part(e.client_event_id, '-', 2)
                 AND l.owner_org_id = e.org_id""",
    """INSERT INTO anchor_batch (root, leaf_count, status, chain_id, contract_address, created_at)
       VALUES (md5('bench'), 0, 'anchored', 31337, '0x0000000000000000000000000000000000000000', now())""",
    """INSERT INTO anchor_item (kind, ref_id, digest, batch_id, created_at)
       SELECT 'event', e.id, md5(e.hash_id), CASE WHEN e.id % 100 = 0 THEN NULL ELSE b.id END, now()
       FROM event e, (SELECT max(id) id FROM anchor_batch) b""",
    """INSERT INTO scan_log (lot_id, serial, scanned_at, client_hash, token_ok)
       SELECT l.id, NULL, l.harvest_date + interval '20 days', md5(l.id::text), true FROM lot l WHERE l.id % 4 = 0""",
    "ANALYZE",
]


def seed(settings: Settings, lots: int, per: int) -> float:
    rt = build_runtime(settings)  # migrates the schema
    t0 = time.perf_counter()
    with Session(rt.engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name="Chi cục QLCL Đồng Tháp", kind=OrgKind.authority,
                                                                admin_name="a"))  # fmt: skip
        s.add(WorkspaceLogin(member_id=issued.member.id or 0, username="chicuc", password_hash=hash_password(PASSWORD)))
        s.flush()
        assert s.get(Member, issued.member.id) is not None and issued.member.role == Role.admin
        size = {"coops": COOPS, "products": PRODUCTS, "plots": PLOTS, "communes": COMMUNES, "lots": lots, "per": per}
        for sql in SEED:
            t = time.perf_counter()
            s.execute(text(sql), {k: v for k, v in size.items() if f":{k}" in sql})
            print(f"  seed {sql.split()[2] if sql != 'ANALYZE' else 'analyze':<14} {time.perf_counter() - t:6.1f} s")  # noqa: T201
        s.commit()
    rt.close()
    return time.perf_counter() - t0


def sign_in(base: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    page = c.get("/app/login").text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post("/app/login", data={"csrf": token, "username": "chicuc", "password": PASSWORD})
    assert r.status_code == 200 and "Chi cục" in r.text, r.text[:300]
    return c


def load(clients: list[httpx.Client], path: str, per_client: int) -> float:
    """p95 in milliseconds of ``per_client`` sequential GETs of ``path`` by every client at once."""
    lat: list[float] = []

    def run(c: httpx.Client) -> None:
        for _ in range(per_client):
            t0 = time.perf_counter()
            r = c.get(path)
            lat.append(time.perf_counter() - t0)
            assert r.status_code == 200, (path, r.status_code)

    run_threads([partial(run, c) for c in clients])
    return percentile(lat, 0.95) * 1000


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--lots", type=int, default=100_000)
    ap.add_argument("--events-per-lot", type=int, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=20, help="per client, per page, per repetition")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node, \
            fresh_database("postgresql", Path(tmp)) as db:  # fmt: skip
        acct = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        settings = Settings(data_dir=Path(tmp), database_url=db, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
        took = seed(settings, a.lots, a.events_per_lot)
        print(f"seeded {a.lots:,} lots, {a.lots * a.events_per_lot:,} events in {took:.0f} s")  # noqa: T201
        env = {"DATABASE_URL": db, "CHAIN_RPC_URL": node.url, "AGRITRACE_ANCHOR_PRIVATE_KEY": acct.key.hex(),
               "AGRITRACE_DATA_DIR": tmp, "AGRITRACE_ANCHOR_WORKER": "false",
               "AGRITRACE_RATE_LIMIT_ENABLED": "false"}  # fmt: skip
        for mode, extra in MODES.items():
            with server(env | extra, 1) as base, writer(db, on="writes" in mode):
                measure(base, a, mode)


@contextmanager
def writer(db: str, on: bool) -> Iterator[None]:
    """A write 10 times a second while the block runs (when ``on``)."""
    stop = threading.Event()

    def run() -> None:
        engine = make_engine(db)
        with engine.connect() as c:
            while not stop.wait(0.1):
                c.execute(text("INSERT INTO counterfeit_report (code, gtin, client_hash, created_at) "
                               "VALUES ('/01/0', '0', md5(random()::text), now())"))  # fmt: skip
                c.commit()
        engine.dispose()

    t = threading.Thread(target=run, daemon=True)
    if on:
        t.start()
    try:
        yield
    finally:
        stop.set()
        if on:
            t.join(10)


def measure(base: str, a: argparse.Namespace, mode: str) -> None:
    clients = [sign_in(base) for _ in range(a.clients)]
    for path in PAGES:  # warm up: templates compiled, connections pooled, pages cached by PostgreSQL
        clients[0].get(path)
    runs: dict[str, list[float]] = {p: [] for p in (*PAGES, REFERENCE)}
    for _ in range(a.repeat):
        for path in runs:
            runs[path].append(load(clients, path, a.requests))
    ref = statistics.median(runs[REFERENCE])
    print(f"console {mode}, postgresql, 1 worker, {a.lots:,} lots / {a.lots * a.events_per_lot:,} events, "  # noqa: T201
          f"{a.clients} clients x {a.requests} requests, {a.repeat} reps (goal p95 < 300 ms)")  # fmt: skip
    for path, p95s in runs.items():
        med = statistics.median(p95s)
        print(f"  {path:<46} p95 min {min(p95s):7.1f} ms  median {med:7.1f} ms  "  # noqa: T201
              f"ratio to static file {med / ref:5.1f}x")  # fmt: skip
    for c in clients:
        c.close()


if __name__ == "__main__":
    main()
