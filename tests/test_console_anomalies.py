"""The console's anomaly feed: over-shipment, copied serial scans and counterfeit reports appear
newest first, each linking to its lot; pages are bounded; authority members only."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import auth
from tests.console_data import MANGO, seed_province, sign_in_authority
from tests.test_console_units import visible
from tests.workspace_helpers import member_client
from traceability_api.consumer.models import CounterfeitReport, ScanLog
from traceability_api.events.models import EventLot
from traceability_api.evidence.models import Device, SensorKind
from traceability_api.husbandry.models import SensorAlert
from traceability_api.lots.models import Lot, Product
from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.places.models import Place
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow


def _lot(s: Session, code: str) -> Lot:
    return s.exec(select(Lot).join(Product).where(Product.gtin == MANGO, Lot.lot_code == code)).one()  # type: ignore[arg-type]


def breach(s: Session, place_id: int, kind: str, bound: str, threshold: float, peak: float) -> None:
    """A sensor of ``kind`` at the place, its alert an hour ago (``bound`` crossed, its worst value)."""
    place = s.get(Place, place_id)
    assert place is not None
    device = Device(org_id=place.org_id, name=f"{kind}-1", kind=SensorKind(kind), place_id=place_id,
                    secret_encrypted="x")  # fmt: skip
    s.add(device)
    s.flush()
    at = utcnow() - timedelta(hours=1)
    s.add(SensorAlert(org_id=place.org_id, device_id=device.id or 0, place_id=place_id, kind=kind, bound=bound,
                      threshold=threshold, peak=peak, started_at=at, last_at=at))  # fmt: skip


def test_feed_lists_anomalies_newest_first_with_their_lots(app_client: TestClient, runtime: Runtime) -> None:
    seed_province(app_client, runtime)
    now = utcnow()
    with Session(runtime.engine) as s:
        one, two = _lot(s, "MX-2505-1"), _lot(s, "MX-2505-2")
        harvest = s.exec(select(EventLot).where(EventLot.lot_id == one.id)).first()
        assert harvest is not None
        # the lot's holder moved 5 t out of a 1 t lot: an over-shipment (event time: the harvest's, 2025)
        s.add(EventLot(event_id=harvest.event_id, lot_id=one.id or 0, role="input", quantity=5000.0, uom="KGM"))
        s.add(ScanLog(lot_id=two.id or 0, serial="S1", client_hash="a" * 32, token_ok=False,
                      scanned_at=now - timedelta(hours=2)))  # fmt: skip
        s.add(CounterfeitReport(code=f"/01/{MANGO}/10/MX-2505-2", gtin=MANGO, lot_code="MX-2505-2",
                                client_hash="b" * 32, created_at=now - timedelta(hours=1)))  # fmt: skip
        s.commit()
        ids = (one.id, two.id)
    sign_in_authority(app_client, runtime)
    r = app_client.get("/app/console/anomalies.json")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    kinds = [i["kind"] for i in items]
    assert kinds == ["counterfeit_report", "copied_scan", "mass_balance"], items
    assert [i["lotId"] for i in items] == [ids[1], ids[1], ids[0]]
    assert items[0]["href"] == f"/app/console/lots/{ids[1]}" and items[0]["lot"] == "Xoài cát Chu · MX-2505-2"
    page = app_client.get("/app/console/anomalies")
    assert page.status_code == 200 and page.text.count("<li data-kind=") == 3
    assert f'href="/app/console/lots/{ids[0]}"' in page.text and "Người tiêu dùng báo nghi hàng giả" in page.text
    assert app_client.get("/app/console/anomalies.json", params={"page": 2}).json()["items"] == []
    assert app_client.get("/app/console/anomalies", params={"page": 41}).status_code == 422
    assert app_client.get("/app/console/anomalies", params={"late_min": 0}).status_code == 422


def test_feed_names_overrides_and_late_anchoring(app_client: TestClient, runtime: Runtime) -> None:
    prov = seed_province(app_client, runtime)
    lot = {"gtin": MANGO, "lot_code": "MX-OV-1", "quantity": 5.0, "plot_id": prov.place_ids[0],
           "phi_override_reason": "mưa to, thu sớm"}  # fmt: skip
    r = app_client.post("/api/v1/lots", headers=auth(prov.coop_keys[0]), json=lot)
    assert r.status_code == 201, r.text
    with Session(runtime.engine) as s:
        oldest = s.exec(select(AnchorItem).where(AnchorItem.kind == ItemKind.event).order_by(AnchorItem.id)).first()
        assert oldest is not None and oldest.batch_id is None  # no worker in tests: every event waits
        oldest.created_at = utcnow() - timedelta(hours=3)
        s.add(oldest)
        s.commit()
        late_event = oldest.ref_id
    sign_in_authority(app_client, runtime)
    items = app_client.get("/app/console/anomalies.json", params={"late_min": 120}).json()["items"]
    assert [(i["kind"], i["detail"]) for i in items if i["kind"] == "late_anchor"] == [
        ("late_anchor", f"event {late_event}")
    ]
    assert [i["detail"] for i in items if i["kind"] == "override"] == ["mưa to, thu sớm"]
    assert not [i for i in app_client.get("/app/console/anomalies.json", params={"late_min": 240}).json()["items"]
                if i["kind"] == "late_anchor"]  # fmt: skip


def test_cooperative_member_gets_403_on_anomalies(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    for path in ("/app/console/anomalies", "/app/console/anomalies.json"):
        assert app_client.get(path).status_code == 403, path


def test_page_says_sensor_breaches_and_late_events_in_the_inspectors_language(
    app_client: TestClient, runtime: Runtime
) -> None:
    """The page read 'Ao số 5 dissolved_oxygen low 3: 1' and 'event 12' (the JSON's machine words)
    in the Vietnamese console: it now says what was measured, which way the threshold was crossed (with
    the sensor's unit, from the one unit table) and the event, in the page's language; the JSON keeps
    its detail as it was."""
    prov = seed_province(app_client, runtime)
    with Session(runtime.engine) as s:
        breach(s, prov.place_ids[0], "dissolved_oxygen", "low", 3.0, 1.5)
        oldest = s.exec(select(AnchorItem).where(AnchorItem.kind == ItemKind.event).order_by(AnchorItem.id)).first()
        assert oldest is not None
        oldest.created_at = utcnow() - timedelta(hours=3)
        s.add(oldest)
        s.commit()
        late_event = oldest.ref_id
    sign_in_authority(app_client, runtime)
    items = app_client.get("/app/console/anomalies.json").json()["items"]
    assert [i["detail"] for i in items if i["kind"] == "sensor"] == [
        "Vườn xoài ấp Mỹ Thạnh dissolved_oxygen low 3: 1.5"
    ]
    page = app_client.get("/app/console/anomalies").text
    assert "dissolved_oxygen" not in page and f"event {late_event}" not in page
    assert "Vườn xoài ấp Mỹ Thạnh: Oxy hòa tan dưới ngưỡng 3 mg/L (tệ nhất 1,5 mg/L)" in page, page
    assert f"Sự kiện số {late_event}" in page
    app_client.get("/app/lang", params={"to": "en"})
    page = app_client.get("/app/console/anomalies").text
    assert "Vườn xoài ấp Mỹ Thạnh: Dissolved oxygen below 3 mg/L (worst 1.5 mg/L)" in page, page
    assert f"Event {late_event}" in page


def test_a_ph_or_pest_trap_breach_has_no_unit_word(app_client: TestClient, runtime: Runtime) -> None:
    """pH is read in C62 ("one") and a pest trap's catch in H87 ("piece"), whose words in the one unit
    table are for counting things (cái, quả): the console kept a list of its own beside the table to
    leave them out. The table has a word for a reading now, none after a pure number, and the console
    uses it: °C and mg/L stay. A sensor is named as on the consumer page (the console said "ph" in
    English and "pest_trap" in Vietnamese, from a list of names of the alert e-mail's own)."""
    prov = seed_province(app_client, runtime)
    with Session(runtime.engine) as s:
        breach(s, prov.place_ids[0], "ph", "high", 8.5, 9.2)
        breach(s, prov.place_ids[0], "pest_trap", "high", 50, 120)
        breach(s, prov.place_ids[0], "temperature", "high", 35, 38.5)
        s.commit()
    sign_in_authority(app_client, runtime)
    page = visible(app_client.get("/app/console/anomalies").text)
    assert "pH vượt ngưỡng 8,5 (tệ nhất 9,2)" in page and "Bẫy côn trùng vượt ngưỡng 50 (tệ nhất 120)" in page, page
    assert "Nhiệt độ vượt ngưỡng 35 °C (tệ nhất 38,5 °C)" in page, page
    assert not re.search(r"\b(cái|quả|C62|H87)\b", page), page
    app_client.get("/app/lang", params={"to": "en"})
    page = visible(app_client.get("/app/console/anomalies").text)
    assert "pH above 8.5 (worst 9.2)" in page and "Pest trap above 50 (worst 120)" in page, page
    assert "Temperature above 35 °C (worst 38.5 °C)" in page, page
    assert not re.search(r"\b(units|pcs|C62|H87)\b", page), page


def test_a_sale_recorded_after_the_lots_recall_is_an_anomaly(app_client: TestClient, runtime: Runtime) -> None:
    """A recalled lot cannot ship, but its holder can still record selling it: the feed names the
    sale made after the recall; a sale from before the recall, recorded late, is none."""
    from tests.world import make_world, obj_event, setup_rice

    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [rice["lot"]["id"]], "reason": "Dư lượng", "scope": "lot"})
    assert r.status_code == 201, r.text
    before = obj_event(rice["uri"], 100, "retail_selling", time="2025-03-05T08:00:00+07:00")
    after = obj_event(rice["uri"], 50, "retail_selling", time=(utcnow() + timedelta(seconds=1)).isoformat())
    ids = []
    for sale in (before, after):
        r = w.post(w.coop, "/api/v1/events", sale)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    sign_in_authority(app_client, runtime)
    items = [
        i for i in app_client.get("/app/console/anomalies.json").json()["items"] if i["kind"] == "sold_after_recall"
    ]
    assert [(i["lotId"], i["detail"].split(" by ")[0]) for i in items] == [(rice["lot"]["id"], f"event {ids[1]}")]
    assert items[0]["href"] == f"/app/console/lots/{rice['lot']['id']}"
    page = app_client.get("/app/console/anomalies").text
    assert "Bán lô sau khi đã bị thu hồi" in page and f"Sự kiện bán số {ids[1]} của HTX Lúa gạo Thạnh Phú" in page
