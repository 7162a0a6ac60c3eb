#!/usr/bin/env python
"""Benchmark: sustained EPCIS events/s captured through the HTTP API.

    .venv/bin/python scripts/bench/capture.py [--db sqlite|postgresql|both] [--clients 8] [--batch 50]

Each client posts EPCIS documents of --batch events (observations on its own lot) to
POST /api/v1/capture for --seconds; prints events/s and document latency percentiles.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from common import fresh_database, percentile, server
from sqlmodel import Session

from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.db import make_engine, migrate
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import Principal, create_organisation

GTIN = "08930000000019"


def bootstrap(url: str, clients: int) -> str:
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name="HTX bench", kind="cooperative", admin_name="a"))  # type: ignore[arg-type]
        p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
        create_product(s, p, ProductCreate(gtin=GTIN, name="Lúa"))
        events = [
            {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00", "eventTimeZoneOffset": "+07:00",
             "action": "ADD", "bizStep": "commissioning",
             "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/B{i}", "quantity": 1e8, "uom": "KGM"}]}
            for i in range(clients)
        ]  # fmt: skip
        capture_events(s, p, events, DEFAULT_CONTEXT, Settings(), checks=CAPTURE_CHECKS)
        s.commit()
    engine.dispose()
    return issued.api_key


def document(client: int, batch: int) -> dict:  # type: ignore[type-arg]
    lot = f"https://id.gs1.org/01/{GTIN}/10/B{client}"
    return {
        "@context": DEFAULT_CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-02T00:00:00Z",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": "2025-01-02T08:00:00+07:00",
             "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "inspecting",
             "quantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}]}
            for _ in range(batch)
        ]},
    }  # fmt: skip


def run(kind: str, clients: int, batch: int, seconds: float, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        key = bootstrap(url, clients)
        env = {
            "DATABASE_URL": url,
            "AGRITRACE_CHAIN_ENABLED": "false",
            "AGRITRACE_DATA_DIR": tmp,
            "AGRITRACE_RATE_LIMIT_ENABLED": "false",
        }  # a benchmark is one client at full speed
        with server(env, workers) as base:
            done = [0] * clients
            lat: list[float] = []
            errors: list[str] = []
            stop = time.monotonic() + seconds

            def worker(i: int) -> None:
                with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                    while time.monotonic() < stop:
                        doc = document(i, batch)
                        t0 = time.perf_counter()
                        r = c.post("/api/v1/capture", json=doc)
                        lat.append(time.perf_counter() - t0)
                        if r.status_code != 201:
                            errors.append(r.text[:200])
                            continue
                        done[i] += batch

            t0 = time.monotonic()
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
        total = sum(done)
        print(  # noqa: T201
            f"capture[{kind}] clients={clients} batch={batch} workers={workers}: {total} events in {elapsed:.1f} s "
            f"= {total / elapsed:,.0f} events/s; document p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
            f"p95 {percentile(lat, 0.95) * 1000:.0f} ms; errors {len(errors)}"
            + (f" (first: {errors[0]})" if errors else "")
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    for kind in ("sqlite", "postgresql") if a.db == "both" else (a.db,):
        run(kind, a.clients, a.batch, a.seconds, a.workers)


if __name__ == "__main__":
    main()
