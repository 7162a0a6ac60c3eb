"""Evidence: attachments, farm diary, food-safety rules, sensors over HTTP, summaries (MQTT: test_mqtt.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.images import picture
from tests.world import World, gtin, make_world
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.audit.service import audit
from traceability_api.evidence.sensors import sign
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

JPEG = picture("JPEG")
RECENT = utcnow().replace(microsecond=0) - timedelta(days=2)  # sensor readings are accepted up to 30 days back


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def plot(w: World) -> int:
    assert w.post(w.coop, "/api/v1/products", {"gtin": gtin(1), "name": "Lúa ST25"}).status_code == 201
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng 7", "planting_area_code": "CT-7"})
    return int(r.json()["id"])


def spray(w: World, plot_id: int, when: str, **kw: Any) -> Any:
    body = {
        "activity": "spraying",
        "time": when,
        "product": "Anvil 5SC",
        "active_ingredient": "hexaconazole",
        "dose": 1.0,
        "dose_unit": "l/ha",
        "phi_days": 14,
        "area_ha": 2.0,
        "supplier_lot": "AV-2401",
    } | kw
    return w.post(w.coop, f"/api/v1/places/{plot_id}/diary", body, role="recorder")


def harvest(w: World, plot_id: int, lot: str, when: str, role: str = "recorder", **kw: Any) -> Any:
    return w.post(w.coop, "/api/v1/lots", {"gtin": gtin(1), "lot_code": lot, "quantity": 5000, "plot_id": plot_id,
                                          "event_time": when, **kw}, role=role)  # fmt: skip


def test_attachments_and_diary(w: World, runtime: Runtime) -> None:
    p = plot(w)
    up = w.client.post("/api/v1/attachments", files={"file": ("la.jpg", JPEG, "image/jpeg")}, headers=w.coop.h())
    assert up.status_code == 201 and up.json()["mediaType"] == "image/jpeg"
    digest = up.json()["sha256"]
    bad = w.client.post("/api/v1/attachments", files={"file": ("x.jpg", b"not an image", "image/jpeg")},
                        headers=w.coop.h())  # fmt: skip
    assert bad.status_code == 422 and "JPEG" in bad.json()["detail"]
    runtime.settings.attachment_max_bytes = len(JPEG) - 1
    big = w.client.post("/api/v1/attachments", files={"file": ("b.jpg", JPEG, "image/jpeg")}, headers=w.coop.h())
    assert big.status_code == 422 and "exceeds the limit" in big.json()["detail"]
    assert w.client.get(f"/api/v1/attachments/{digest}", headers=w.coop.h()).content == JPEG
    r = w.post(w.coop, f"/api/v1/places/{p}/diary",
               {"activity": "pest_observation", "time": "2025-01-10T07:00:00+07:00", "pest": "rầy nâu",
                "attachments": [digest]}, role="recorder")  # fmt: skip
    assert r.status_code == 201, r.text
    ev = w.get(w.coop, f"/api/v1/events/{r.json()['eventId']}").json()["event"]
    assert ev["agri:diary"]["attachments"] == [f"ni:///sha-256;{digest}"]
    assert ev["bizStep"] == "https://ns.agritrace.vn/voc/BizStep-pest_observation"
    missing = w.post(w.coop, f"/api/v1/places/{p}/diary", {"activity": "sowing", "time": "2025-01-01T07:00:00+07:00",
                                                           "attachments": ["ab" * 32]})  # fmt: skip
    assert missing.status_code == 422 and "not uploaded" in missing.text
    incomplete = w.post(
        w.coop, f"/api/v1/places/{p}/diary", {"activity": "spraying", "time": "2025-01-01T07:00:00+07:00"}
    )
    assert incomplete.status_code == 422 and "phi_days" in incomplete.text
    banned = spray(w, p, "2025-01-20T07:00:00+07:00", product="Gramoxone", active_ingredient="Paraquat dichloride")
    assert banned.status_code == 422 and "banned" in banned.json()["detail"]


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_a_photo_cut_short_or_damaged_is_refused_and_nothing_is_stored(w: World, kind: str) -> None:
    """An upload cut short on a weak connection starts like a photo (the sniffed bytes) but cannot
    be shown: it was stored, and every reader of the diary entry citing it saw a broken image."""
    whole = picture(kind, seed=3, size=(64, 48))
    for broken in (whole[: len(whole) // 2], whole[:40] + bytes(len(whole) - 40)):
        r = w.client.post("/api/v1/attachments", files={"file": ("p", broken, "image/x")}, headers=w.coop.h())
        assert r.status_code == 422 and "cannot be read" in r.json()["detail"], r.text
        digest = hashlib.sha256(broken).hexdigest()
        assert w.client.get(f"/api/v1/attachments/{digest}", headers=w.coop.h()).status_code == 404
    ok = w.client.post("/api/v1/attachments", files={"file": ("p", whole, "image/x")}, headers=w.coop.h())
    assert ok.status_code == 201 and ok.json()["mediaType"] == f"image/{kind.lower()}", ok.text


def test_a_pdf_without_its_end_and_a_picture_of_too_many_pixels_are_refused(w: World) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    cut = w.client.post(
        "/api/v1/attachments", files={"file": ("c.pdf", pdf[:-7], "application/pdf")}, headers=w.coop.h()
    )
    assert cut.status_code == 422 and "%%EOF" in cut.json()["detail"]
    whole = w.client.post("/api/v1/attachments", files={"file": ("c.pdf", pdf, "application/pdf")}, headers=w.coop.h())
    assert whole.status_code == 201, whole.text
    huge = picture("PNG", size=(10_000, 5_001))  # compresses to a few kilobytes, 50,010,000 pixels
    r = w.client.post("/api/v1/attachments", files={"file": ("h.png", huge, "image/png")}, headers=w.coop.h())
    assert r.status_code == 422 and "10000 x 5001 pixels" in r.json()["detail"], r.text


def test_pre_harvest_interval_both_ways(w: World, runtime: Runtime) -> None:
    p = plot(w)
    assert spray(w, p, "2025-02-20T07:00:00+07:00").status_code == 201
    early = harvest(w, p, "E1", "2025-02-28T07:00:00+07:00")
    assert early.status_code == 409 and "pre-harvest interval" in early.json()["detail"]
    assert "2025-03-06" in early.json()["detail"]  # safe from 14 days after spraying
    # a recorder cannot override; an admin can, and the override is recorded and shown
    assert harvest(w, p, "E1", "2025-02-28T07:00:00+07:00", phi_override_reason="x").status_code == 403
    ok = harvest(w, p, "E1", "2025-02-28T07:00:00+07:00", role="admin",
                 phi_override_reason="Lab test 2025-02-27: residue below MRL")  # fmt: skip
    assert ok.status_code == 201, ok.text
    events = w.get(
        w.authority, "/api/v1/events", role="auditor", params={"lot": f"https://id.gs1.org/01/{gtin(1)}/10/E1"}
    )
    ilmd = events.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["ilmd"]
    assert ilmd["agri:phiOverride"]["reason"].startswith("Lab test")
    page = w.client.get(f"/01/{gtin(1)}/10/E1").text
    assert "thời gian cách ly" in page and "Lab test" in page and "Anvil 5SC" in page
    assert harvest(w, p, "L2", "2025-03-07T07:00:00+07:00").status_code == 201  # after the interval: fine


def signed(secret: str, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"X-Device-Signature": sign(secret.encode(), raw),
                 "Content-Type": "application/json"}  # fmt: skip


def device(w: World, place: int, kind: str = "temperature") -> tuple[int, str]:
    r = w.post(w.coop, "/api/v1/devices", {"name": f"{kind}-1", "kind": kind, "place_id": place,
                                           "threshold_low": 20, "threshold_high": 35})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["device"]["id"], r.json()["secret"]


def readings(start: datetime, values: list[float], step_min: int = 30) -> list[dict[str, Any]]:
    return [{"ts": (start + timedelta(minutes=i * step_min)).isoformat(), "value": v} for i, v in enumerate(values)]


def test_sensor_batches_over_http(w: World) -> None:
    p = plot(w)
    dev, secret = device(w, p)
    other, other_secret = device(w, p, "humidity")
    body = {"seq": 1, "readings": readings(RECENT, [28.5, 29.0, 500.0, 30.1])}
    raw, headers = signed(secret, body)
    r = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3
    assert r.json()["rejected"] == [{"index": 2, "reason": "value 500.0 CEL is outside the physical range -40..85 CEL "
                                                            "of this sensor type"}]  # fmt: skip
    again = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)
    assert again.status_code == 409 and "already received" in again.json()["detail"]  # a replay changes nothing
    raw2, headers2 = signed(secret, body | {"seq": 2})
    resent = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw2, headers=headers2).json()
    assert resent["accepted"] == 0 and resent["duplicates"] == 3
    forged = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers={"X-Device-Signature": "00" * 32})
    assert forged.status_code == 401 and "signature does not match" in forged.json()["detail"]
    wrong = w.client.post(f"/api/v1/devices/{other}/readings", content=raw, headers=headers)
    assert wrong.status_code == 401 and f"device {other}" in wrong.json()["detail"]
    unknown = w.client.post("/api/v1/devices/999/readings", content=raw, headers=headers)
    assert unknown.status_code == 404 and "unknown" in unknown.json()["detail"]
    unsigned = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw)
    assert unsigned.status_code == 401 and "X-Device-Signature" in unsigned.json()["detail"]
    bad = {
        "seq": 1,
        "readings": [
            {"ts": "yesterday", "value": 1},
            {"ts": RECENT.replace(tzinfo=None).isoformat(), "value": 1},
            {"ts": "2099-01-01T00:00:00Z", "value": 1},
            {"ts": RECENT.isoformat(), "value": "hot"},
            {"ts": (utcnow() - timedelta(days=31)).isoformat(), "value": 1},
            {"ts": (utcnow() + timedelta(minutes=11)).isoformat(), "value": 1},
        ],
    }
    raw, headers = signed(other_secret, bad)
    reasons = [
        x["reason"]
        for x in w.client.post(f"/api/v1/devices/{other}/readings", content=raw, headers=headers).json()["rejected"]
    ]
    assert [
        "ISO 8601" in reasons[0],
        "time zone" in reasons[1],
        "future" in reasons[2],
        "finite number" in reasons[3],
        "too old" in reasons[4],
        "future" in reasons[5],
    ] == [True] * 6


def test_a_reading_beyond_a_floats_range_is_rejected_alone(w: World) -> None:
    """A JSON integer of 400 digits is a value no float holds: math.isfinite raised OverflowError and
    the whole batch (the good readings with it) was refused with the generic 422."""
    dev, secret = device(w, plot(w))
    body = {"seq": 1, "readings": readings(RECENT, [21.0, 10**400, -(10**400), 22.0])}
    raw, headers = signed(secret, body)
    r = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": [
        {"index": 1, "reason": "value must be a finite number"},
        {"index": 2, "reason": "value must be a finite number"}]}  # fmt: skip


def test_a_reading_in_another_unit_than_its_sensors_is_rejected_not_stored_as_if_in_it(w: World) -> None:
    """A reading may name its unit; one naming another unit than its sensor's (a cold store's logger
    in Fahrenheit, "uom": "FAH") was accepted and stored as that many degrees Celsius: 77 °F became
    77 °C, above the threshold, on the lot's chart and alerts."""
    dev, secret = device(w, plot(w))
    units = [{"uom": "FAH"}, {"unit": "K"}, {"uom": 5}, {"uom": "CEL"}, {"unit": "°C"}, {}]
    body = {
        "seq": 1,
        "readings": [
            r | u for r, u in zip(readings(RECENT, [77.0, 295.0, 20.0, 21.0, 22.0, 23.0]), units, strict=True)
        ],
    }
    raw, headers = signed(secret, body)
    r = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], [x["index"] for x in r.json()["rejected"]]) == (3, [0, 1, 2])
    reasons = [x["reason"] for x in r.json()["rejected"]]
    assert reasons[0] == "uom 'FAH' is not the unit of this sensor (CEL): convert the value or leave uom out"
    assert reasons[1].startswith("unit 'K' is not") and reasons[2].startswith("uom 5 is not")


def test_sensor_batch_sequence_numbers(w: World) -> None:
    """Each batch carries a signed seq: new ones are taken (out of order within a window of 63, as
    batches handled by several workers may finish), a seen or too old one is refused whole."""
    dev, secret = device(w, plot(w))

    def post(seq: Any, second: int) -> Any:
        raw, headers = signed(secret, {"seq": seq, "readings": readings(RECENT + timedelta(seconds=second), [25.0])})
        return w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)

    assert [post(s, s).status_code for s in (5, 3, 4, 100, 40)] == [200] * 5
    for seen in (3, 5, 100, 40, 37):  # seen, or below the window (100 - 63)
        r = post(seen, 1000 + seen)
        assert r.status_code == 409 and "latest seq 100" in r.json()["detail"], (seen, r.text)
    for bad in (None, "101", 0, -1, True, 2.5, 2**63):
        r = post(bad, 2000)
        assert r.status_code == 422 and "seq must be an integer" in r.json()["detail"], (bad, r.text)
    assert post(101, 3000).status_code == 200
    raw, headers = signed(secret, {"seq": 102, "readings": "many"})  # refused batch: its seq is not used up
    assert w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers).status_code == 422
    assert post(102, 3001).status_code == 200


def test_summary_is_anchored_and_a_changed_reading_is_detected(w: World, runtime: Runtime) -> None:
    p = plot(w)
    dev, secret = device(w, p)
    vals = [24.0, 26.0, 36.5, 37.0, 30.0, 18.0, 25.0]  # two out-of-threshold periods
    raw, headers = signed(secret, {"seq": 1, "readings": readings(RECENT - timedelta(days=5), vals)})
    assert w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers).json()["accepted"] == 7
    lot = harvest(w, p, "S1", (RECENT - timedelta(days=1)).isoformat()).json()
    r = w.post(w.coop, f"/api/v1/lots/{lot['id']}/sensor-summary", {})
    assert r.status_code == 201, r.text
    report = r.json()["sensorElementList"][0]["sensorReport"][0]
    assert (report["minValue"], report["maxValue"], report["agri:count"], report["agri:outOfThresholdPeriods"]) == (
        18.0, 37.0, 7, 2)  # fmt: skip
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    assert audit(runtime.engine, runtime.chain.contract).ok
    page = w.client.get(f"/01/{gtin(1)}/10/S1").text
    assert 'id="sensors"' in page and "<polyline" in page
    with runtime.engine.begin() as c:
        c.execute(text("UPDATE sensor_reading SET value = 29.5 WHERE value = 37.0"))
    rep = audit(runtime.engine, runtime.chain.contract)
    assert any("raw readings" in p for p in rep.problems), rep.problems


def test_the_consumer_page_charts_only_the_lots_own_readings(w: World) -> None:
    """The page charts the devices its latest sensor summary names, and a summary is an event its
    recorder writes: citing another organisation's device (the distributor's cold room, at no place
    of the lot) put that device's readings on the lot's public page; a malformed one (a device id
    that is no number, no startTime) made the page a 500.  Only a device at a place of the lot,
    over the time the lot was there, is charted; the summary the server builds still is."""
    from tests.world import lot_uri

    p = plot(w)
    dev, secret = device(w, p)
    raw, headers = signed(secret, {"seq": 1, "readings": readings(RECENT - timedelta(days=5), [24.0, 26.0, 25.0])})
    assert w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers).json()["accepted"] == 3
    lot = harvest(w, p, "S2", (RECENT - timedelta(days=1)).isoformat()).json()
    r = w.post(w.distributor, "/api/v1/devices", {"name": "cold room", "kind": "temperature"})
    cold, cold_secret = r.json()["device"]["id"], r.json()["secret"]
    raw, headers = signed(cold_secret, {"seq": 1, "readings": readings(RECENT - timedelta(hours=30), [3.1, 17.7, 3.2])})
    assert w.client.post(f"/api/v1/devices/{cold}/readings", content=raw, headers=headers).json()["accepted"] == 3
    report = [{"type": "Temperature", "minValue": 3, "maxValue": 4, "meanValue": 3.5, "uom": "CEL"}]

    def summary(hours: int, meta: dict[str, Any]) -> str:
        ev = {"type": "ObjectEvent", "eventTime": (RECENT - timedelta(hours=hours)).isoformat(),
              "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "bizStep": "sensor_reporting",
              "quantityList": [{"epcClass": lot_uri(gtin(1), "S2")}],
              "sensorElementList": [{"sensorMetadata": meta, "sensorReport": report}]}  # fmt: skip
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code == 201, r.text
        page = w.client.get(f"/01/{gtin(1)}/10/S2")
        assert page.status_code == 200, page.text[-500:]
        return str(page.text)

    assert 'id="sensors"' not in summary(20, {"deviceID": "urn:agritrace:device:x"})
    assert 'id="sensors"' not in summary(19, {"deviceID": f"urn:agritrace:device:{dev}"})  # no start, no end
    window = {"startTime": (RECENT - timedelta(days=3)).isoformat(), "endTime": RECENT.isoformat()}
    assert 'id="sensors"' not in summary(18, {"deviceID": f"urn:agritrace:device:{cold}"} | window)
    r = w.post(w.coop, f"/api/v1/lots/{lot['id']}/sensor-summary", {})
    assert r.status_code == 201, r.text
    page = w.client.get(f"/01/{gtin(1)}/10/S2").text
    assert 'id="sensors"' in page and "<polyline" in page


def test_sensor_readings_are_stored_exactly_as_sent(w: World, runtime: Runtime) -> None:
    """Times in any offset (Nepal's +05:45, a seconds offset, UTC as Z, microseconds) and values in
    any JSON number form (integers, exponents, negative zero, the smallest and largest finite
    doubles within the sensor's range) are stored as the same instants and the same doubles: the
    PostgreSQL path sends them as array literals parsed by the database."""
    from datetime import timezone

    from sqlmodel import Session

    from traceability_api.evidence.sensors import readings_between

    p = plot(w)
    dev, secret = device(w, p)
    base = RECENT.replace(microsecond=123456)
    zones = [timezone(timedelta(hours=5, minutes=45)), timezone(timedelta(hours=-3, seconds=30)), None]
    values = [25, 2.5e1, -0.0, 1e-300, 84.99999999999999, -39.5, 0.1 + 0.2, 7]
    sent = []
    for i, v in enumerate(values):
        t = base + timedelta(minutes=i)
        zone = zones[i % len(zones)]
        ts = t.astimezone(zone).isoformat() if zone is not None else t.isoformat().replace("+00:00", "Z")
        sent.append({"ts": ts, "value": v})
    raw, headers = signed(secret, {"seq": 1, "readings": sent})
    r = w.client.post(f"/api/v1/devices/{dev}/readings", content=raw, headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == len(values), r.text
    with Session(runtime.engine) as s:
        stored = readings_between(s, dev, base - timedelta(minutes=1), base + timedelta(hours=1))
    assert [(t.timestamp(), v) for t, v in stored] == [
        (datetime.fromisoformat(x["ts"].replace("Z", "+00:00")).timestamp(), float(x["value"])) for x in sent
    ]
    assert all(t == base + timedelta(minutes=i) for i, (t, _) in enumerate(stored))
