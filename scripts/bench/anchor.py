#!/usr/bin/env python
"""Benchmark: anchoring latency, cost and speed on a real anvil node.

    .venv/bin/python scripts/bench/anchor.py [--db sqlite|postgresql] [--clients 4] [--samples 40] [--events 50000]

1. Latency, as a user sees it: the service runs with its defaults (embedded anvil, its own
   anchoring worker, 1 API worker); --clients clients each capture --samples single events over
   HTTP with an API key (POST /api/v1/events), one after the other, and after each poll the
   event's proof (GET /api/v1/events/{id}/proof, every 20 ms) until it is anchored, then check the
   proof against the root.  Event -> anchored and provable p50/p95 over all samples, per
   repetition (3) with min/median.  Reference, same run: a bare anchoring transaction (send, wait
   for the receipt) on an anvil node, p50 — the floor any capture-to-proof time stands on.
2. Gas per anchored event at batch sizes 1, 100 and 10,000 (reference: one transaction per event).
3. Events anchored per second end to end (in-process capture in 500-event documents while the
   worker runs with the default delay), --events events; 0 skips it.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx
from common import arguments, cooperative, migrated, percentile, run_threads, scratch_database, server
from eth_account import Account
from sqlmodel import Session, select

from chain import merkle
from chain.client import AnchorContract, connect
from chain.node import AnvilNode
from traceability_api.anchoring.models import AnchorBatch
from traceability_api.anchoring.worker import AnchoringWorker, pending_count
from traceability_api.compose import CAPTURE_CHECKS, build_runtime
from traceability_api.config import Settings
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events

GTIN = "08930000000019"
LOT = f"https://id.gs1.org/01/{GTIN}/10/A1"


_seq = iter(range(1, 10**9))


def events(n: int) -> list[dict]:  # type: ignore[type-arg]
    """Distinct events (quantity varies): eventID is not part of the hash."""
    return [
        {"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": "2025-01-02T08:00:00+07:00",
         "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "inspecting",
         "quantityList": [{"epcClass": LOT, "quantity": next(_seq) / 1000, "uom": "KGM"}]}
        for _ in range(n)
    ]  # fmt: skip


def bootstrap(url: str) -> str:
    """An organisation, its product and a commissioned lot; returns the admin's API key."""
    engine = migrated(url)
    with Session(engine) as s:
        org, issued, p = cooperative(s, gtin=GTIN)
        capture_events(s, p, [COMMISSION], DEFAULT_CONTEXT, Settings(), checks=CAPTURE_CHECKS)
        s.commit()
    engine.dispose()
    return issued.api_key


COMMISSION = {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00", "eventTimeZoneOffset": "+07:00",
              "action": "ADD", "bizStep": "commissioning",
              "quantityList": [{"epcClass": LOT, "quantity": 1e9, "uom": "KGM"}]}  # fmt: skip


def latency_run(base: str, key: str, clients: int, samples: int) -> list[float]:
    """Seconds from sending each event to its proof being anchored and verifying."""
    out: list[float] = []
    errors: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
            for _ in range(samples):
                t0 = time.perf_counter()
                r = c.post("/api/v1/events", json=events(1)[0])
                if r.status_code != 201:
                    errors.append(r.text[:200])
                    continue
                event_id = r.json()["id"]
                while True:
                    proof = c.get(f"/api/v1/events/{event_id}/proof").json()
                    if proof.get("status") == "anchored":
                        break
                    if time.perf_counter() - t0 > 60:
                        raise SystemExit(f"event {event_id} not anchored within 60 s")
                    time.sleep(0.02)
                out.append(time.perf_counter() - t0)
                path = [bytes.fromhex(x.removeprefix("0x")) for x in proof["proof"]]
                leaf = merkle.leaf_of_hash_id(proof["hashId"])
                assert merkle.process_proof(leaf, path).hex() == proof["root"].removeprefix("0x"), "proof fails"

    run_threads([client] * clients)
    if errors:
        raise SystemExit(f"{len(errors)} captures failed, first: {errors[0]}")
    return out


def warm_up(base: str, key: str) -> None:
    """Until the service is healthy and has anchored its set-up (the node started, the contract
    deployed, the first full reconciliation done): start-up is not capture-to-proof latency."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
        while time.monotonic() < deadline:
            if c.get("/healthz").status_code == 200 and c.get("/api/v1/anchoring/status").json()["pending"] == 0:
                return
            time.sleep(0.2)
    raise SystemExit("the service did not anchor its set-up within 120 s")


def bench_latency(db: str, clients: int, samples: int, repeat: int, reference_s: list[float]) -> None:
    with scratch_database(db) as (tmp, url):
        key = bootstrap(url)
        env = {"DATABASE_URL": url, "AGRITRACE_DATA_DIR": tmp, "AGRITRACE_RATE_LIMIT_ENABLED": "false"}
        with server(env, 1) as base:
            warm_up(base, key)
            p50s, p95s = [], []
            for rep in range(repeat):
                lat = latency_run(base, key, clients, samples)
                p50s.append(percentile(lat, 0.5))
                p95s.append(percentile(lat, 0.95))
                print(f"latency run {rep + 1} [{db}]: {len(lat)} events, event -> anchored and provable "  # noqa: T201
                      f"p50 {p50s[-1] * 1000:.0f} ms, p95 {p95s[-1] * 1000:.0f} ms, "
                      f"max {max(lat) * 1000:.0f} ms")  # fmt: skip
    ref = statistics.median(reference_s)
    print(  # noqa: T201
        f"latency [{db}] defaults, {clients} clients over HTTP: p50 min {min(p50s) * 1000:.0f} / median "
        f"{statistics.median(p50s) * 1000:.0f} ms; p95 min {min(p95s) * 1000:.0f} / median "
        f"{statistics.median(p95s) * 1000:.0f} ms; reference (bare anchor transaction to receipt) "
        f"p50 {ref * 1000:.0f} ms; "
        f"ratio p50/reference {statistics.median(p50s) / ref:.1f}, p95/reference {statistics.median(p95s) / ref:.1f}"
    )


def main() -> None:
    ap = arguments(__doc__, db="sqlite")
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--samples", type=int, default=40, help="events per client and repetition")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    reference_s: list[float] = []
    with scratch_database(a.db) as (tmp, url), \
            AnvilNode(extra_args=("--prune-history",)) as node:  # fmt: skip
        w3 = connect(node.url)
        acct = Account.create()
        w3.provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        settings = Settings(data_dir=Path(tmp), database_url=url, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False,
                            anchor_batch_max=10_000)  # fmt: skip
        rt = build_runtime(settings)
        assert rt.chain is not None
        with Session(rt.engine) as s:
            org, issued, p = cooperative(s, gtin=GTIN)
            commission = {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00",
                          "eventTimeZoneOffset": "+07:00", "action": "ADD", "bizStep": "commissioning",
                          "quantityList": [{"epcClass": LOT, "quantity": 1e9, "uom": "KGM"}]}  # fmt: skip
            capture_events(s, p, [commission], DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
            s.commit()
        worker = AnchoringWorker(rt.engine, rt.chain.contract, settings)
        worker.run_once()

        # reference latency: a bare anchoring transaction, sent and its receipt awaited
        single = AnchorContract(w3, rt.chain.contract.address, acct)
        for i in range(a.repeat * 10 if a.samples else 0):
            t0 = time.perf_counter()
            single.anchor(os.urandom(32), batch_id=800_000 + i, leaf_count=1)
            reference_s.append(time.perf_counter() - t0)
        print(f"reference: bare anchor transaction to receipt p50 {percentile(reference_s, 0.5) * 1000:.0f} ms, "  # noqa: T201
              f"p95 {percentile(reference_s, 0.95) * 1000:.0f} ms ({len(reference_s)} transactions)")  # fmt: skip

        # gas per event at batch sizes 1, 100, 10,000
        per_event_tx = [single.anchor(os.urandom(32), batch_id=900_000 + i, leaf_count=1).gas_used for i in range(3)]
        print(f"gas: one transaction per event = {sum(per_event_tx) / 3:,.0f} gas/event")  # noqa: T201
        for size in (1, 100, 10_000):
            with Session(rt.engine) as s:
                for start in range(0, size, 1000):
                    capture_events(
                        s, p, events(min(1000, size - start)), DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS
                    )
                s.commit()
            worker.run_once()
            with Session(rt.engine) as s:
                b = s.exec(select(AnchorBatch).order_by(AnchorBatch.id.desc())).first()  # type: ignore[union-attr]
            assert b is not None and b.leaf_count == size and b.gas_used
            print(f"gas: batch of {size:>6,} events = {b.gas_used:,} gas total, {b.gas_used / size:,.2f} gas/event")  # noqa: T201

        # end to end: capture in documents while the worker anchors with the default delay
        stop = threading.Event()

        def run_worker() -> None:
            while not stop.is_set():
                if not worker.run_once(force=False):
                    stop.wait(settings.anchor_poll_s)

        if a.events <= 0:
            rt.close()
            bench_latency(a.db, a.clients, a.samples, a.repeat, reference_s)
            return
        t0 = time.perf_counter()
        th = threading.Thread(target=run_worker)
        th.start()
        with Session(rt.engine) as s:
            for start in range(0, a.events, 500):
                capture_events(
                    s, p, events(min(500, a.events - start)), DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS
                )
                s.commit()
        captured_at = time.perf_counter() - t0
        while pending_count(rt.engine):
            time.sleep(0.2)
        dt = time.perf_counter() - t0
        stop.set()
        th.join()
        with Session(rt.engine) as s:
            nb = len(s.exec(select(AnchorBatch)).all())
        print(  # noqa: T201
            f"end to end [{a.db}]: {a.events:,} events captured in {captured_at:.1f} s, "
            f"all anchored after {dt:.1f} s"
            f" = {a.events / dt:,.0f} events/s = {a.events / dt * 60:,.0f} events/min ({nb} batches in total)"
        )
        rt.close()
    bench_latency(a.db, a.clients, a.samples, a.repeat, reference_s)


if __name__ == "__main__":
    main()
