#!/usr/bin/env python
"""Benchmark: sensor readings ingested per second over signed HTTP batches and over MQTT.

    .venv/bin/python scripts/bench/sensors.py [--db postgresql|sqlite] [--batch 1000] [--clients 4]

HTTP: --clients clients post HMAC-signed batches of --batch readings to 2 API workers, --messages
batches in all, signed before the clock starts (as the reference's rows and the MQTT messages are
made before theirs); timed until every answer is in. MQTT: signed messages of --batch readings go
through the Mosquitto broker on 127.0.0.1:1883 (topics and group of this run only) to the workers'
shared subscription, spread over --mqtt-devices devices, each batch with its device's next sequence
number; timed until every result comes back. Reference, measured in the same run before each
repetition: a raw ``COPY`` of the same number of rows (device, ts, value) into the same table
through psycopg, one transaction (PostgreSQL; on SQLite a raw sqlite3 ``executemany`` in one
transaction). Prints each repetition (--repeat, default 3), min and median of each figure and the
ratios to the reference.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import psycopg
from common import arguments, cooperative, migrated, run_threads, scratch_database, server
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.evidence.models import DeviceCreate, SensorKind
from traceability_api.evidence.sensors import canonical_batch, create_device, sign


def bootstrap(url: str, settings: Settings, n: int) -> list[tuple[int, str]]:
    engine = migrated(url)
    with Session(engine) as s:
        org, issued, p = cooperative(s)
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


def _signed_body(clock: Clock, secret: str, n: int) -> tuple[bytes, str]:
    raw = json.dumps(clock.batch(n)).encode()
    return raw, sign(secret.encode(), raw)


def copy_reference(url: str, device_id: int, n: int) -> float:
    """Rows of the same shape as the service stores, written raw: readings/s."""
    t = _REF_BASE + timedelta(seconds=n * next(_ref_runs))  # runs never overlap
    rows = [(device_id, t + timedelta(seconds=i), 20 + (i % 100) / 10) for i in range(n)]
    if url.startswith("sqlite"):
        t0 = time.perf_counter()
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.executemany("INSERT INTO sensor_reading (device_id, ts, value) VALUES (?, ?, ?)",
                           [(d, ts.replace(tzinfo=None).isoformat(sep=" "), v) for d, ts, v in rows])  # fmt: skip
        return n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY sensor_reading (device_id, ts, value) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
    return n / (time.perf_counter() - t0)


_ref_runs = iter(range(1000))
_REF_BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)


def summary(name: str, runs: list[float], ref: list[float]) -> None:
    m, rm = statistics.median(runs), statistics.median(ref)
    print(f"{name}: min {min(runs):,.0f} / median {m:,.0f} readings/s; reference median {rm:,.0f}/s; "  # noqa: T201
          f"ratio {m / rm:.2f}")  # fmt: skip


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--mqtt-devices", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with scratch_database(a.db) as (tmp, url):
        settings = Settings(data_dir=Path(tmp), database_url=url)
        devices = bootstrap(url, settings, a.clients + 2 + a.mqtt_devices)
        ref_device = devices.pop()[0]  # the reference writes to a device of its own
        run = f"bench-{uuid.uuid4().hex[:10]}"  # the broker is shared: our own topics and subscription group
        topics = f"{run}/agritrace/sensors"
        env = {"DATABASE_URL": url, "AGRITRACE_CHAIN_ENABLED": "false", "AGRITRACE_DATA_DIR": tmp,
               "AGRITRACE_RATE_LIMIT_ENABLED": "false",
               "AGRITRACE_MQTT_URL": "mqtt://127.0.0.1:1883", "AGRITRACE_MQTT_TOPIC_PREFIX": f"{run}/agritrace",
               "AGRITRACE_MQTT_GROUP": run}  # fmt: skip
        with server(env, 2) as base:
            probe_dev, probe_secret = devices[a.clients]  # answers that the workers listen, then is left alone
            mqtt_devices = devices[a.clients + 1 :]  # several devices: one device's batches arrive in order
            http_clocks = [Clock() for _ in range(a.clients)]
            clocks = [Clock() for _ in mqtt_devices]
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
            ref_runs: list[float] = []
            http_runs: list[float] = []
            mqtt_runs: list[float] = []
            for rep in range(a.repeat):
                ref_runs.append(copy_reference(url, ref_device, a.messages * a.batch))
                counts = [0] * a.clients
                # the signed bodies are made before the clock starts, as the reference's rows and the
                # MQTT messages are: the figure is the service's ingest, not this Python client's JSON
                bodies = [[_signed_body(http_clocks[i], devices[i][1], a.batch) for _ in range(a.messages // a.clients)]
                          for i in range(a.clients)]  # fmt: skip

                def client(i: int, counts: list[int] = counts, bodies: list[list[tuple[bytes, str]]] = bodies) -> None:
                    dev = devices[i][0]
                    with httpx.Client(base_url=base, timeout=60) as c:
                        for raw, sig in bodies[i]:
                            r = c.post(f"/api/v1/devices/{dev}/readings", content=raw,
                                       headers={"X-Device-Signature": sig})  # fmt: skip
                            counts[i] += r.json()["accepted"]

                dt = run_threads([partial(client, i) for i in range(a.clients)])
                assert sum(counts) == a.clients * (a.messages // a.clients) * a.batch, f"HTTP accepted {sum(counts)}"
                http_runs.append(sum(counts) / dt)

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
                mqtt_runs.append(accepted / (time.perf_counter() - t0))
                assert accepted == a.messages * a.batch, f"MQTT accepted {accepted}"
                print(f"run {rep + 1} [{a.db}]: reference {ref_runs[-1]:,.0f}/s   HTTP {http_runs[-1]:,.0f}/s "  # noqa: T201
                      f"({http_runs[-1] / ref_runs[-1]:.2f})   MQTT {mqtt_runs[-1]:,.0f}/s "
                      f"({mqtt_runs[-1] / ref_runs[-1]:.2f})")  # fmt: skip
            pub.loop_stop()
            pub.disconnect()
            ref_name = "raw COPY" if a.db == "postgresql" else "raw executemany"
            print(  # noqa: T201
                f"reference [{a.db}] {ref_name}: min {min(ref_runs):,.0f} / median "
                f"{statistics.median(ref_runs):,.0f} readings/s ({a.messages * a.batch:,} rows, one transaction)"
            )
            summary(
                f"sensors[{a.db}] HTTP ({a.clients} clients, batches of {a.batch}, 2 API workers)", http_runs, ref_runs
            )
            summary(f"sensors[{a.db}] MQTT ({a.messages} messages of {a.batch})", mqtt_runs, ref_runs)


if __name__ == "__main__":
    main()
