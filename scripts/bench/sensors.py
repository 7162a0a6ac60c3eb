#!/usr/bin/env python
"""Benchmark: sensor readings ingested per second over signed HTTP batches and over MQTT.

    .venv/bin/python scripts/bench/sensors.py [--db postgresql|sqlite] [--batch 1000] [--clients 4]

HTTP: --clients clients post HMAC-signed batches of --batch readings to 2 API workers for
--seconds.  MQTT: signed messages of --batch readings go through the Mosquitto broker on
127.0.0.1:1883 (topics and group of this run only) to the workers' shared subscription, spread over
--mqtt-devices devices, each batch with its device's next sequence number; timed until every
result comes back.
"""

from __future__ import annotations

import argparse
import json
import queue
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from common import fresh_database, server
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.db import make_engine, migrate
from traceability_api.evidence.models import DeviceCreate, SensorKind
from traceability_api.evidence.sensors import canonical_batch, create_device, sign
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import Principal, create_organisation


def bootstrap(url: str, settings: Settings, n: int) -> list[tuple[int, str]]:
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name="HTX", kind="cooperative", admin_name="a"))  # type: ignore[arg-type]
        p = Principal(issued.member.id, "a", issued.member.role, org.id, org.kind)  # type: ignore[arg-type]
        devices = [
            create_device(s, p, DeviceCreate(name=f"t{i}", kind=SensorKind.temperature), settings) for i in range(n)
        ]
        s.commit()
        out = [(d.id or 0, secret) for d, secret in devices]
    engine.dispose()
    return out


class Clock:
    """Distinct timestamps per device (so that no reading is a duplicate), from 20 days ago (the
    service takes readings up to 30 days old), and the batch sequence number of the device."""

    def __init__(self) -> None:
        self.t = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
        self.seq = 0
        self.lock = threading.Lock()

    def batch(self, n: int) -> dict[str, object]:
        with self.lock:
            start, self.t = self.t, self.t + timedelta(seconds=n)
            self.seq += 1
            seq = self.seq
        rs = [{"ts": (start + timedelta(seconds=i)).isoformat(), "value": 20 + (i % 100) / 10} for i in range(n)]
        return {"seq": seq, "readings": rs}

    def signed(self, secret: str, n: int) -> str:
        msg = self.batch(n)
        return json.dumps(msg | {"sig": sign(secret.encode(), canonical_batch(msg))})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--mqtt-devices", type=int, default=8)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(a.db, Path(tmp)) as url:
        settings = Settings(data_dir=Path(tmp), database_url=url)
        devices = bootstrap(url, settings, a.clients + 1 + a.mqtt_devices)
        run = f"bench-{uuid.uuid4().hex[:10]}"  # the broker is shared: our own topics and subscription group
        topics = f"{run}/agritrace/sensors"
        env = {"DATABASE_URL": url, "AGRITRACE_CHAIN_ENABLED": "false", "AGRITRACE_DATA_DIR": tmp,
               "AGRITRACE_RATE_LIMIT_ENABLED": "false",
               "AGRITRACE_MQTT_URL": "mqtt://127.0.0.1:1883", "AGRITRACE_MQTT_TOPIC_PREFIX": f"{run}/agritrace",
               "AGRITRACE_MQTT_GROUP": run}  # fmt: skip
        with server(env, 2) as base:
            counts = [0] * a.clients
            stop = time.monotonic() + a.seconds

            def client(i: int) -> None:
                dev, secret = devices[i]
                clock = Clock()
                with httpx.Client(base_url=base, timeout=60) as c:
                    while time.monotonic() < stop:
                        raw = json.dumps(clock.batch(a.batch)).encode()
                        r = c.post(f"/api/v1/devices/{dev}/readings", content=raw,
                                   headers={"X-Device-Signature": sign(secret.encode(), raw)})  # fmt: skip
                        counts[i] += r.json()["accepted"]

            t0 = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            dt = time.perf_counter() - t0
            print(f"sensors[{a.db}] HTTP: {sum(counts):,} readings in {dt:.1f} s = {sum(counts) / dt:,.0f} readings/s "  # noqa: T201
                  f"({a.clients} clients, batches of {a.batch}, 2 API workers)")  # fmt: skip

            probe_dev, probe_secret = devices[a.clients]  # answers that the workers listen, then is left alone
            mqtt_devices = devices[a.clients + 1 :]  # several devices: one device's batches arrive in order
            results: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
            pub.on_message = lambda c, u, m: results.put((m.topic, json.loads(m.payload)))
            pub.connect("127.0.0.1", 1883)
            pub.subscribe(f"{topics}/+/result", qos=1)
            pub.loop_start()
            probe_clock, deadline = Clock(), time.monotonic() + 30
            while True:  # until a worker's subscription answers (deadline, no blind sleep)
                pub.publish(f"{topics}/{probe_dev}/readings", probe_clock.signed(probe_secret, 0), qos=1)
                try:
                    results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise SystemExit("no API worker answers on MQTT") from None
            clocks = [Clock() for _ in mqtt_devices]
            msgs = []
            for i in range(a.messages):
                k = i % len(mqtt_devices)
                msgs.append((mqtt_devices[k][0], clocks[k].signed(mqtt_devices[k][1], a.batch)))
            t0 = time.perf_counter()
            for dev, m in msgs:
                pub.publish(f"{topics}/{dev}/readings", m, qos=1)
            accepted = answered = 0
            while answered < a.messages:
                topic, answer = results.get(timeout=120)
                if topic != f"{topics}/{probe_dev}/result":
                    answered += 1
                    accepted += int(answer.get("accepted", 0))  # type: ignore[call-overload]
            dt = time.perf_counter() - t0
            pub.loop_stop()
            pub.disconnect()
            print(f"sensors[{a.db}] MQTT: {accepted:,} readings in {dt:.1f} s = {accepted / dt:,.0f} readings/s "  # noqa: T201
                  f"({a.messages} messages of {a.batch})")  # fmt: skip


if __name__ == "__main__":
    main()
