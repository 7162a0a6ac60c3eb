"""Sensor batches over MQTT through the real Mosquitto broker (127.0.0.1:1883, shared by every
test run on the machine: each test takes its own topic prefix and subscription group)."""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from tests.world import World, make_world
from traceability_api.compose import attach_mqtt
from traceability_api.evidence.models import SensorReading
from traceability_api.evidence.mqtt import MqttIngest
from traceability_api.evidence.sensors import canonical_batch, sign
from traceability_api.main import create_app
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

BROKER = "mqtt://127.0.0.1:1883"
RECENT = utcnow().replace(microsecond=0) - timedelta(days=1)


@dataclass
class Bus:
    """A device's side of the broker: publish batches, read the service's answers."""

    prefix: str
    client: mqtt.Client
    results: queue.Queue[tuple[str, dict[str, Any]]]

    def publish(self, device: int | str, payload: bytes | str) -> None:
        self.client.publish(f"{self.prefix}/sensors/{device}/readings", payload, qos=1).wait_for_publish(10)

    def answer(self) -> dict[str, Any]:
        return self.results.get(timeout=15)[1]


def batch(secret: str, seq: int, values: list[float], minute: int = 0) -> dict[str, Any]:
    rs = [{"ts": (RECENT + timedelta(minutes=minute + i)).isoformat(), "value": v} for i, v in enumerate(values)]
    msg: dict[str, Any] = {"seq": seq, "readings": rs}
    return msg | {"sig": sign(secret.encode(), canonical_batch(msg))}


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}/agritrace"


@pytest.fixture
def service(runtime: Runtime) -> Iterator[tuple[World, MqttIngest, Bus]]:
    run = unique_prefix()
    runtime.settings.mqtt_url = BROKER
    runtime.settings.mqtt_topic_prefix = run
    runtime.settings.mqtt_group = "g-" + run.split("/")[0]
    runtime.settings.mqtt_max_bytes = 100_000
    mq = attach_mqtt(runtime)
    assert mq is not None
    results: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    device_side = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    device_side.on_message = lambda c, u, m: results.put((m.topic, json.loads(m.payload)))
    device_side.connect("127.0.0.1", 1883)
    device_side.loop_start()
    device_side.subscribe(f"{run}/sensors/+/result", qos=1)
    try:
        with TestClient(create_app(runtime)) as client:
            assert mq.subscribed.wait(15), "the service did not subscribe"
            yield make_world(runtime, client), mq, Bus(run, device_side, results)
    finally:
        device_side.loop_stop()
        device_side.disconnect()


def new_device(w: World) -> tuple[int, str]:
    r = w.post(w.coop, "/api/v1/devices", {"name": "kho-1", "kind": "temperature"})
    assert r.status_code == 201, r.text
    return r.json()["device"]["id"], r.json()["secret"]


def stored(runtime: Runtime, device: int) -> int:
    with Session(runtime.engine) as s:
        return int(s.exec(select(func.count()).where(SensorReading.device_id == device)).one())


def test_sensor_batches_over_mqtt(service: tuple[World, MqttIngest, Bus], runtime: Runtime) -> None:
    w, mq, bus = service
    dev, secret = new_device(w)
    bus.publish(dev, json.dumps(batch(secret, 1, [25.0, 26.0, 500.0])))
    got = bus.answer()
    assert got["accepted"] == 2 and "outside the physical range" in got["rejected"][0]["reason"]
    forged = batch(secret, 2, [25.5]) | {"sig": "00" * 32}
    bus.publish(dev, json.dumps(forged))
    assert "signature does not match" in bus.answer()["error"]
    bus.publish(dev, json.dumps(batch(secret, 1, [25.0, 26.0, 500.0])))  # a replay: refused, nothing stored
    assert "already received" in bus.answer()["error"]
    assert stored(runtime, dev) == 2
    health = w.client.get("/healthz")
    mqtt_health = health.json()["mqtt"]
    assert health.status_code == 200 and mqtt_health | {"ok": True, "ingested": 1, "refused": 2} == mqtt_health


def hostile(secret: str) -> list[tuple[str, bytes]]:
    good = batch(secret, 7, [25.0])
    sig = good["sig"]
    cases: list[tuple[str, Any]] = [
        ("sig is a number (the reported crash)", {"seq": 7, "readings": good["readings"], "sig": 5}),
        ("sig null", {**good, "sig": None}),
        ("sig a list", {**good, "sig": [sig]}),
        ("sig an object", {**good, "sig": {"hex": sig}}),
        ("sig not ASCII", {**good, "sig": "ữ" * 64}),
        ("seq a string", {**good, "seq": "7"}),
        ("seq a float", {**good, "seq": 7.5}),
        ("seq true", {**good, "seq": True}),
        ("seq huge", {**good, "seq": 10**30}),
        ("readings a number", {**good, "readings": 5}),
        ("readings null", {**good, "readings": None}),
        ("readings an object", {**good, "readings": {"ts": 1}}),
        ("no readings", {"seq": 7, "sig": sig}),
        ("a list", [good]),
        ("a number", 5),
        ("a string", "readings"),
        ("null", None),
    ]
    raw = [(name, json.dumps(body).encode()) for name, body in cases]
    return raw + [
        ("invalid UTF-8", b'\xff\xfe{"readings": [], "sig": "\xc3\x28"}'),
        ("not JSON", b"{{{"),
        ("empty", b""),
        ("NaN and garbage", b'{"seq": NaN, "readings": [Infinity], "sig": "x"'),
        ("huge", b'{"seq": 7, "readings": [' + b'{"ts": "2026-01-01T00:00:00Z", "value": 1},' * 5000 + b"]}"),
        ("deep", b"[" * 100_000 + b"]" * 100_000),
        ("deep object", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("deep but quoted brackets fine, still refused", b'{"seq": [[[[[[[[[["["]]]]]]]]]]}'),
    ]


def test_no_payload_stops_ingestion(service: tuple[World, MqttIngest, Bus], runtime: Runtime) -> None:
    w, mq, bus = service
    dev, secret = new_device(w)
    cases = hostile(secret)
    for _, payload in cases:
        bus.publish(dev, payload)
    for name, _ in cases:
        answer = bus.answer()
        assert set(answer) == {"error"} and answer["error"], (name, answer)
    for topic in ("abc", "99999999999999999999999", "999999"):  # bad device ids, an unknown device
        bus.publish(topic, json.dumps(batch(secret, 8, [25.0])))
        assert "error" in bus.answer()
    # and after all that, a valid batch is still ingested
    bus.publish(dev, json.dumps(batch(secret, 9, [24.0, 24.5], minute=30)))
    assert bus.answer()["accepted"] == 2 and stored(runtime, dev) == 2
    health = w.client.get("/healthz").json()["mqtt"]
    assert health["ok"] and health["thread_alive"] and health["connected"]
    assert (health["received"], health["refused"], health["ingested"], health["failed"]) == (
        len(cases) + 4, len(cases) + 3, 1, 0)  # fmt: skip


def test_a_refused_payload_is_answered_with_what_is_wrong_with_it(
    service: tuple[World, MqttIngest, Bus], runtime: Runtime
) -> None:
    """A device's firmware sending NaN, a payload over the size limit or nested too deep was answered
    '... : JsonRefused' or '... : JsonTooLarge' (the exception's class), where HTTP says which bound it
    broke; now the MQTT answer says it too.  Nothing is stored, and the next good batch is."""
    w, mq, bus = service
    dev, secret = new_device(w)
    good = batch(secret, 1, [25.0])
    nan = json.dumps(good).replace("25.0", "NaN")
    big = b'{"pad": "' + b"x" * runtime.settings.mqtt_max_bytes + b'"}'
    cases = [(nan, "NaN"), (big, "exceeds the limit"), ("[" * 20 + "]" * 20, "nested 20 levels"),
             ('{"seq": 1,', "Expecting")]  # fmt: skip
    for payload, _ in cases:
        bus.publish(dev, payload)
    for _, why in cases:
        answer = bus.answer()["error"]
        assert why in answer, (why, answer)
    assert stored(runtime, dev) == 0
    bus.publish(dev, json.dumps(good))
    assert bus.answer()["accepted"] == 1 and stored(runtime, dev) == 1


def test_healthz_says_when_the_subscriber_is_dead(service: tuple[World, MqttIngest, Bus]) -> None:
    w, mq, _ = service
    assert w.client.get("/healthz").json()["mqtt"]["ok"] is True
    mq.stop()
    r = w.client.get("/healthz")
    assert r.status_code == 503 and r.json()["status"] == "degraded"
    assert r.json()["mqtt"] | {"ok": False, "thread_alive": False} == r.json()["mqtt"]


def test_two_services_on_one_broker_keep_their_own_messages(
    service: tuple[World, MqttIngest, Bus], runtime: Runtime
) -> None:
    """Another service (its own topic prefix and group) on the same broker never sees our messages."""
    w, mq, bus = service
    other_settings = runtime.settings.model_copy(update={"mqtt_topic_prefix": unique_prefix(), "mqtt_group": "other"})
    other = MqttIngest(runtime.engine, other_settings)
    other.start()
    try:
        assert other.subscribed.wait(15)
        dev, secret = new_device(w)
        for seq in range(1, 6):
            bus.publish(dev, json.dumps(batch(secret, seq, [25.0], minute=seq)))
        assert [bus.answer()["accepted"] for _ in range(5)] == [1] * 5
        assert mq.counts["ingested"] == 5 and other.counts["received"] == 0
    finally:
        other.stop()
