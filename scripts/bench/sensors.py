#!/usr/bin/env python
"""Benchmark: sensor readings ingested per second over signed HTTP batches and over MQTT.

    .venv/bin/python scripts/bench/sensors.py [--db postgresql|sqlite] [--batch 1000] [--clients 4]

HTTP: --clients clients post HMAC-signed batches of --batch readings to 2 API workers for
--seconds.  MQTT: signed messages of --batch readings go through the Mosquitto broker on
127.0.0.1:1883 to the workers' shared subscription; timed until every result comes back.
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
from traceability_api.evidence.sensors import canonical_readings, create_device, sign
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
    """Distinct timestamps per device, so that no reading is a duplicate."""

    def __init__(self) -> None:
        self.t = datetime(2024, 1, 1, tzinfo=UTC)
        self.lock = threading.Lock()

    def batch(self, n: int) -> list[dict[str, object]]:
        with self.lock:
            start, self.t = self.t, self.t + timedelta(seconds=n)
        return [{"ts": (start + timedelta(seconds=i)).isoformat(), "value": 20 + (i % 100) / 10} for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--messages", type=int, default=200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(a.db, Path(tmp)) as url:
        settings = Settings(data_dir=Path(tmp), database_url=url)
        devices = bootstrap(url, settings, a.clients + 1)
        env = {"DATABASE_URL": url, "AGRITRACE_CHAIN_ENABLED": "false", "AGRITRACE_DATA_DIR": tmp,
               "AGRITRACE_RATE_LIMIT_ENABLED": "false",
               "AGRITRACE_MQTT_URL": "mqtt://127.0.0.1:1883"}  # fmt: skip
        with server(env, 2) as base:
            counts = [0] * a.clients
            stop = time.monotonic() + a.seconds

            def client(i: int) -> None:
                dev, secret = devices[i]
                clock = Clock()
                with httpx.Client(base_url=base, timeout=60) as c:
                    while time.monotonic() < stop:
                        raw = json.dumps({"readings": clock.batch(a.batch)}).encode()
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

            dev, secret = devices[-1]
            results: queue.Queue[dict[str, object]] = queue.Queue()
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
            pub.on_message = lambda c, u, m: results.put(json.loads(m.payload))
            pub.connect("127.0.0.1", 1883)
            pub.subscribe(f"agritrace/sensors/{dev}/result", qos=1)
            pub.loop_start()
            probe = json.dumps({"readings": [], "sig": sign(secret.encode(), canonical_readings([]))})
            deadline = time.monotonic() + 30
            while True:  # until a worker's subscription answers (deadline, no blind sleep)
                pub.publish(f"agritrace/sensors/{dev}/readings", probe, qos=1)
                try:
                    results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise SystemExit("no API worker answers on MQTT") from None
            clock = Clock()
            msgs = []
            for _ in range(a.messages):
                rs = clock.batch(a.batch)
                msgs.append(json.dumps({"readings": rs, "sig": sign(secret.encode(), canonical_readings(rs))}))
            t0 = time.perf_counter()
            for m in msgs:
                pub.publish(f"agritrace/sensors/{dev}/readings", m, qos=1)
            accepted = 0
            for _ in range(a.messages):
                accepted += int(results.get(timeout=120).get("accepted", 0))  # type: ignore[call-overload]
            dt = time.perf_counter() - t0
            pub.loop_stop()
            pub.disconnect()
            print(f"sensors[{a.db}] MQTT: {accepted:,} readings in {dt:.1f} s = {accepted / dt:,.0f} readings/s "  # noqa: T201
                  f"({a.messages} messages of {a.batch})")  # fmt: skip


if __name__ == "__main__":
    main()
