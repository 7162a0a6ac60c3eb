#!/usr/bin/env python
"""Benchmark: consumer page latency, page weight, and a 1,000-label serialised PDF.

    .venv/bin/python scripts/bench/consumer.py [--clients 20] [--requests 1000] [--workers 1]

A lot with 50 anchored events on SQLite (embedded defaults, anvil for the chain); 20 concurrent
clients fetch its Digital Link page; prints p50/p95 latency, the page weight and whether the
page makes any external request; then times POST /labels for 1,000 serialised labels.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import percentile, server
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
LOT = f"https://id.gs1.org/01/{GTIN}/10/L50"


def seed(settings: Settings) -> tuple[str, int]:
    rt = build_runtime(settings)
    assert rt.chain is not None
    with Session(rt.engine) as s:
        org, issued = create_organisation(
            s, OrganisationCreate(name="HTX Thạnh Phú", kind="cooperative", admin_name="a", address="Cờ Đỏ, Cần Thơ")
        )  # type: ignore[arg-type]
        p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
        create_product(s, p, ProductCreate(gtin=GTIN, name="Gạo ST25", ocop_stars=4, certifications=["VietGAP"]))
        events = [
            {
                "type": "ObjectEvent",
                "eventTime": "2025-03-01T08:00:00+07:00",
                "eventTimeZoneOffset": "+07:00",
                "action": "ADD",
                "bizStep": "commissioning",
                "quantityList": [{"epcClass": LOT, "quantity": 10000, "uom": "KGM"}],
            }
        ]
        events += [
            {
                "type": "ObjectEvent",
                "eventTime": f"2025-03-{2 + i // 24:02d}T{i % 24:02d}:00:00+07:00",
                "eventTimeZoneOffset": "+07:00",
                "action": "OBSERVE",
                "bizStep": "inspecting" if i % 2 else "storing",
                "quantityList": [{"epcClass": LOT, "quantity": 1 + i, "uom": "KGM"}],
            }
            for i in range(49)
        ]
        capture_events(s, p, events, DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        s.commit()
    AnchoringWorker(rt.engine, rt.chain.contract, settings).run_once()
    lot_id = 1
    rt.close()
    return issued.api_key, lot_id  # fmt: skip


WRK_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %.1f %.1f %.1f %d\\n", summary.requests, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.requests / (summary.duration / 1e6), summary.errors.status))
end
"""


def wrk(url: str, clients: int, tmp: str) -> None:
    """The same load from wrk (C, light on CPU) when it is installed (Debian package wrk)."""
    if shutil.which("wrk") is None:
        print("wrk not installed: skipping the wrk measurement (apt-get install wrk)")  # noqa: T201
        return
    script = Path(tmp) / "p95.lua"
    script.write_text(WRK_LUA)
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", "-d15s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    n, p50, p95, rps, errors = next(line for line in out.splitlines() if line.startswith("WRK")).split()[1:]
    print(f"consumer page, wrk -c{clients} 15 s: {n} requests, {float(rps):.0f} req/s; p50 {p50} ms, "  # noqa: T201
          f"p95 {p95} ms; non-2xx {errors}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--labels", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node:
        acct = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(data_dir=Path(tmp), database_url=db, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
        key, lot_id = seed(settings)
        env = {
            "DATABASE_URL": db,
            "CHAIN_RPC_URL": node.url,
            "AGRITRACE_ANCHOR_PRIVATE_KEY": acct.key.hex(),
            "AGRITRACE_DATA_DIR": tmp,
            "AGRITRACE_ANCHOR_WORKER": "false",
            "AGRITRACE_RATE_LIMIT_ENABLED": "false",
        }  # fmt: skip  (a benchmark is a crowd from one address)
        with server(env, a.workers) as base:
            path = f"/01/{GTIN}/10/L50"
            with httpx.Client(base_url=base) as c:
                first = c.get(path, headers={"Accept-Language": "vi"})
            html = first.text
            assert first.status_code == 200 and 'data-status="verified"' in html, html[-500:]
            external = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?://[^"]+)"', html)
            lat: list[float] = []
            per_client = a.requests // a.clients

            def client() -> None:
                with httpx.Client(base_url=base, timeout=30) as c:
                    for _ in range(per_client):
                        t0 = time.perf_counter()
                        r = c.get(path)
                        lat.append(time.perf_counter() - t0)
                        assert r.status_code == 200

            threads = [threading.Thread(target=client) for _ in range(a.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            dt = time.perf_counter() - t0
            print(f"consumer page, python client (50 events, SQLite, {a.workers} workers): {len(lat)} requests, "  # noqa: T201
                  f"{a.clients} clients, {len(lat) / dt:.0f} req/s; p50 {percentile(lat, 0.5) * 1000:.1f} ms, "
                  f"p95 {percentile(lat, 0.95) * 1000:.1f} ms (the client shares the 2 cores)")  # fmt: skip
            wrk(base + path, a.clients, tmp)
            print(f"page weight: {len(first.content):,} bytes HTML with inline CSS, no JS; "  # noqa: T201
                  f"external requests: {len(external)}")  # fmt: skip
            with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {key}"}) as c:
                t0 = time.perf_counter()
                r = c.post(f"/api/v1/lots/{lot_id}/labels", json={"layout": "a4-3x8", "serials": a.labels})
                dt = time.perf_counter() - t0
            assert r.status_code == 200, r.text
            print(f"labels: {a.labels:,} serialised labels (serials commissioned, tokens signed) -> "  # noqa: T201
                  f"{len(r.content) / 1e6:.1f} MB PDF in {dt:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
