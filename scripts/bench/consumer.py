#!/usr/bin/env python
"""Benchmark: consumer pages over HTTP against a static file served by the same server.

    .venv/bin/python scripts/bench/consumer.py [--lots 60] [--clients 20] [--seconds 8] [--reps 3]

Seeds ``--lots`` lots of 50 anchored events each (SQLite, anvil for the chain), then starts the
service three times, once per page mode, and in each of ``--reps`` repetitions measures for
``--seconds`` each, with ``--clients`` concurrent keep-alive clients:

- the reference: a static file (``/static-offline-docs/favicon.png``, Starlette's StaticFiles) of the
  same server;
- the consumer pages, every request a different URL (lots x languages, round robin), with a browser's
  ``Accept-Encoding``.

Before the repetitions, the first view of every URL is timed on its own (pages not rendered yet).
Page modes: ``recomputed`` (no page cache of any kind: every request loads, verifies and renders),
``uncached`` (AGRITRACE_CONSUMER_PAGE_CACHE_S=0: no time-based cache; a kept view is served only after
the one query that checks nothing was written since) and ``cached`` (the defaults: the 2 s micro-cache).
Prints req/s, true p50/p95 (nearest rank over every request), bytes on the wire, min and median of the
repetitions, and the ratio page/static.  The client shares the machine's cores with the server.
"""

from __future__ import annotations

import http.client
import math
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import arguments, run_threads, server
from eth_account import Account
from sqlmodel import Session

from chain.client import connect
from chain.node import AnvilNode
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.compose import CAPTURE_CHECKS, build_runtime
from traceability_api.config import Settings
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import Principal, create_organisation

GTIN = "08930000000019"
STATIC = "/static-offline-docs/favicon.png"
BROWSER = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html"}


def lot_events(code: str) -> list[dict[str, object]]:
    """50 events of one lot: a harvest, then alternating storage and inspection, an hour apart."""
    uri = f"https://id.gs1.org/01/{GTIN}/10/{code}"
    out: list[dict[str, object]] = [{
        "type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "action": "ADD", "bizStep": "commissioning",
        "quantityList": [{"epcClass": uri, "quantity": 10000, "uom": "KGM"}],
    }]  # fmt: skip
    out += [{
        "type": "ObjectEvent", "eventTime": f"2025-03-{2 + i // 24:02d}T{i % 24:02d}:00:00+07:00",
        "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "inspecting" if i % 2 else "storing",
        "quantityList": [{"epcClass": uri, "quantity": 1 + i, "uom": "KGM"}],
    } for i in range(49)]  # fmt: skip
    return out


def seed(settings: Settings, lots: int) -> list[str]:
    rt = build_runtime(settings)
    assert rt.chain is not None
    with Session(rt.engine) as s:
        org, issued = create_organisation(
            s, OrganisationCreate(name="HTX Thạnh Phú", kind="cooperative", admin_name="a", address="Cờ Đỏ, Cần Thơ")
        )  # type: ignore[arg-type]
        p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
        create_product(s, p, ProductCreate(gtin=GTIN, name="Gạo ST25", ocop_stars=4, certifications=["VietGAP"]))
        for i in range(lots):
            capture_events(s, p, lot_events(f"L{i:03d}"), DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        s.commit()
    AnchoringWorker(rt.engine, rt.chain.contract, settings).run_once()
    rt.close()
    return [f"/01/{GTIN}/10/L{i:03d}?lang={lang}" for i in range(lots) for lang in ("vi", "en")]


def seeded_site(tmp: str, node: AnvilNode, lots: int) -> tuple[list[str], dict[str, str]]:
    """``lots`` anchored lots in a SQLite database under ``tmp`` on ``node``: their page paths and the
    environment of a server showing them (no worker, no rate limit: a benchmark is a crowd from one address)."""
    acct = Account.create()
    connect(node.url).provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
    db = f"sqlite:///{Path(tmp) / 'bench.db'}"
    settings = Settings(data_dir=Path(tmp), database_url=db, chain_rpc_url=node.url,
                        anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
    paths = seed(settings, lots)
    env = {
        "DATABASE_URL": db,
        "CHAIN_RPC_URL": node.url,
        "AGRITRACE_ANCHOR_PRIVATE_KEY": acct.key.hex(),
        "AGRITRACE_DATA_DIR": tmp,
        "AGRITRACE_ANCHOR_WORKER": "false",
        "AGRITRACE_RATE_LIMIT_ENABLED": "false",
    }
    return paths, env


def nearest_rank(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)] if s else float("nan")


def load(base: str, paths: list[str], clients: int, seconds: float, once: bool = False) -> dict[str, float]:
    """``clients`` threads on keep-alive connections, each taking the next path in turn, for ``seconds``
    (or, with ``once``, until every path was requested once)."""
    host = urlsplit(base)
    lat: list[float] = []
    sizes: list[int] = []
    errors = [0]
    counter = iter(range(10**12))
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=30)
        mine: list[float] = []
        while once or time.perf_counter() < stop:
            with lock:
                i = next(counter)
            if once and i >= len(paths):
                break
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            conn.request("GET", path, headers=BROWSER)
            r = conn.getresponse()
            body = r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != 200:
                errors[0] += 1
            sizes.append(len(body))
        conn.close()
        with lock:
            lat.extend(mine)

    dt = run_threads([client] * clients)
    return {"rps": len(lat) / dt, "p50": nearest_rank(lat, 0.5) * 1000, "p95": nearest_rank(lat, 0.95) * 1000,
            "n": len(lat), "bytes": statistics.median(sizes) if sizes else 0, "errors": errors[0]}  # fmt: skip


MODES = {
    "recomputed": {"AGRITRACE_CONSUMER_PAGE_CACHE_S": "0", "AGRITRACE_CONSUMER_VIEW_CACHE": "false"},
    "uncached": {"AGRITRACE_CONSUMER_PAGE_CACHE_S": "0"},
    "cached": {},
}


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--lots", type=int, default=60)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--modes", default=",".join(MODES))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node:
        paths, env = seeded_site(tmp, node, a.lots)
        print(f"{a.lots} lots x 50 anchored events, {len(paths)} distinct page URLs, {a.clients} clients, "  # noqa: T201
              f"{a.seconds:g} s per measurement, {a.workers} server worker(s), SQLite")  # fmt: skip
        for mode in a.modes.split(","):
            with server(env | MODES[mode], a.workers) as base:
                conn = http.client.HTTPConnection(urlsplit(base).hostname or "", urlsplit(base).port)
                conn.request("GET", paths[0], headers={"Accept": "text/html"})
                first = conn.getresponse()
                html = first.read().decode()
                assert first.status == 200 and 'data-status="verified"' in html, html[-500:]
                cold = load(base, paths[1:], a.clients, 0.0, once=True)  # the first view of every other URL
                print(f"  {mode:10s} first view of {cold['n']:.0f} URLs: {cold['rps']:6.0f} req/s p50 "  # noqa: T201
                      f"{cold['p50']:6.1f} p95 {cold['p95']:6.1f} ms")  # fmt: skip
                rows = []
                for rep in range(a.reps):
                    ref = load(base, [STATIC], a.clients, a.seconds)
                    page = load(base, paths, a.clients, a.seconds)
                    rows.append((ref, page))
                    print(f"  {mode:10s} rep {rep + 1}: page {page['rps']:6.0f} req/s p50 {page['p50']:6.1f} "  # noqa: T201
                          f"p95 {page['p95']:6.1f} ms {page['bytes']:6.0f} B/resp ({page['errors']} non-200) | "
                          f"static {ref['rps']:6.0f} req/s p95 {ref['p95']:5.1f} ms | ratio "
                          f"{page['rps'] / ref['rps']:.2f}")  # fmt: skip
                ratios = [p["rps"] / r["rps"] for r, p in rows]
                prps, p95s = [p["rps"] for _, p in rows], [p["p95"] for _, p in rows]
                print(f"{mode}: page req/s min {min(prps):.0f} median {statistics.median(prps):.0f}; "  # noqa: T201
                      f"p95 min {min(p95s):.1f} median {statistics.median(p95s):.1f} ms; static req/s median "
                      f"{statistics.median(r['rps'] for r, _ in rows):.0f}; ratio page/static min "
                      f"{min(ratios):.2f} median {statistics.median(ratios):.2f}; "
                      f"{len(html.encode()):,} B uncompressed HTML")  # fmt: skip


if __name__ == "__main__":
    main()
