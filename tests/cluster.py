"""Real service processes for the operations tests and the province benchmark: start
``agritrace serve`` instances, seed a cooperative's lot over HTTP, drive capture load from threads
and remember every acknowledged event, make and drop throw-away PostgreSQL databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from chain.node import free_port

REPO = Path(__file__).resolve().parent.parent
AGRITRACE = [sys.executable, "-m", "traceability_api.cli"]
PG_ADMIN = os.environ.get("AGRITRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
CONNECTION_ERRORS = (httpx.TransportError,)  # refused, reset, closed mid-answer: a dying instance


def wait_for(what: str, check: Callable[[], bool], deadline_s: float = 90.0, step_s: float = 0.1) -> float:
    """Poll until ``check()``; the seconds it took (an AssertionError past the deadline)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > deadline_s:
            raise AssertionError(f"not within {deadline_s:.0f} s: {what}")
        time.sleep(step_s)
    return time.monotonic() - start


def base_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    fixed = {"PYTHONPATH": str(REPO), "AGRITRACE_RATE_LIMIT_ENABLED": "false", "AGRITRACE_LOG_JSON": "true"}
    return env | fixed | settings


@dataclass
class Instance:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any] | None:
        try:
            body: dict[str, Any] = httpx.get(self.url + "/healthz", timeout=2).json()
            return body
        except (httpx.HTTPError, ValueError):
            return None

    def kill(self) -> None:
        """kill -9: no shutdown, no lease release."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mib(self) -> float:
        """Resident memory of the instance's process (Linux /proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def start_instance(name: str, env: dict[str, str], workdir: Path, *, wait: bool = True) -> Instance:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    proc = subprocess.Popen([*AGRITRACE, "serve"], env=env | {"AGRITRACE_PORT": str(port)}, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))  # fmt: skip
    inst = Instance(name, port, proc, log)
    if wait:
        wait_until_up(inst)
    return inst


def wait_until_up(inst: Instance, deadline_s: float = 120) -> None:
    def up() -> bool:
        if inst.proc.poll() is not None:
            raise AssertionError(f"{inst.name} exited ({inst.proc.returncode}): {inst.log.read_text()[-2000:]}")
        return inst.health() is not None

    wait_for(f"{inst.name} up", up, deadline_s, 0.2)


def create_org(database_url: str, name: str, kind: str = "cooperative") -> str:
    """What ``agritrace create-org`` does (migrate, create, print the admin key), in this process:
    one interpreter start less per test."""
    from sqlmodel import Session

    from traceability_api.db import make_engine, migrate
    from traceability_api.parties.models import OrganisationCreate
    from traceability_api.parties.service import create_organisation

    engine = make_engine(database_url)
    try:
        migrate(engine)
        with Session(engine) as s:
            _, issued = create_organisation(s, OrganisationCreate(name=name, kind=kind, admin_name="admin"))  # type: ignore[arg-type]
            s.commit()
    finally:
        engine.dispose()
    return issued.api_key


def gtin_of(n: int) -> str:
    body = f"0893{n:09d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def seed_lot(url: str, key: str, n: int, lot: str) -> str:
    """A product, a plot and a harvested lot of one cooperative; the lot's Digital Link URI."""
    h = {"Authorization": f"Bearer {key}"}
    g = gtin_of(n)
    with httpx.Client(base_url=url, headers=h, timeout=30) as c:
        if not any(p["gtin"] == g for p in c.get("/api/v1/products").json()):
            r = c.post("/api/v1/products", json={"gtin": g, "name": f"Lúa ST25 #{n}", "unit": "KGM"})
            assert r.status_code == 201, r.text
        places = c.get("/api/v1/places").json()
        if not places:
            plot = {"kind": "plot", "name": f"Ruộng {n}", "planting_area_code": f"CT-{n:04d}",
                    "geo": {"type": "Point", "coordinates": [105.58, 10.12]}}  # fmt: skip
            r = c.post("/api/v1/places", json=plot)
            assert r.status_code == 201, r.text
            places = [r.json()]
        harvest = {"gtin": g, "lot_code": lot, "quantity": 1000.0, "plot_id": places[0]["id"],
                   "harvest_date": "2025-02-28", "event_time": "2025-02-28T17:00:00+07:00"}  # fmt: skip
        r = c.post("/api/v1/lots", json=harvest)
        assert r.status_code == 201, r.text
    return f"https://id.gs1.org/01/{g}/10/{lot}"


def inspection(lot_uri: str, seq: int) -> dict[str, Any]:
    """A distinct ObjectEvent on the lot (its time gives it its own hash)."""
    t = datetime.fromisoformat("2025-03-01T08:00:00+07:00") + timedelta(seconds=seq)
    return {"type": "ObjectEvent", "eventTime": t.isoformat(), "eventTimeZoneOffset": "+07:00", "action": "OBSERVE",
            "bizStep": "inspecting", "quantityList": [{"epcClass": lot_uri, "quantity": 1, "uom": "KGM"}],
            "eventID": f"urn:uuid:{uuid.uuid4()}"}  # fmt: skip


@dataclass
class Load:
    """Threads posting events round-robin to the instances; records what each answer was."""

    urls: list[str]
    key: str
    lot_uri: str
    threads: int = 4
    acked: list[str] = field(default_factory=list)  # hashIds answered 201
    latencies: list[float] = field(default_factory=list)
    connection_errors: int = 0
    bad_answers: list[str] = field(default_factory=list)  # anything but 201 / a connection error
    _stop: threading.Event = field(default_factory=threading.Event)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def _run(self, k: int) -> None:
        h = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(headers=h, timeout=30) as c:
            i = k
            while not self._stop.is_set():
                url = self.urls[i % len(self.urls)]
                i += 1
                start = time.perf_counter()
                try:
                    r = c.post(url + "/api/v1/events", json=inspection(self.lot_uri, self._next()))
                except CONNECTION_ERRORS:
                    with self._lock:
                        self.connection_errors += 1
                    time.sleep(0.05)
                    continue
                with self._lock:
                    if r.status_code == 201:
                        self.acked.append(r.json()["hashId"])
                        self.latencies.append(time.perf_counter() - start)
                    else:
                        self.bad_answers.append(f"{url} {r.status_code} {r.text[:200]}")

    def start(self) -> Load:
        self._workers = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(timeout=60)


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); its URL."""
    name = "agritrace_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class MqttDevice:
    """A sensor's side of the broker: signed batches out, the service's answers in."""

    def __init__(self, prefix: str, device_id: int, secret: str, broker: tuple[str, int] = ("127.0.0.1", 1883)):
        import queue

        import paho.mqtt.client as mqtt

        self.prefix, self.device_id, self.secret = prefix, device_id, secret
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:10]}")
        self.client.on_message = lambda _c, _u, m: self.answers.put(json.loads(m.payload))
        self.client.connect(*broker)
        self.client.loop_start()
        self.client.subscribe(f"{prefix}/sensors/{device_id}/result", qos=1)
        self.seq = 0

    def send(self, readings: list[dict[str, Any]]) -> None:
        from traceability_api.evidence.sensors import canonical_batch, sign

        self.seq += 1
        msg: dict[str, Any] = {"seq": self.seq, "readings": readings}
        msg["sig"] = sign(self.secret.encode(), canonical_batch(msg))
        topic = f"{self.prefix}/sensors/{self.device_id}/readings"
        self.client.publish(topic, json.dumps(msg), qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
