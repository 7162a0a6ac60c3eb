#!/usr/bin/env python
"""Benchmark: anchoring cost and speed on a real anvil node.

    .venv/bin/python scripts/bench/anchor.py [--db sqlite|postgresql] [--events 50000]

Prints: gas per anchored event at batch sizes 1, 100 and 10,000 (against one transaction per
event); time to build a tree and every proof for 100,000 events; and events anchored per second
end to end (events captured in 500-event documents while the anchoring worker runs).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

from common import fresh_database
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
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import Principal, create_organisation

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


def bench_tree(n: int = 100_000) -> None:
    digests = [os.urandom(32) for _ in range(n)]
    t0 = time.perf_counter()
    leaves = [merkle.leaf_of_digest(d) for d in digests]
    tree = merkle.build(leaves)
    proofs = tree.proofs()
    dt = time.perf_counter() - t0
    assert len(proofs) == n
    print(f"tree: {n:,} leaves -> root and all proofs in {dt:.2f} s")  # noqa: T201


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--events", type=int, default=50_000)
    a = ap.parse_args()
    bench_tree()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(a.db, Path(tmp)) as url, \
            AnvilNode(extra_args=("--prune-history",)) as node:  # fmt: skip
        w3 = connect(node.url)
        acct = Account.create()
        w3.provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        settings = Settings(data_dir=Path(tmp), database_url=url, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False,
                            anchor_batch_max=10_000, anchor_interval_s=1.0)  # fmt: skip
        rt = build_runtime(settings)
        assert rt.chain is not None
        with Session(rt.engine) as s:
            org, issued = create_organisation(s, OrganisationCreate(name="HTX", kind="cooperative", admin_name="a"))  # type: ignore[arg-type]
            p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
            create_product(s, p, ProductCreate(gtin=GTIN, name="Lúa"))
            commission = {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00",
                          "eventTimeZoneOffset": "+07:00", "action": "ADD", "bizStep": "commissioning",
                          "quantityList": [{"epcClass": LOT, "quantity": 1e9, "uom": "KGM"}]}  # fmt: skip
            capture_events(s, p, [commission], DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
            s.commit()
        worker = AnchoringWorker(rt.engine, rt.chain.contract, settings)
        worker.run_once()

        # gas per event at batch sizes 1, 100, 10,000
        single = AnchorContract(w3, rt.chain.contract.address, acct)
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
            print(f"gas: batch of {size:>6,} events = {b.gas_used:,} gas total, {b.gas_used / size:,.1f} gas/event")  # noqa: T201

        # end to end: capture in documents while the worker anchors every second
        stop = threading.Event()

        def run_worker() -> None:
            while not stop.is_set():
                worker.run_once(force=False)
                stop.wait(0.2)

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


if __name__ == "__main__":
    main()
