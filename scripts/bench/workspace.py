#!/usr/bin/env python
"""Benchmark: workspace pages for signed-in people, and page weights.

    .venv/bin/python scripts/bench/workspace.py [--db postgresql|sqlite] [--clients 20] [--requests 30]
                                                [--workers 1] [--repeat 3]

A cooperative with 20 members signed in (each their own session), 5 plots, 40 lots and 200
diary entries (some sprays with their pre-harvest interval still running).  20 concurrent clients
fetch the home page, then the diary page; the reference in the same run is the same load on a
static file of the same server (/app/static/app.css: routing, middleware, no database, no
template).  Prints p95 per page and reference, their ratio, over 3 repetitions (min / median),
the server's own p95 (its Server-Timing header: from the request reaching the app to the answer
starting, without the client threads' time), the requests per second, the server's CPU time per
request (from /proc: what the requests cost, less sensitive than the latency to other load on a
shared machine), and each page's compressed weight on first load (HTML + CSS + scripts).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

import httpx
from common import arguments, cpu_s, fresh_database, percentile, profiler, run_threads, server, server_pids
from eth_account import Account
from sqlmodel import Session

from chain.client import connect
from chain.node import AnvilNode
from traceability_api.compose import CAPTURE_CHECKS, build_runtime
from traceability_api.config import Settings
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.evidence.diary import Activity, DiaryEntry, diary_event
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.kinds import Role
from traceability_api.parties.models import Member, OrganisationCreate
from traceability_api.parties.service import Principal, create_organisation
from traceability_api.places.models import PlaceCreate, PlaceKind
from traceability_api.places.service import create_place
from traceability_api.timeutil import utcnow
from traceability_api.workspace.auth import hash_password
from traceability_api.workspace.models import WorkspaceLogin

GTIN = "08930000000019"
PASSWORD = "bench-password-1"
PAGES = ("/app", "/app/diary")
REFERENCE = "/app/static/app.css"


def seed(settings: Settings, users: int) -> None:
    rt = build_runtime(settings)
    with Session(rt.engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name="HTX Thạnh Phú", kind="cooperative",
                                                                admin_name="a"))  # type: ignore[arg-type]  # fmt: skip
        assert org.id is not None
        p = Principal(issued.member.id, "a", Role.admin, org.id, org.kind)
        pw = hash_password(PASSWORD)
        for i in range(users):
            m = Member(org_id=org.id, name=f"Thành viên {i}", role=Role.recorder)
            s.add(m)
            s.flush()
            s.add(WorkspaceLogin(member_id=m.id or 0, username=f"user{i}", password_hash=pw))
        create_product(s, p, ProductCreate(gtin=GTIN, name="Gạo ST25"))
        plots = [create_place(s, p, PlaceCreate(kind=PlaceKind.plot, name=f"Thửa {i}", planting_area_code=f"VN-{i}"))
                 for i in range(5)]  # fmt: skip
        now = utcnow()
        entries = []
        for i in range(200):
            spray = i % 10 == 0
            e = DiaryEntry(activity=Activity.spraying if spray else Activity.irrigating,
                           time=now - timedelta(days=200 - i), water_mm=None if spray else 20,
                           product="Anvil 5SC" if spray else None, active_ingredient="hexaconazole" if spray else None,
                           dose=1 if spray else None, dose_unit="l/ha" if spray else None,
                           phi_days=14 if spray else None)  # fmt: skip
            entries.append(diary_event(s, p, plots[i % 5].id or 0, e, settings.zone))
        capture_events(s, p, entries, DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        lots = [object_event("commissioning", settings.zone, action="ADD", lot=lot_uri(GTIN, f"L{i}"), quantity=100,
                             uom="KGM", when=now - timedelta(days=1)) for i in range(40)]  # fmt: skip
        capture_events(s, p, lots, DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        s.commit()
    rt.close()


def sign_in(base: str, i: int) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/app/login").text).group(1)  # type: ignore[union-attr]
    r = c.post("/app/login", data={"csrf": token, "username": f"user{i}", "password": PASSWORD})
    assert r.status_code == 200 and "HTX Thạnh Phú" in r.text, r.text[:300]
    return c


def load(clients: list[httpx.Client], path: str, per_client: int, pids: list[int]) -> tuple[float, float, float, float]:
    """(p95 seen by the clients in milliseconds, the server's own p95 from its Server-Timing header,
    server CPU milliseconds per request, requests per second) of ``per_client`` sequential GETs of
    ``path`` by every client at once.  The clients' figure includes the 20 client threads' own time on the machine's
    cores; the server's runs from the request reaching the app to its answer starting."""
    lat: list[float] = []
    own: list[float] = []
    cpu0 = cpu_s(pids)

    def run(c: httpx.Client) -> None:
        for _ in range(per_client):
            t0 = time.perf_counter()
            r = c.get(path)
            lat.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.status_code
            own.append(float(r.headers["server-timing"].split("dur=")[1]) / 1000)

    elapsed = run_threads([partial(run, c) for c in clients])
    cpu_ms = (cpu_s(pids) - cpu0) * 1000 / len(lat)
    return percentile(lat, 0.95) * 1000, percentile(own, 0.95) * 1000, cpu_ms, len(lat) / elapsed


def weight(c: httpx.Client, path: str) -> tuple[int, int]:
    """(compressed bytes of the page with its CSS and scripts, of the HTML alone)."""
    r = c.get(path, headers={"Accept-Encoding": "gzip"})
    html = r.num_bytes_downloaded
    assets = re.findall(r'(?:src|href)="(/app/static/[^"]+)"', r.text)
    total = html
    for a in assets:
        total += c.get(a, headers={"Accept-Encoding": "gzip"}).num_bytes_downloaded
    return total, html


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=30, help="per client, per page, per repetition")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", metavar="PREFIX", help="py-spy the server under each page's load: PREFIX.<page>.txt")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node, \
            fresh_database(a.db, Path(tmp)) as db:  # fmt: skip
        acct = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        settings = Settings(data_dir=Path(tmp), database_url=db, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
        seed(settings, a.clients)
        env = {"DATABASE_URL": db, "CHAIN_RPC_URL": node.url, "AGRITRACE_ANCHOR_PRIVATE_KEY": acct.key.hex(),
               "AGRITRACE_DATA_DIR": tmp, "AGRITRACE_ANCHOR_WORKER": "false",
               "AGRITRACE_RATE_LIMIT_ENABLED": "false"}  # fmt: skip
        with server(env, a.workers) as base:
            clients = [sign_in(base, i) for i in range(a.clients)]
            for c in clients:  # warm up: templates compiled, connections pooled
                c.get("/app")
            pids = server_pids(base)
            runs: dict[str, list[float]] = {p: [] for p in (*PAGES, REFERENCE)}
            server_p95: dict[str, list[float]] = {p: [] for p in runs}
            cpu: dict[str, list[float]] = {p: [] for p in runs}
            rate: dict[str, list[float]] = {p: [] for p in runs}
            for _ in range(a.repeat):
                for path in runs:
                    p95, own, ms, rps = load(clients, path, a.requests, pids)
                    rate[path].append(rps)
                    runs[path].append(p95)
                    server_p95[path].append(own)
                    cpu[path].append(ms)
            for path in PAGES if a.profile else ():  # after the measured runs, which it would slow down
                spy = profiler(base, 8, f"{a.profile}.{path.strip('/').replace('/', '-')}.txt")
                deadline = time.monotonic() + 8
                while time.monotonic() < deadline:
                    load(clients, path, 5, pids)
                spy.wait()
            ref = statistics.median(runs[REFERENCE])
            own_ref = statistics.median(server_p95[REFERENCE])
            print(f"workspace, {a.db}, {a.workers} worker(s), {a.clients} signed-in clients x {a.requests} "  # noqa: T201
                  f"requests, {a.repeat} repetitions (the clients share the machine's cores):")  # fmt: skip
            for path, p95s in runs.items():
                med, own = statistics.median(p95s), statistics.median(server_p95[path])
                print(f"  {path:<22} p95 at the clients min {min(p95s):6.1f} ms  median {med:6.1f} ms "  # noqa: T201
                      f"({med / ref:4.1f}x static file); server p95 (Server-Timing) min "
                      f"{min(server_p95[path]):6.1f} ms  median {own:6.1f} ms ({own / max(own_ref, 0.1):4.1f}x); "
                      f"server CPU {statistics.median(cpu[path]):5.2f} ms/request; "
                      f"{statistics.median(rate[path]):4.0f} requests/s")  # fmt: skip
            for path in (*PAGES, "/app/harvest", "/app/process", "/app/places", "/app/products", "/app/login"):
                total, html = weight(clients[0], path)
                print(f"  weight {path:<14} {total / 1024:5.1f} KB compressed on first load "  # noqa: T201
                      f"(HTML {html / 1024:.1f} KB; goal < 50 KB)")  # fmt: skip
            for c in clients:
                c.close()


if __name__ == "__main__":
    main()
