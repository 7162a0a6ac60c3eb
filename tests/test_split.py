"""A partial shipment splits the lot: a lot has one holder, so shipping part of it moved the whole
lot (10 t harvested, 3 t sold to trader A: all 10 t went in transit to A, and A's receipt made it
the holder of all 10 t).  The API refuses a shipment of part of a lot and says how to split it;
the workspace's ship form splits the part off into a new lot (``<lot>-1``) and ships that."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.workspace_helpers import accept, csrf_of, make_org
from tests.world import CTX, World, gtin, lot_uri, make_world, obj_event, receive, setup_rice, ship
from traceability_api.events.models import Event
from traceability_api.lots.models import Lot, LotLink
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def _lot(runtime: Runtime, code: str) -> Lot:
    with Session(runtime.engine) as s:
        lot = s.exec(select(Lot).where(Lot.lot_code == code)).one()
        s.expunge(lot)
        return lot


def _events(runtime: Runtime) -> int:
    with Session(runtime.engine) as s:
        return len(s.exec(select(Event.id)).all())


def test_the_api_refuses_a_shipment_of_part_of_a_lot_and_says_how_to_split_it(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w, "L1", 1000)
    before = _events(runtime)
    r = ship(w, w.coop, w.mill, rice["uri"], qty=300)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "whole lot" in detail and "TransformationEvent" in detail and "1000 KGM" in detail, detail
    part = obj_event(rice["uri"], 999.5, "shipping", destinationList=[{"type": "possessing_party",
                                                                      "destination": w.mill.party}])  # fmt: skip
    doc = {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2025-03-05T08:00:00+07:00", "epcisBody": {"eventList": [part]}}  # fmt: skip
    assert w.post(w.coop, "/api/v1/capture", doc).status_code == 422
    lot = _lot(runtime, "L1")  # nothing stored: the coop still holds all of it
    assert (lot.status, lot.holder_org_id, lot.in_transit_to_org_id, lot.quantity_remaining) == (
        "active", w.coop.id, None, 1000
    )  # fmt: skip
    assert _events(runtime) == before
    # the whole lot, named by its remaining quantity or by no quantity, ships as before
    assert ship(w, w.coop, w.mill, rice["uri"], qty=1000).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    setup_rice(w, "L2", 500)
    assert ship(w, w.coop, w.distributor, lot_uri(rice["gtin"], "L2")).status_code == 201
    assert _lot(runtime, "L2").in_transit_to_org_id == w.distributor.id


def test_the_api_ships_part_of_a_lot_split_off_first(w: World, runtime: Runtime) -> None:
    """The way the refusal says: a TransformationEvent takes 300 kg into a new lot, which ships; the
    mill, holding a lot of the coop's product, may split it too (outputs of its inputs' product)."""
    rice = setup_rice(w, "L1", 1000)
    part = lot_uri(rice["gtin"], "L1-A")

    def split(by: Any, frm: str, to: str, qty: float) -> Any:
        ev = {"type": "TransformationEvent", "eventTime": "2025-03-02T07:00:00+07:00",
              "eventTimeZoneOffset": "+07:00", "bizStep": "picking",
              "inputQuantityList": [{"epcClass": frm, "quantity": qty, "uom": "KGM"}],
              "outputQuantityList": [{"epcClass": to, "quantity": qty, "uom": "KGM"}]}  # fmt: skip
        return w.post(by, "/api/v1/events", ev)

    assert split(w.coop, rice["uri"], part, 300).status_code == 201
    assert ship(w, w.coop, w.mill, part).status_code == 201
    assert receive(w, w.mill, w.coop, part).status_code == 201
    parent, child = _lot(runtime, "L1"), _lot(runtime, "L1-A")
    assert (parent.holder_org_id, parent.quantity_remaining, parent.status) == (w.coop.id, 700, "active")
    assert (child.holder_org_id, child.quantity, child.owner_org_id) == (w.mill.id, 300, w.coop.id)
    r = split(w.mill, part, lot_uri(rice["gtin"], "L1-A-1"), 100)
    assert r.status_code == 201, r.text
    other = gtin(7)  # a product of another organisation, which no input is of, stays refused
    assert w.post(w.coop, "/api/v1/products", {"gtin": other, "name": "Gạo", "unit": "KGM"}).status_code == 201
    assert split(w.mill, part, lot_uri(other, "X1"), 50).status_code == 403
    flagged = [x for x in w.get(w.authority, "/api/v1/mass-balance").json()["lots"] if x["flagged"]]
    assert flagged == [], flagged  # a split yields what it took, whatever the product's max_yield


def test_a_split_codes_the_new_lot_after_its_parent_within_20_characters(w: World, runtime: Runtime) -> None:
    from traceability_api.events.split import split_code

    setup_rice(w, "L1", 100)
    long = setup_rice(w, "ABCDEFGHIJKLMNOPQRST", 100)
    with Session(runtime.engine) as s:
        lot = s.exec(select(Lot).where(Lot.lot_code == "L1")).one()
        assert split_code(s, lot) == "L1-1"
        s.add(Lot(product_id=lot.product_id, lot_code="L1-1", owner_org_id=lot.owner_org_id,
                  holder_org_id=lot.holder_org_id, quantity=1, quantity_remaining=1, uom="KGM"))  # fmt: skip
        s.flush()
        assert split_code(s, lot) == "L1-2"
        big = s.get(Lot, long["lot"]["id"])
        assert big is not None and split_code(s, big) == "ABCDEFGHIJKLMNOPQR-1"
        s.rollback()


# ---- the workspace: a cooperative ships 300 kg of its 1,000 kg lot to a trader ----


def _member(served: str, runtime: Runtime, name: str, username: str, kind: OrgKind) -> tuple[httpx.Client, int, str]:
    org_id, key, token = make_org(runtime, name, kind)
    client = httpx.Client(base_url=served, timeout=30)
    accept(client, token, username)  # type: ignore[arg-type]  # an httpx client, as TestClient is
    return client, org_id, key


def _harvest(served: str, key: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {key}"}
    g = gtin(11)
    with httpx.Client(base_url=served, headers=h, timeout=30) as api:
        assert api.post("/api/v1/products", json={"gtin": g, "name": "Lúa ST25", "unit": "KGM"}).status_code == 201
        plot = api.post("/api/v1/places", json={"kind": "plot", "name": "Ruộng ông Tư Tháp Mười",
                                                "geo": {"type": "Point", "coordinates": [105.8, 10.5]}})  # fmt: skip
        assert plot.status_code == 201, plot.text
        pid = plot.json()["id"]
        diary = {"activity": "fertilising", "time": "2025-02-01T07:00+07:00", "product": "NPK 20-20-15",
                 "active_ingredient": "N-P-K", "dose": 200, "dose_unit": "kg/ha"}  # fmt: skip
        entry = api.post(f"/api/v1/places/{pid}/diary", json=diary)
        assert entry.status_code == 201, entry.text
        r = api.post("/api/v1/lots", json={"gtin": g, "lot_code": "DT-2502", "quantity": 1000, "plot_id": pid,
                                           "harvest_date": "2025-02-28", "variety": "ST25",
                                           "event_time": "2025-02-28T17:00:00+07:00"})  # fmt: skip
        assert r.status_code == 201, r.text
        return {"gtin": g, "lot_id": r.json()["id"], "plot": pid}


def _text(html: str) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _ship(client: httpx.Client, lot_id: int, partner: int, quantity: str) -> httpx.Response:
    form = {"csrf": csrf_of(client.get("/app/ship").text), "lot_id": str(lot_id), "partner": str(partner),
            "quantity": quantity, "visibility": "public"}  # fmt: skip
    return client.post("/app/ship", data=form)


def test_the_workspace_ships_part_of_a_lot_as_a_new_lot(runtime: Runtime, served: str) -> None:
    coop, coop_id, coop_key = _member(served, runtime, "HTX Lúa Tháp Mười", "coop.split", OrgKind.cooperative)
    trader, trader_id, _ = _member(served, runtime, "Vựa lúa Bảy Tâm", "trader.split", OrgKind.distributor)
    rice = _harvest(served, coop_key)
    r = _ship(coop, rice["lot_id"], trader_id, "300")
    assert r.status_code == 303 and r.headers["location"].startswith("/app/ship/split/"), r.text
    page = coop.get(r.headers["location"])
    assert page.status_code == 200
    said = _text(page.text)
    assert "Đã tách 300 kg thành lô DT-2502-1 và giao cho Vựa lúa Bảy Tâm. Lô DT-2502 còn 700 kg." in said, said
    parent, child = _lot(runtime, "DT-2502"), _lot(runtime, "DT-2502-1")
    assert f'href="/app/lots/{child.id}/label"' in page.text  # the new lot's label, printable from here
    assert coop.get(f"/app/lots/{child.id}/label").status_code == 200
    assert coop.post(f"/app/lots/{child.id}/label.pdf", data={"csrf": csrf_of(page.text), "copies": "3"}).content[:4] \
        == b"%PDF"  # fmt: skip
    assert (parent.holder_org_id, parent.quantity_remaining, parent.status) == (coop_id, 700, "active")
    assert (parent.in_transit_to_org_id, parent.quantity) == (None, 1000)
    assert (child.holder_org_id, child.in_transit_to_org_id, child.status) == (coop_id, trader_id, "in_transit")
    assert (child.quantity, child.quantity_remaining, child.owner_org_id) == (300, 300, coop_id)
    assert child.harvest_date is not None and child.harvest_date.isoformat() == "2025-02-28"
    with Session(runtime.engine) as s:
        (link,) = s.exec(select(LotLink).where(LotLink.child_lot_id == child.id)).all()
        assert (link.parent_lot_id, link.quantity) == (parent.id, 300)
    en = coop.get(r.headers["location"], cookies={"agt_lang": "en"}).text
    assert "Split 300 kg off into lot DT-2502-1 and shipped it to Vựa lúa Bảy Tâm. Lot DT-2502 has 700 kg left." in en
    # the trader is to receive the new lot only, and receiving makes it the holder of 300 kg
    home = trader.get("/app").text
    assert "DT-2502-1" in home and "DT-2502 " not in home.replace("DT-2502-1", "")
    got = trader.post(f"/app/receive/{child.id}", data={"csrf": csrf_of(home)})
    assert got.status_code == 303, got.text
    assert (_lot(runtime, "DT-2502-1").holder_org_id, _lot(runtime, "DT-2502").holder_org_id) == (trader_id, coop_id)
    assert trader.get(r.headers["location"]).status_code == 404  # the parent's figures are the coop's
    # the coop sells the next 700 kg whole: no split, the lot itself goes
    again = _ship(coop, rice["lot_id"], trader_id, "700")
    assert again.status_code == 303 and again.headers["location"] == "/app?done=shipped"
    assert _lot(runtime, "DT-2502").in_transit_to_org_id == trader_id
    # the consumer page of the new lot tells the parent's farm and harvest
    consumer = httpx.get(f"{served}/01/{rice['gtin']}/10/DT-2502-1", timeout=30).text
    for shown in ("Ruộng ông Tư Tháp Mười", "Ngày thu hoạch 28/02/2025", "Thu hoạch / tạo lô · 1.000 kg",
                  "bón phân · NPK 20-20-15", "Tách lô Đầu vào: DT-2502 300 kg Đầu ra: DT-2502-1 300 kg",
                  "Xuất hàng · 300 kg", "Nhận hàng"):  # fmt: skip
        assert shown in _text(consumer), shown
    assert "700 kg" not in _text(consumer)  # the parent's later sale of the rest is not this lot's story
    # the authority's console draws the new lot in the parent's lineage
    authority, _, _ = _member(served, runtime, "Chi cục QLCL Đồng Tháp", "chicuc.split", OrgKind.authority)
    lineage = authority.get(f"/app/console/lots/{parent.id}")
    assert lineage.status_code == 200 and "DT-2502-1" in lineage.text
    authority.close()
    # the coop recalls its lot: the recall reaches what it split off and sold
    h = {"Authorization": f"Bearer {coop_key}"}
    recall = httpx.post(f"{served}/api/v1/recalls", headers=h, timeout=30,
                        json={"lot_ids": [parent.id], "reason": "Dư lượng BVTV", "scope": "downstream"})  # fmt: skip
    assert recall.status_code == 201, recall.text
    report = httpx.get(f"{served}/api/v1/recalls/{recall.json()['id']}", headers=h, timeout=30).json()
    assert {a["uri"] for a in report["affected"]} == {lot_uri(rice["gtin"], c) for c in ("DT-2502", "DT-2502-1")}
    assert _lot(runtime, "DT-2502-1").status == "recalled"
    coop.close()
    trader.close()


def test_a_shipment_of_some_of_a_lots_units_is_refused_every_unit_ships(w: World, runtime: Runtime) -> None:
    """Shipping 1 of a lot's 3 serialised bags put all 3 (the whole lot) in transit to the buyer:
    the same one-holder rule as a quantity, for units."""
    rice = setup_rice(w)
    bags = gtin(2)
    assert w.post(w.coop, "/api/v1/products", {"gtin": bags, "name": "Gạo túi 5 kg", "unit": "EA"}).status_code == 201
    units = [f"https://id.gs1.org/01/{bags}/21/B{i}" for i in range(3)]
    bagging = {"type": "TransformationEvent", "eventTime": "2025-03-03T08:00:00+07:00",
               "eventTimeZoneOffset": "+07:00", "bizStep": "commissioning",
               "inputQuantityList": [{"epcClass": rice["uri"], "quantity": 15, "uom": "KGM"}],
               "outputEPCList": units}  # fmt: skip
    assert w.post(w.coop, "/api/v1/events", bagging).status_code == 201
    to_mill = [{"type": "possessing_party", "destination": w.mill.party}]
    one = {"type": "ObjectEvent", "eventTime": "2025-03-04T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
           "action": "OBSERVE", "bizStep": "shipping", "epcList": units[:1], "destinationList": to_mill}  # fmt: skip
    before = _events(runtime)
    r = w.post(w.coop, "/api/v1/events", one)
    assert r.status_code == 422 and "names 1 of the 3 units" in r.json()["detail"], r.text
    assert _events(runtime) == before
    (bag_lot,) = [
        x for x in w.get(w.coop, "/api/v1/lots").json() if x["uri"].startswith(f"https://id.gs1.org/01/{bags}/")
    ]
    assert (bag_lot["status"], bag_lot["holder_org_id"]) == ("active", w.coop.id)
    every = one | {"epcList": units}
    assert w.post(w.coop, "/api/v1/events", every).status_code == 201
    moved = next(x for x in w.get(w.coop, "/api/v1/lots").json() if x["id"] == bag_lot["id"])
    assert moved["status"] == "in_transit"
