"""Three service processes on one PostgreSQL database, one external chain node (anvil with
2 s blocks, standing in for a permissioned network) and one MQTT broker, with capture load on all
three.  The anchoring lease holder is killed with SIGKILL while its batch is on the wire: another
instance takes the lease within the lease time and every acknowledged event is anchored exactly
once; then a plain API instance is killed under load: clients see connection errors only, no
acknowledged event is lost; ``agritrace audit`` is clean.  Proofs become final only after the
configured confirmations, and the consumer page says "pending" until then."""

from __future__ import annotations

import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from eth_account import Account
from sqlalchemy import func
from sqlmodel import Session, select

from chain.client import connect
from chain.node import AnvilNode
from tests.cluster import (
    Instance,
    Load,
    MqttDevice,
    base_env,
    create_org,
    fresh_pg_database,
    seed_lot,
    start_instance,
    wait_for,
    wait_until_up,
)
from tests.conftest import TEST_DB
from tests.test_anchoring import assert_anchored_exactly_once
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, WorkerLease
from traceability_api.audit.service import audit
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.events.models import Event
from traceability_api.evidence.models import SensorReading
from traceability_api.timeutil import utcnow

pytestmark = [
    pytest.mark.multi, pytest.mark.slow, pytest.mark.chain,
    pytest.mark.skipif(TEST_DB != "postgresql", reason="several instances need PostgreSQL (the PostgreSQL pass)"),
]  # fmt: skip
CONFIRMATIONS = 2
LEASE_TTL_S = 30.0  # the worker's lease: max(30 s, 6 anchoring intervals)


def holder_pid(rt_engine: Any) -> int | None:
    with Session(rt_engine) as s:
        row = s.exec(select(WorkerLease).where(WorkerLease.name == "anchoring")).first()
    if row is None or row.expires_at < utcnow():
        return None
    host, _, pid = row.holder.rpartition(":")
    return int(pid) if host == socket.gethostname() else None


class ConfirmationWatch:
    """Samples the chain head whenever a batch is first seen anchored: a batch recorded before
    its confirmations would show a head below ``block + confirmations - 1``."""

    def __init__(self, engine: Any, rpc_url: str) -> None:
        self.engine, self.w3 = engine, connect(rpc_url)
        self.seen: dict[int, tuple[int, int]] = {}  # batch id -> (block, head when first seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with Session(self.engine) as s:
                rows = s.exec(select(AnchorBatch.id, AnchorBatch.block_number)
                              .where(AnchorBatch.status == BatchStatus.anchored)).all()  # fmt: skip
            head = self.w3.eth.block_number
            for bid, block in rows:
                if bid is not None and bid not in self.seen and block is not None:
                    self.seen[bid] = (block, head)

    def __enter__(self) -> ConfirmationWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def test_three_instances_survive_killing_the_lease_holder_and_an_api_instance(tmp_path: Path) -> None:
    with fresh_pg_database() as db, AnvilNode(extra_args=("--block-time", "2")) as node:
        key = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [key.address, hex(10**24)])  # type: ignore[arg-type]
        prefix = f"multi-{uuid.uuid4().hex[:10]}/agritrace"
        env = base_env(DATABASE_URL=db, CHAIN_RPC_URL=node.url, AGRITRACE_ANCHOR_PRIVATE_KEY=key.key.hex(),
                       AGRITRACE_ANCHOR_INTERVAL_S="0.5", AGRITRACE_ANCHOR_CONFIRMATIONS=str(CONFIRMATIONS),
                       AGRITRACE_MQTT_URL="mqtt://127.0.0.1:1883", AGRITRACE_MQTT_TOPIC_PREFIX=prefix,
                       AGRITRACE_MQTT_GROUP="g-" + prefix.split("/")[0], AGRITRACE_CONSUMER_PAGE_CACHE_S="0",
                       AGRITRACE_MASTER_KEY=Fernet.generate_key().decode(), AGRITRACE_LABEL_SECRET=uuid.uuid4().hex,
                       AGRITRACE_PUBLIC_BASE_URL="https://trace.example.vn")  # fmt: skip
        org_key = create_org(db, "HTX Lúa gạo Thạnh Phú")
        settings = Settings(database_url=db, chain_rpc_url=node.url, anchor_private_key=key.key.hex(),
                            data_dir=tmp_path / "observer", anchor_worker=False)  # fmt: skip
        instances: list[Instance] = []
        rt = None
        load = None
        try:
            # the first instance deploys the contract and takes the lease; then two more
            instances.append(start_instance("a", env | {"AGRITRACE_DATA_DIR": str(tmp_path / "a")}, tmp_path / "a"))
            for name in ("b", "c"):
                instances.append(start_instance(name, env | {"AGRITRACE_DATA_DIR": str(tmp_path / name)},
                                                tmp_path / name, wait=False))  # fmt: skip
            for inst in instances[1:]:
                wait_until_up(inst)
            rt = build_runtime(settings)
            lot = seed_lot(instances[0].url, org_key, 1, "L1")
            gtin = lot.split("/01/")[1].split("/")[0]
            page = httpx.get(f"{instances[1].url}/01/{gtin}/10/L1", timeout=10).text
            assert 'data-status="pending"' in page, "not anchored and confirmed yet: the page says pending"
            wait_for("every MQTT subscriber connected", lambda: all(
                (h := i.health()) is not None and h["mqtt"]["ok"] for i in instances), 30)  # fmt: skip

            with ConfirmationWatch(rt.engine, node.url) as watch:
                load = Load([i.url for i in instances], org_key, lot, threads=6).start()
                _kill_holder_mid_batch(rt.engine, instances, load)
                survivors = [i for i in instances if i.proc.poll() is None]
                count = len(load.acked)
                wait_for("load goes on", lambda: len(load.acked) > count + 20, 60)
                plain = next(i for i in survivors if i.proc.pid != holder_pid(rt.engine))
                plain.kill()  # an API instance under load, not the anchorer
                count = len(load.acked)
                wait_for("load goes on after the second kill", lambda: len(load.acked) > count + 20, 60)
                load.stop()
                wait_for("everything anchored", lambda: _waiting(rt.engine) == 0, 120, 0.5)
            # in-flight requests of the killed instances failed as connection errors; nothing else failed
            assert load.bad_answers == [], load.bad_answers[:5]
            _assert_every_ack_anchored_once(rt, load.acked)
            for bid, (block, head) in watch.seen.items():
                assert head >= block + CONFIRMATIONS - 1, f"batch {bid} in block {block} final at head {head}"
            assert watch.seen, "batches were watched becoming final"
            assert rt.chain is not None
            report = audit(rt.engine, rt.chain.contract)  # what `agritrace audit` runs
            assert report.ok and report.pending == 0 and report.events > len(load.acked), report
            alive = [i for i in instances if i.proc.poll() is None]
            assert len(alive) == 1
            page = httpx.get(f"{alive[0].url}/01/{gtin}/10/L1", timeout=10).text
            assert 'data-status="verified"' in page
            _sensors_reach_the_survivors(rt.engine, alive, org_key, prefix)
        finally:
            if load is not None:
                load.stop()
            for inst in instances:
                inst.stop()
            if rt is not None:
                rt.close()


def _kill_holder_mid_batch(engine: Any, instances: list[Instance], load: Load) -> None:
    """SIGKILL the lease holder while one of its batches is sent and not yet confirmed; another
    instance must hold the lease within the lease time."""

    def sent_batch() -> bool:
        with Session(engine) as s:
            return s.exec(select(func.count()).where(AnchorBatch.status == BatchStatus.sent)).one() > 0

    wait_for("a batch on the wire", lambda: len(load.acked) > 10 and sent_batch(), 60, 0.05)
    pid = holder_pid(engine)
    holder = next(i for i in instances if i.proc.pid == pid)
    holder.kill()
    wait_for("another instance holds the lease", lambda: holder_pid(engine) not in (None, pid), LEASE_TTL_S + 10)


def _waiting(engine: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(
            select(func.count()).select_from(AnchorItem).outerjoin(AnchorBatch, AnchorItem.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
            .where((AnchorItem.batch_id.is_(None)) | (AnchorBatch.status != BatchStatus.anchored))  # type: ignore[union-attr]
        ).one())  # fmt: skip


def _assert_every_ack_anchored_once(rt: Any, acked: list[str]) -> None:
    assert len(acked) == len(set(acked)) and len(acked) > 40
    with Session(rt.engine) as s:
        stored = s.exec(select(Event.hash_id, Event.id).where(Event.hash_id.in_(acked))).all()  # type: ignore[attr-defined]
        assert len(stored) == len(acked), "every acknowledged event is stored once"
        ids = [eid for _, eid in stored]
        items = s.exec(select(AnchorItem.ref_id).where(AnchorItem.kind == "event", AnchorItem.ref_id.in_(ids))).all()  # type: ignore[attr-defined]
    assert sorted(items) == sorted(ids), "one outbox row per acknowledged event"
    assert_anchored_exactly_once(rt)


def _sensors_reach_the_survivors(engine: Any, survivors: list[Instance], org_key: str, prefix: str) -> None:
    h = {"Authorization": f"Bearer {org_key}"}
    r = httpx.post(survivors[0].url + "/api/v1/devices", json={"name": "cold room", "kind": "temperature"},
                   headers=h, timeout=10)  # fmt: skip
    assert r.status_code == 201, r.text
    device = MqttDevice(prefix, r.json()["device"]["id"], r.json()["secret"])
    try:
        base = utcnow().replace(microsecond=0) - timedelta(hours=1)
        for k in range(6):
            device.send([{"ts": (base + timedelta(minutes=k)).isoformat(), "value": 4.0 + k / 10}])
        answers = [device.answers.get(timeout=30) for _ in range(6)]
    finally:
        device.close()
    assert all("error" not in a for a in answers), answers
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(SensorReading)).one() == 6
