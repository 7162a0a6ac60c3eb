"""The Dong Thap sectors through the API: the activity catalogue, the withdrawal period (harvest
and egg sale blocked, admin override visible to the authority), banned substances kept by the
authority, tagged broodstock with pond history, egg trays, and pond alerts delivered to a real
webhook and a real SMTP server (aiosmtpd), with the sustained breach anchored as evidence."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from chain.node import free_port
from tests.inbox import Inbox
from tests.webhooks import webhook
from tests.world import World, gtin, lot_uri, make_world, obj_event
from traceability_api.evidence.sensors import sign
from traceability_api.husbandry.alerts import AlertWatcher
from traceability_api.lots.models import SerialUnit
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

pytestmark = pytest.mark.postgres
FRY, FISH, EGGS, SALTED = gtin(71), gtin(72), gtin(73), gtin(74)


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def place(w: World, kind: str, name: str, code: str) -> int:
    r = w.post(w.coop, "/api/v1/places", {"kind": kind, "name": name, "sector_code": code})
    assert r.status_code == 201, r.text
    assert r.json()["sector_code"] == code and r.json()["kind"] == kind
    return int(r.json()["id"])


def product(w: World, g: str, name: str, unit: str) -> None:
    assert w.post(w.coop, "/api/v1/products", {"gtin": g, "name": name, "unit": unit}).status_code == 201


def act(w: World, place_id: int, body: dict[str, Any], role: str = "recorder") -> Any:
    return w.post(w.coop, f"/api/v1/places/{place_id}/activities", body, role=role)


def drug(w: World, place_id: int, when: str, days: int = 10, **kw: Any) -> Any:
    return act(w, place_id, {"activity": "veterinary_drug", "time": when, "product": "Oxytetracyclin 50%",
                             "active_ingredient": "oxytetracycline", "dose": 3, "dose_unit": "g/kg thức ăn",
                             "withdrawal_days": days} | kw)  # fmt: skip


def test_catalogue_lists_sector_activities_in_both_languages(w: World) -> None:
    cat = {a["activity"]: a for a in w.client.get("/api/v1/activities").json()}
    assert cat["veterinary_drug"]["label"] == {"vi": "dùng thuốc thú y", "en": "Veterinary drug"}
    assert "withdrawal_days" in cat["veterinary_drug"]["needs"]
    assert cat["egg_collection"]["unitWords"] == {"vi": "quả", "en": "pcs"}  # the one unit table's (H87, pieces)
    assert cat["pot_sale"]["unitWords"]["vi"] == "chậu" and cat["stocking"]["unitWords"]["vi"] == "con"
    assert cat["spraying"]["sector"] == "crop"
    pond = place(w, "pond", "Ao 3", "DT-TH-AO03")
    plot = place(w, "plot", "Vườn hoa", "DT-SD-01")
    wrong = act(w, plot, {"activity": "feeding", "time": "2025-05-01T07:00:00+07:00", "product": "Cám", "quantity": 5})
    assert wrong.status_code == 422 and "feeding is recorded at a" in wrong.text
    incomplete = act(w, pond, {"activity": "veterinary_drug", "time": "2025-05-01T07:00:00+07:00", "product": "X"})
    assert incomplete.status_code == 422 and "withdrawal_days" in incomplete.text
    fed = act(w, pond, {"activity": "feeding", "time": "2025-05-01T07:00:00+07:00", "product": "Thức ăn Cargill 28%",
                        "supplier_lot": "CG-2504", "quantity": 120})  # fmt: skip
    assert fed.status_code == 201, fed.text
    ev = w.get(w.coop, f"/api/v1/events/{fed.json()['eventId']}").json()["event"]
    assert ev["bizStep"] == "https://ns.agritrace.vn/voc/BizStep-feeding"
    assert ev["agri:diary"]["uom"] == "KGM" and ev["agri:diary"]["quantity"] == 120


def test_withdrawal_blocks_fish_harvest_until_it_ends_and_admin_override_is_visible(w: World) -> None:
    product(w, FRY, "Cá tra giống", "NAR")
    product(w, FISH, "Cá tra thương phẩm", "KGM")
    pond = place(w, "pond", "Ao nuôi số 2", "DT-VNTS-TM-02")
    stock = act(w, pond, {"activity": "stocking", "time": "2025-01-05T07:00:00+07:00", "gtin": FRY,
                          "lot_code": "GIONG-01", "quantity": 50000, "source": "Trại giống Hồng Ngự"})  # fmt: skip
    assert stock.status_code == 201, stock.text
    assert drug(w, pond, "2025-05-01T08:00:00+07:00", days=28).status_code == 201
    harvest = {"activity": "fish_harvest", "gtin": FISH, "quantity": 42000}
    blocked = act(w, pond, harvest | {"time": "2025-05-10T06:00:00+07:00", "lot_code": "CT-01"})
    assert blocked.status_code == 409, blocked.text
    assert "withdrawal period" in blocked.text and "2025-05-29" in blocked.text
    reason = {"withdrawal_override_reason": "Xét nghiệm dư lượng âm tính, phiếu KN-0512"}
    by_recorder = act(w, pond, harvest | {"time": "2025-05-12T06:00:00+07:00", "lot_code": "CT-02"} | reason)
    assert by_recorder.status_code == 403
    forced = act(w, pond, harvest | {"time": "2025-05-12T06:00:00+07:00", "lot_code": "CT-02"} | reason, role="admin")
    assert forced.status_code == 201, forced.text
    after = act(w, pond, harvest | {"time": "2025-05-30T06:00:00+07:00", "lot_code": "CT-03"})
    assert after.status_code == 201, after.text
    seen = w.get(w.authority, "/api/v1/overrides").json()
    assert [(o["rule"], o["reason"]) for o in seen] == [("withdrawalOverride", reason["withdrawal_override_reason"])]
    assert w.get(w.distributor, "/api/v1/overrides").json() == []
    page = w.client.get(f"/01/{FISH}/10/CT-02?lang=vi").text  # consumers see it too
    assert "trong thời gian ngưng thuốc" in page and "phiếu KN-0512" in page and "ngưng thuốc 28 ngày" in page
    lot = w.get(w.coop, "/api/v1/lots").json()
    assert {x["lot_code"]: x["uom"] for x in lot} == {"GIONG-01": "NAR", "CT-02": "KGM", "CT-03": "KGM"}
    # the same rule through the EPCIS capture interface
    epcis = obj_event(lot_uri(FISH, "CT-04"), 100, "commissioning", action="ADD", time="2025-05-02T06:00:00+07:00",
                      bizLocation={"id": f"urn:agritrace:place:{pond}"},
                      ilmd={"agri:plot": f"urn:agritrace:place:{pond}"})  # fmt: skip
    epcis["@context"] = [{"agri": "https://ns.agritrace.vn/voc/"}]
    assert w.post(w.coop, "/api/v1/events", epcis).status_code == 409


def eggs_chain(w: World) -> tuple[int, int]:
    product(w, EGGS, "Trứng vịt tươi", "H87")
    product(w, SALTED, "Trứng vịt muối", "H87")
    house = place(w, "flock_house", "Trại vịt Tân Hồng", "DT-CN-TH-07")
    shop_site = place(w, "packhouse", "Cơ sở muối trứng", "DT-CB-01")
    assert drug(w, house, "2025-06-01T07:00:00+07:00", days=7).status_code == 201
    collect = {"activity": "egg_collection", "gtin": EGGS, "grade": "A"}
    during = act(w, house, collect | {"time": "2025-06-03T06:00:00+07:00", "lot_code": "TV-0603", "quantity": 3000})
    assert during.status_code == 201, during.text  # eggs are collected anyway; their sale is held
    clean = act(w, house, collect | {"time": "2025-06-10T06:00:00+07:00", "lot_code": "TV-0610", "quantity": 3200})
    assert clean.status_code == 201
    for src, out in (("TV-0603", "TM-0603"), ("TV-0610", "TM-0610")):
        r = act(w, shop_site, {"activity": "egg_processing", "time": "2025-06-12T08:00:00+07:00", "method": "salting",
                               "input_gtin": EGGS, "input_lot_code": src, "input_quantity": 3000, "gtin": SALTED,
                               "lot_code": out, "quantity": 2950})  # fmt: skip
        assert r.status_code == 201, r.text
    return house, shop_site


def sale(lot: str, **extra: Any) -> dict[str, Any]:
    ev = obj_event(lot_uri(SALTED, lot), None, "retail_selling", time="2025-06-20T09:00:00+07:00", **extra)
    ev["@context"] = [{"agri": "https://ns.agritrace.vn/voc/"}]
    return ev


def test_eggs_collected_inside_a_withdrawal_period_are_not_sold_without_an_admin_override(w: World) -> None:
    eggs_chain(w)
    blocked = w.post(w.coop, "/api/v1/events", sale("TM-0603"), role="recorder")
    assert blocked.status_code == 409 and "sale of lot TV-0603" in blocked.text, blocked.text
    assert w.post(w.coop, "/api/v1/events", sale("TM-0610"), role="recorder").status_code == 201
    override = {"agri:withdrawalOverride": {"reason": "Lô trứng đã xét nghiệm, không tồn dư"}}
    assert w.post(w.coop, "/api/v1/events", sale("TM-0603", **override), role="recorder").status_code == 403
    assert w.post(w.coop, "/api/v1/events", sale("TM-0603", **override)).status_code == 201
    empty = {"agri:withdrawalOverride": {"reason": " "}}
    assert w.post(w.coop, "/api/v1/events", sale("TM-0603", **empty)).status_code == 409
    assert [o["rule"] for o in w.get(w.authority, "/api/v1/overrides").json()] == ["withdrawalOverride"]


def test_egg_trays_resolve_to_flock_collection_day_and_processing(w: World, runtime: Runtime) -> None:
    eggs_chain(w)
    salted = next(x for x in w.get(w.coop, "/api/v1/lots").json() if x["lot_code"] == "TM-0610")
    pdf = w.post(w.coop, f"/api/v1/lots/{salted['id']}/labels", {"serials": 3, "content": 30})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert text.count("Số lượng: 30 quả") == 3 and "Trứng vịt muối" in text  # a tray of 30 eggs, in words
    with Session(runtime.engine) as s:
        serials = list(s.exec(select(SerialUnit.serial).where(SerialUnit.lot_id == salted["id"])).all())
    assert len(serials) == 3
    tray = w.get(w.coop, f"/api/v1/trays/{SALTED}/{serials[0]}").json()
    assert tray["collections"] == [
        {
            "lot": "TV-0610",
            "gtin": EGGS,
            "collectedOn": "2025-06-10",
            "grade": "A",
            "eggs": 3200.0,
            "flock": None,
            "flockHouse": {"name": "Trại vịt Tân Hồng", "sectorCode": "DT-CN-TH-07"},
        }
    ]
    assert [p["method"] for p in tray["processing"]] == ["salting"]
    assert tray["consumerUrl"].endswith(f"/01/{SALTED}/10/TM-0610/21/{serials[0]}")
    assert w.get(w.distributor, f"/api/v1/trays/{SALTED}/{serials[0]}").status_code == 404
    assert w.get(w.coop, f"/api/v1/trays/{SALTED}/NOPE").status_code == 404


def test_banned_substances_are_data_the_authority_keeps(w: World) -> None:
    pond = place(w, "pond", "Ao 1", "DT-AO-1")
    listed = {b["name"] for b in w.get(w.coop, "/api/v1/banned-substances").json()}
    assert {"chloramphenicol", "malachite green", "paraquat"} <= listed
    refused = drug(w, pond, "2025-04-01T07:00:00+07:00", active_ingredient="Chloramphenicol 20%")
    assert refused.status_code == 422 and "banned substance (chloramphenicol)" in refused.text
    assert drug(w, pond, "2025-04-02T07:00:00+07:00", active_ingredient="Enrofloxacin").status_code == 201
    assert w.post(w.coop, "/api/v1/banned-substances", {"name": "enrofloxacin"}).status_code == 403
    bad = w.post(w.authority, "/api/v1/banned-substances", {"name": "x", "sector": "space"})
    assert bad.status_code == 422
    ban = {"name": "enrofloxacin", "sector": "aquaculture", "legal_basis": "Quyết định thử nghiệm"}
    added = w.post(w.authority, "/api/v1/banned-substances", ban)
    assert added.status_code == 201, added.text
    assert w.post(w.authority, "/api/v1/banned-substances", {"name": "enrofloxacin"}).status_code == 409
    assert drug(w, pond, "2025-04-03T07:00:00+07:00", active_ingredient="Enrofloxacin").status_code == 422
    removed = w.client.delete(f"/api/v1/banned-substances/{added.json()['id']}", headers=w.authority.h())
    assert removed.status_code == 200
    assert drug(w, pond, "2025-04-04T07:00:00+07:00", active_ingredient="Enrofloxacin").status_code == 201
    names = [b["name"] for b in w.get(w.coop, "/api/v1/banned-substances?include_removed=true").json()]
    assert "enrofloxacin" in names


def test_tagged_broodstock_with_pond_history(w: World) -> None:
    hatchery = place(w, "hatchery", "Trại cá giống Hồng Ngự", "DT-TG-HN-01")
    pond = place(w, "pond", "Ao cá bố mẹ", "DT-VN-05")
    barn = place(w, "barn", "Chuồng bò", "DT-CN-01")
    body = {"species": "Cá tra bố mẹ", "chip": "704000012345678", "sex": "female", "place_id": hatchery,
            "time": "2025-01-10T08:00:00+07:00"}  # fmt: skip
    r = w.post(w.coop, "/api/v1/animals", body, role="recorder")
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert w.post(w.coop, "/api/v1/animals", body).status_code == 409
    assert w.post(w.coop, "/api/v1/animals", body | {"chip": "12AB"}).status_code == 422
    # a final newline ('$' let it through) and other scripts' digits ('\d' took them) are no chip or GIAI
    bads = [{"chip": "704000012345679\n"}, {"chip": "٧٠٤٠٠٠٠١٢٣٤٥٦٧٩"},
            {"chip": None, "giai": "8934567BROOD-0002\n"}, {"chip": None, "giai": "٨٩٣٤٥٦٧BROOD-0002"}]  # fmt: skip
    for bad in bads:
        r = w.post(w.coop, "/api/v1/animals", body | bad)
        assert r.status_code == 422 and ("chip" in r.text or "giai" in r.text), (bad, r.text)
    assert w.post(w.coop, "/api/v1/animals", body | {"chip": None}).status_code == 422
    giai = w.post(w.coop, "/api/v1/animals", body | {"chip": None, "giai": "8934567BROOD-0001"})
    assert giai.status_code == 201 and giai.json()["uri"] == "https://id.gs1.org/8004/8934567BROOD-0001"
    moved = w.post(w.coop, f"/api/v1/animals/{aid}/moves", {"place_id": pond, "time": "2025-03-01T08:00:00+07:00"})
    assert moved.status_code == 201, moved.text
    assert w.post(w.coop, f"/api/v1/animals/{aid}/moves",
                  {"place_id": hatchery, "time": "2025-02-01T08:00:00+07:00"}).status_code == 422  # fmt: skip
    assert w.post(w.coop, f"/api/v1/animals/{aid}/moves",
                  {"place_id": pond, "time": "2025-04-01T08:00:00+07:00"}).status_code == 409  # fmt: skip
    hist = w.get(w.coop, "/api/v1/animals/by-tag/704000012345678").json()["places"]
    assert [(h["name"], h["to"] is None) for h in hist] == [("Trại cá giống Hồng Ngự", False), ("Ao cá bố mẹ", True)]
    assert hist[0]["to"] == hist[1]["from"]
    arrival = w.get(w.coop, f"/api/v1/events/{hist[1]['eventId']}").json()["event"]  # each stay is anchored
    assert arrival["bizStep"] == "arriving" and arrival["epcList"] == ["urn:agritrace:animal:chip:704000012345678"]
    assert arrival["bizLocation"]["id"] == f"urn:agritrace:place:{pond}"
    assert w.get(w.distributor, f"/api/v1/animals/{aid}").status_code == 404
    assert w.get(w.authority, f"/api/v1/animals/{aid}").status_code == 200
    assert barn  # barns take animals too
    plot = place(w, "plot", "Ruộng", "X-1")
    assert w.post(w.coop, f"/api/v1/animals/{aid}/moves", {"place_id": plot, "time": "2025-05-01T08:00:00+07:00"}
                  ).status_code == 422  # fmt: skip


@pytest.mark.slow
def test_pond_alerts_reach_webhook_and_email_and_sustained_breach_is_anchored(w: World, runtime: Runtime) -> None:
    pond = place(w, "pond", "Ao cá tra Thanh Bình", "DT-TB-AO-09")
    t = w.client.put(f"/api/v1/places/{pond}/thresholds", json={"kind": "dissolved_oxygen", "low": 3.0,
                                                                "sustain_minutes": 60}, headers=w.coop.h())  # fmt: skip
    assert t.status_code == 200, t.text
    bad = w.client.put(f"/api/v1/places/{pond}/thresholds", json={"kind": "dissolved_oxygen", "low": 99},
                       headers=w.coop.h())  # fmt: skip
    assert bad.status_code == 422
    private = w.post(w.coop, "/api/v1/alert-channels", {"kind": "webhook", "target": "http://127.0.0.1:9/x"})
    assert private.status_code == 422 and "non-public address" in private.text  # the SSRF guard
    dev = w.post(w.coop, "/api/v1/devices", {"name": "DO ao 9", "kind": "dissolved_oxygen", "place_id": pond}).json()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        runtime.settings.webhook_allow_private = True
        runtime.settings.smtp_host, runtime.settings.smtp_port = "127.0.0.1", smtp.port
        runtime.settings.smtp_starttls = False
        with webhook() as (url, received):
            assert w.post(w.coop, "/api/v1/alert-channels", {"kind": "webhook", "target": url}).status_code == 201
            assert w.post(w.coop, "/api/v1/alert-channels", {"kind": "email", "target": "ho.nuoi@example.vn"}
                          ).status_code == 201  # fmt: skip
            assert w.post(w.coop, "/api/v1/alert-channels", {"kind": "email", "target": "nope"}).status_code == 422
            start = utcnow().replace(microsecond=0) - timedelta(days=1)
            values = [5.1, 4.8, 2.6, 2.2, 2.0, 2.4, 4.2, 4.5]  # 30-minute readings: 1.5 h below 3 mg/L
            body = {"seq": 1, "readings": [{"ts": (start + timedelta(minutes=30 * i)).isoformat(), "value": v}
                                           for i, v in enumerate(values)]}  # fmt: skip
            raw = json.dumps(body).encode()
            r = w.client.post(f"/api/v1/devices/{dev['device']['id']}/readings", content=raw,
                              headers={"X-Device-Signature": sign(dev["secret"].encode(), raw)})  # fmt: skip
            assert r.json()["accepted"] == 8
            watcher = AlertWatcher(runtime.engine, runtime.settings, runtime.capture_checks)
            opened = watcher.run_once()
            assert len(opened) == 1
            assert watcher.run_once() == [], "readings already read raise nothing again"
            headers, payload = received.get(timeout=10)
            hook = json.loads(payload)
            assert (hook["kind"], hook["bound"], hook["value"], hook["uom"]) == ("dissolved_oxygen", "low", 2.0, "M1")
            assert hook["place"]["sectorCode"] == "DT-TB-AO-09"
        assert len(inbox.messages) == 1
        mail = message_from_bytes(inbox.messages[0])
        subject = str(make_header(decode_header(mail["Subject"])))
        assert subject.endswith("Oxy hòa tan thấp tại Ao cá tra Thanh Bình: 2 mg/L"), subject  # was "2 M1"
        text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert "Ngưỡng / threshold: 3 mg/L (low)" in text, text
        assert mail["To"] == "ho.nuoi@example.vn"
    finally:
        smtp.stop()
    alerts = w.get(w.coop, "/api/v1/alerts").json()
    assert len(alerts) == 1 and not alerts[0]["open"] and alerts[0]["sustained_event_id"]
    assert "webhook 204" in alerts[0]["delivery"] and "email sent" in alerts[0]["delivery"]
    assert len(w.get(w.authority, "/api/v1/alerts").json()) == 1 and w.get(w.mill, "/api/v1/alerts").json() == []
    ev = w.get(w.coop, f"/api/v1/events/{alerts[0]['sustained_event_id']}").json()
    report = ev["event"]["sensorElementList"][0]["sensorReport"][0]
    assert (report["minValue"], report["maxValue"], ev["event"]["agri:breach"]["bound"]) == (2.0, 2.6, "low")
    assert ev["event"]["bizLocation"]["id"] == f"urn:agritrace:place:{pond}"
    # a batch arriving late (older times) is read too; a short dip alerts but is not recorded as evidence,
    # and channels that are gone are answered as failures, not crashes
    late = {"seq": 2, "readings": [{"ts": (start - timedelta(hours=5, minutes=30 * i)).isoformat(), "value": v}
                                   for i, v in enumerate([2.5, 2.1])]}  # fmt: skip
    raw = json.dumps(late).encode()
    r = w.client.post(f"/api/v1/devices/{dev['device']['id']}/readings", content=raw,
                      headers={"X-Device-Signature": sign(dev["secret"].encode(), raw)})  # fmt: skip
    assert r.json()["accepted"] == 2 and len(watcher.run_once()) == 1
    newest = w.get(w.coop, "/api/v1/alerts").json()[0]
    assert newest["sustained_event_id"] is None and newest["readings"] == 2
    assert "webhook failed" in newest["delivery"] and "email failed" in newest["delivery"]


def test_an_alert_mail_says_a_reading_as_the_pages_do() -> None:
    """The subject said the reading's unit code: "9.25 C62" for pH, "2.5 M1" for dissolved oxygen."""
    from traceability_api.husbandry.deliver import subject

    alert = {"kind": "ph", "bound": "high", "value": 9.25, "uom": "C62", "place": {"name": "Ao 1"}}
    assert subject(alert) == "[AgriTrace] Cảnh báo pH cao tại Ao 1: 9,25"
    assert subject(alert | {"kind": "ammonia", "value": 2.5, "uom": "M1"}).endswith("Amoniac cao tại Ao 1: 2,5 mg/L")
    trap = alert | {"kind": "pest_trap", "value": 120, "uom": "H87"}  # its name in Vietnamese, as on the pages
    assert subject(trap).endswith("Cảnh báo Bẫy côn trùng cao tại Ao 1: 120")
