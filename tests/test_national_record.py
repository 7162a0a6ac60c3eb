"""The national traceability record (Circular 02/2024/TT-BKHCN, TCVN 12850:2019): a complete lot has
every mandatory item, the completeness check names each missing one, exports validate against the
published JSON Schema and XSD, and an organisation exports only its own lots."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlmodel import Session, col, delete

from tests.world import World, make_world, obj_event, receive, setup_rice, ship
from traceability_api.events.models import EventLot
from traceability_api.lots.models import Lot, Product
from traceability_api.national.export import JSON_SCHEMA, XSD
from traceability_api.national.items import ITEMS
from traceability_api.national.xml import NS, bundle_of
from traceability_api.parties.models import Organisation
from traceability_api.runtime import Runtime

SCHEMA = json.loads(JSON_SCHEMA.read_text())
XML_SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))
STANDARDS = [
    {"kind": "TCVN", "number": "11888:2017", "title": "Gạo trắng"},
    {"kind": "TCCS", "number": "01:2025/HTXTP", "title": "Lúa ST25 Thạnh Phú"},
]


def valid_json(doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def valid_xml(body: bytes) -> etree._Element:
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    XML_SCHEMA.assertValid(root)
    return root


def complete_lot(w: World, code: str = "L1") -> dict[str, Any]:
    """A harvested lot whose product and producer have every item the record needs."""
    rice = setup_rice(w, code)
    address = {"address": "Ấp Thạnh Phú, xã Thạnh Phú, huyện Cờ Đỏ, Cần Thơ", "province": "Cần Thơ"}
    r = w.client.patch("/api/v1/organisations/me", headers=w.coop.h(), json=address)
    assert r.status_code == 200, r.text
    product_id = w.client.get("/api/v1/products", headers=w.coop.h()).json()[0]["id"]
    r = w.client.patch(f"/api/v1/products/{product_id}", headers=w.coop.h("recorder"), json={
        "brand": "Lúa Thạnh Phú", "image_url": "https://trace.example.vn/img/st25.jpg", "shelf_life_days": 180,
        "standards": STANDARDS,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    return rice | {"product_id": product_id}


def record(w: World, lot_id: int, org: Any = None, **params: Any) -> Any:
    return w.client.get(f"/api/v1/lots/{lot_id}/national-record", headers=(org or w.coop).h(), params=params)


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> World:
    return make_world(runtime, app_client)


def test_a_complete_lot_has_every_mandatory_item_and_validates(w: World) -> None:
    rice = complete_lot(w)
    r = record(w, rice["lot"]["id"])
    assert r.status_code == 200, r.text
    doc = r.json()
    valid_json(doc)
    assert doc["format"] == "agritrace-national-record/1"
    assert doc["completeness"] == {"complete": True, "items": len(ITEMS), "missing": []}
    assert doc["product"]["name"] == "Lúa ST25" and doc["product"]["image"].startswith("https://")
    assert doc["producer"]["name"] == "HTX Lúa gạo Thạnh Phú" and "Cờ Đỏ" in doc["producer"]["address"]
    assert doc["traceCode"]["uri"] == rice["uri"] and doc["traceCode"]["digitalLink"].startswith("https://trace.")
    assert doc["productionTime"] == "2025-02-28" and doc["expiryDate"] == "2025-08-27"  # 180 days
    assert doc["product"]["brand"] == "Lúa Thạnh Phú" and doc["product"]["standards"] == STANDARDS
    harvest = doc["stages"][0]
    assert harvest["kind"] == "harvest" and harvest["productTraceCodes"] == [rice["uri"]]
    assert harvest["locationTraceCode"]["scheme"] == "PAC" and harvest["locationTraceCode"]["code"] == "CT-TP-001"
    assert harvest["time"].startswith("2025-02-28T17:00:00") and harvest["timeZoneOffset"] == "+07:00"
    bundle = doc["proofBundle"]
    assert bundle["format"] == "agritrace-proof-bundle" and bundle["events"][0]["hashId"] == harvest["eventHashId"]

    xml = record(w, rice["lot"]["id"], format="xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    root = valid_xml(xml.content)
    assert root.findtext(f"{{{NS}}}traceCode/{{{NS}}}uri") == rice["uri"]
    assert root.findtext(f"{{{NS}}}completeness/{{{NS}}}complete") == "true"
    attached = root.find(f"{{{NS}}}proofBundle")
    assert attached is not None and attached.text is not None
    assert attached.get("sha256") == hashlib.sha256(attached.text.encode()).hexdigest()
    assert bundle_of(root) == bundle | {"generatedAt": bundle_of(root)["generatedAt"]}  # type: ignore[index]


def _db(w: World, runtime: Runtime, fn: Callable[[Session, Lot, Product, Organisation], None], lot_id: int) -> None:
    with Session(runtime.engine) as s:
        lot = s.get(Lot, lot_id)
        assert lot is not None
        product = s.get(Product, lot.product_id)
        assert product is not None
        org = s.get(Organisation, product.org_id)
        assert org is not None
        fn(s, lot, product, org)
        s.add_all([lot, product, org])
        s.commit()


def _no_events(s: Session, lot: Lot, *_: Any) -> None:
    s.exec(delete(EventLot).where(col(EventLot.lot_id) == lot.id))  # type: ignore[call-overload]


def _no_production_time(s: Session, lot: Lot, *_: Any) -> None:
    _no_events(s, lot)
    lot.harvest_date = None


BREAK: dict[str, Callable[..., None]] = {
    "product_name": lambda s, lot, p, o: setattr(p, "name", " "),
    "product_image": lambda s, lot, p, o: setattr(p, "image_url", None),
    "producer_name": lambda s, lot, p, o: setattr(o, "name", " "),
    "producer_address": lambda s, lot, p, o: setattr(o, "address", None),
    "producer_public": lambda s, lot, p, o: setattr(o, "public_profile", False),
    "stages": _no_events,
    "stage_location_code": None,  # done through the API: an event that names no place
    "production_time": _no_production_time,
    "trace_code": lambda s, lot, p, o: setattr(p, "gtin", p.gtin[:-1] + str((int(p.gtin[-1]) + 1) % 10)),
    "brand": lambda s, lot, p, o: setattr(p, "brand", None),
    "shelf_life": lambda s, lot, p, o: setattr(p, "shelf_life_days", None),
    "standards": lambda s, lot, p, o: setattr(p, "standards", []),
}
ALSO = {"stages": {"stage_location_code"}, "production_time": {"stages", "stage_location_code"}}


@pytest.mark.parametrize("item", list(ITEMS))
def test_the_completeness_check_names_each_missing_item(w: World, runtime: Runtime, item: str) -> None:
    assert set(BREAK) == set(ITEMS)
    rice = complete_lot(w)
    lot_id = rice["lot"]["id"]
    if item == "stage_location_code":
        r = w.post(
            w.coop, "/api/v1/events", obj_event(rice["uri"], None, "inspecting", time="2025-03-01T09:00:00+07:00")
        )
        assert r.status_code == 201, r.text
    else:
        _db(w, runtime, BREAK[item], lot_id)
    vi = w.client.get(f"/api/v1/lots/{lot_id}/national-record/completeness", headers=w.coop.h()).json()
    assert vi["complete"] is False
    assert {m["item"] for m in vi["missing"]} == {item} | ALSO.get(item, set())
    named = next(m for m in vi["missing"] if m["item"] == item)
    assert named["label"] == ITEMS[item][0] and named["fix"]  # Vietnamese first
    en = w.client.get(f"/api/v1/lots/{lot_id}/national-record/completeness", headers=w.coop.h(), params={"lang": "en"})
    assert next(m for m in en.json()["missing"] if m["item"] == item)["label"] == ITEMS[item][1]
    doc = record(w, lot_id, bundle=False).json()
    assert item in [m["item"] for m in doc["completeness"]["missing"]]
    valid_json(doc)  # an incomplete record is still a valid document: the missing items say what is absent
    valid_xml(record(w, lot_id, bundle=False, format="xml").content)
    figures = w.client.get("/api/v1/national-record/completeness", headers=w.authority.h()).json()
    coop = next(f for f in figures if f["orgId"] == w.coop.id)
    assert coop["lots"] == 1 and coop["complete"] == 0 and coop["missing"].get(item) == 1, coop


def test_an_organisation_exports_its_own_lots_only(w: World) -> None:
    rice = complete_lot(w)
    lot_id = rice["lot"]["id"]
    assert record(w, lot_id, w.distributor).status_code == 404  # cannot read the lot at all
    assert ship(w, w.coop, w.mill, rice["uri"], 1000).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    held = record(w, lot_id, w.mill)  # the mill holds it now, but the record is the owner's
    assert held.status_code == 403 and "owns the lot" in held.json()["detail"]
    assert record(w, lot_id, w.authority).status_code == 200
    assert w.client.get(f"/api/v1/lots/{lot_id}/national-record", headers=w.coop.h("viewer")).status_code == 200

    export = "/api/v1/exports/national-record"
    other = w.client.get(export, headers=w.mill.h(), params={"org_id": w.coop.id})
    assert other.status_code == 403
    own = w.client.get(export, headers=w.mill.h()).json()
    assert own["count"] == 0 and own["organisation"] == w.mill.id
    everything = w.client.get(export, headers=w.authority.h(), params={"bundles": "false"}).json()
    assert [r["traceCode"]["uri"] for r in everything["records"]] == [rice["uri"]]
    figures = w.client.get("/api/v1/national-record/completeness", headers=w.mill.h()).json()
    assert figures == []  # the mill owns no lot: it sees no one else's figures


def test_a_period_export_validates_in_json_and_xml_and_pages(w: World) -> None:
    for code in ("L1", "L2", "L3"):
        complete_lot(w, code)
    export = "/api/v1/exports/national-record"
    params = {"since": "2000-01-01T00:00:00+07:00", "until": "2100-01-01T00:00:00+07:00", "limit": 2}
    first = w.client.get(export, headers=w.coop.h(), params=params)
    assert first.status_code == 200, first.text
    page = first.json()
    valid_json(page)
    assert page["count"] == 2 and page["nextAfterId"] is not None
    rest = w.client.get(export, headers=w.coop.h(), params=params | {"after_id": page["nextAfterId"]}).json()
    assert rest["count"] == 1 and rest["nextAfterId"] is None
    assert all(r["completeness"]["complete"] for r in page["records"] + rest["records"])
    xml = w.client.get(export, headers=w.authority.h(), params=params | {"format": "xml", "limit": 10})
    root = valid_xml(xml.content)
    assert root.tag == f"{{{NS}}}nationalRecordSet"
    assert len(root.findall(f"{{{NS}}}records/{{{NS}}}nationalRecord")) == 3
    empty = w.client.get(export, headers=w.coop.h(), params={"since": "2100-01-01T00:00:00+07:00"}).json()
    assert empty["count"] == 0
    valid_json(empty)
    for bad in ({"since": "2025-01-01T00:00:00"}, {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
                {"format": "pdf"}, {"limit": 101}):  # fmt: skip
        r = w.client.get(export, headers=w.coop.h(), params=bad)
        assert r.status_code == 422, (bad, r.text)


def test_standards_and_images_are_validated(w: World) -> None:
    complete_lot(w)
    product_id = w.client.get("/api/v1/products", headers=w.coop.h()).json()[0]["id"]
    url = f"/api/v1/products/{product_id}"
    for body, words in (
        ({"standards": [{"kind": "ISO", "number": "22000:2018", "title": "x"}]}, "TCVN"),
        ({"standards": [{"kind": "TCVN", "number": "<b>", "title": "x"}]}, "number"),
        ({"standards": [{"kind": "TCVN", "number": "1:2000", "title": "x"}] * 2}, "twice"),
        ({"standards": [{"kind": "TCVN", "number": f"{i}:2000", "title": "x"} for i in range(21)]}, "at most 20"),
        ({"image_url": "http://example.com/a.jpg"}, "https"),
        ({"image_url": "javascript:alert(1)"}, "https"),
        ({"image_url": "/\\evil.example/a.jpg"}, "https"),  # a browser reads /\ as //: another host
    ):
        r = w.client.patch(url, headers=w.coop.h(), json=body)
        assert r.status_code == 422 and words in r.text, (body, r.text)
    whole = {"standards": [{"kind": "QCVN", "number": "QCVN 8-2:2011/BYT", "title": "KLN"}]}
    typed_whole = w.client.patch(url, headers=w.coop.h(), json=whole)
    assert typed_whole.json()["standards"] == [{"kind": "QCVN", "number": "8-2:2011/BYT", "title": "KLN"}]
    assert w.client.patch(url, headers=w.mill.h(), json={"brand": "x"}).status_code == 404  # not its product
    assert w.client.patch(url, headers=w.coop.h("viewer"), json={"brand": "x"}).status_code == 403
    assert (
        w.client.patch(
            "/api/v1/organisations/me", headers=w.coop.h("recorder"), json={"address": "Ấp 1, xã 2"}
        ).status_code
        == 403
    )
    assert w.client.patch("/api/v1/organisations/me", headers=w.coop.h(), json={"address": None}).status_code == 422


def test_blank_texts_do_not_empty_what_the_record_requires(w: World) -> None:
    """An address, province or brand of spaces only is refused (422) like an emptied one: the write
    answered 200 and then stored '' (the record's address missing after 'address cannot be emptied')."""
    complete_lot(w)
    me = "/api/v1/organisations/me"
    before = w.client.get(me, headers=w.coop.h()).json()
    for body in ({"address": "     "}, {"address": " \t  \n  "}, {"province": "   "}):
        r = w.client.patch(me, headers=w.coop.h(), json=body)
        assert r.status_code == 422, (body, r.text)
    assert w.client.get(me, headers=w.coop.h()).json()["address"] == before["address"]
    r = w.client.patch(me, headers=w.coop.h(), json={"address": "  Ấp 1, xã Thạnh Phú  "})
    assert r.status_code == 200 and r.json()["address"] == "Ấp 1, xã Thạnh Phú"
    product_id = w.client.get("/api/v1/products", headers=w.coop.h()).json()[0]["id"]
    r = w.client.patch(f"/api/v1/products/{product_id}", headers=w.coop.h(), json={"brand": "   "})
    assert r.status_code == 422, r.text
    r = w.client.patch(f"/api/v1/products/{product_id}", headers=w.coop.h(), json={"brand": " Gạo Thạnh Phú "})
    assert r.status_code == 200 and r.json()["brand"] == "Gạo Thạnh Phú"


def test_the_schemas_are_published(w: World) -> None:
    assert w.client.get("/api/v1/national-record/schema.json").json()["$id"].endswith("/national-record/1/schema.json")
    assert b"nationalRecordSet" in w.client.get("/api/v1/national-record/schema.xsd").content


def test_every_demo_chain_has_a_lot_with_a_complete_record(runtime: Runtime) -> None:
    from traceability_api.demo import seed_demo
    from traceability_api.lots.service import lot_by_key
    from traceability_api.national.completeness import completeness_by_org
    from traceability_api.national.record import national_record
    from traceability_api.national.xml import to_xml

    seed_demo(runtime)
    complete, certificates = {}, {}
    with Session(runtime.engine) as s:
        for gtin, code in runtime.demo_lots:
            lot, product = lot_by_key(s, gtin, code)
            contract = runtime.chain.contract if runtime.chain else None
            doc = national_record(s, lot, product, base_url="https://trace.example.vn", contract=contract)
            valid_json(doc)
            valid_xml(to_xml(doc))
            complete[code] = doc["completeness"]["complete"]
            certificates[code] = {c["label"] for c in doc["product"]["certificates"]}
            if complete[code]:
                assert all(doc[k] for k in ("productionTime", "expiryDate", "stages"))
                assert doc["product"]["image"] and doc["product"]["brand"] and doc["product"]["standards"]
                assert doc["producer"]["address"] and all(st["locationTraceCode"] for st in doc["stages"])
        figures = completeness_by_org(s)
        eggs = lot_by_key(s, *next((g, c) for g, c in runtime.demo_lots if c == "TVM-2510-01"))
        serials = national_record(s, *eggs, base_url="https://x", with_bundle=False)["serials"]
    # one lot per chain: rice, Hòa Lộc mango; Đồng Tháp mango, rice–fish, duck eggs, pangasius, flowers
    for code in ("GST25-2503", "HL-2504", "XCL-2505-01", "CL-TM-2511", "TVM-2510-01", "CT-TB-2509", "CMX-2512"):
        assert complete[code], code
    assert serials["count"] == 3 and not serials["truncated"]
    assert {"VietGAP", "OCOP 4★"} <= certificates["GST25-2503"]  # the registered certificates, as records
    assert sum(f["complete"] for f in figures) >= 7 and all(0 <= f["completeShare"] <= 1 for f in figures)


def test_cli_exports_a_period_and_one_lot(w: World, runtime: Runtime, tmp_path: Path) -> None:
    from tests.test_cli import _run

    complete_lot(w, "L1")
    complete_lot(w, "L2")
    xml = tmp_path / "records.xml"
    res = _run(
        runtime, "export", "national-record", str(xml), "--format", "xml", "--since", "2000-01-01T00:00:00+07:00"
    )
    assert res.returncode == 0, res.stderr
    root = valid_xml(xml.read_bytes())
    assert len(root.findall(f"{{{NS}}}records/{{{NS}}}nationalRecord")) == 2 and "national-record" in res.stdout
    one = tmp_path / "one.json"
    g = w.client.get("/api/v1/products", headers=w.coop.h()).json()[0]["gtin"]
    res = _run(runtime, "export", "national-record", str(one), "--lot", f"{g}/L2", "--no-bundles")
    assert res.returncode == 0, res.stderr
    doc = json.loads(one.read_text())
    valid_json(doc)
    assert doc["traceCode"]["lotCode"] == "L2" and "proofBundle" not in doc
    bad = _run(runtime, "export", "national-record", str(one), "--since", "2025-01-01")
    assert bad.returncode == 2 and "time zone" in bad.stderr and "Traceback" not in bad.stderr
    missing = _run(runtime, "export", "national-record", str(one), "--lot", f"{g}/NOPE")
    assert missing.returncode == 1 and "not found" in missing.stderr
    events = tmp_path / "events.csv"  # the events export keeps its form: agritrace export OUT
    assert _run(runtime, "export", str(events)).returncode == 0 and events.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xml_holds_any_stored_text() -> None:
    from traceability_api.national.xml import to_xml

    body = to_xml(
        {"format": "agritrace-national-record/1", "product": {"name": "Xoài\x01 cát"}, "proofBundle": {"a": "\x02"}}
    )
    root = etree.fromstring(body)
    assert root.findtext(f"{{{NS}}}product/{{{NS}}}name") == "Xoài\ufffd cát"
    assert bundle_of(root) == {"a": "\x02"}  # the bundle's JSON text escapes it: the bundle is unchanged


def test_serials_printed_on_labels_keep_the_record_complete(w: World) -> None:
    rice = complete_lot(w)
    lot_id = rice["lot"]["id"]
    r = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"serials": 2}, role="recorder")
    assert r.status_code == 200, r.text
    doc = record(w, lot_id, bundle=False).json()
    assert doc["serials"] == {"count": 2, "items": doc["serials"]["items"], "truncated": False}
    assert len(doc["serials"]["items"]) == 2
    commissioning = doc["stages"][-1]
    assert commissioning["kind"] == "harvest" and commissioning["locationTraceCode"]["code"] == "CT-TP-001"
    assert doc["completeness"]["complete"] is True  # the serials' event names where the lot was


def test_another_organisations_private_stage_shows_as_private_but_counts(w: World) -> None:
    rice = complete_lot(w)
    where = {"bizLocation": {"id": f"urn:agritrace:place:{rice['plot_id']}"}, "agri:visibility": "private"}
    private = obj_event(rice["uri"], None, "inspecting", time="2025-03-01T09:00:00+07:00", **where)
    r = w.post(w.coop, "/api/v1/events", private)
    assert r.status_code == 201, r.text
    plot = {"id": f"urn:agritrace:place:{rice['plot_id']}"}
    r = w.post(w.mill, "/api/v1/places", {"kind": "mill", "name": "Nhà máy Trà Nóc"})
    assert r.status_code == 201, r.text
    mill_site = {"id": r.json()["uri"]}
    sent = obj_event(rice["uri"], 1000, "shipping", time="2025-03-02T08:00:00+07:00", readPoint=plot,
                     sourceList=[{"type": "possessing_party", "source": w.coop.party}],
                     destinationList=[{"type": "possessing_party", "destination": w.mill.party}])  # fmt: skip
    assert w.post(w.coop, "/api/v1/events", sent).status_code == 201
    got = obj_event(rice["uri"], None, "receiving", time="2025-03-02T15:00:00+07:00", readPoint=mill_site,
                    destinationList=[{"type": "possessing_party", "destination": w.mill.party},
                                     {"type": "owning_party", "destination": w.mill.party}])  # fmt: skip
    assert w.post(w.mill, "/api/v1/events", got).status_code == 201
    rice_gtin = gtin_of_mill(w)
    out = f"https://id.gs1.org/01/{rice_gtin}/10/M1"
    milled = {
        "type": "TransformationEvent", "eventTime": "2025-03-03T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "bizStep": "commissioning", "inputQuantityList": [{"epcClass": rice["uri"], "quantity": 1000, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": out, "quantity": 600, "uom": "KGM"}], "readPoint": mill_site,
    }  # fmt: skip
    r = w.post(w.mill, "/api/v1/events", milled)
    assert r.status_code == 201, r.text
    lot_id = next(x["id"] for x in w.client.get("/api/v1/lots", headers=w.mill.h()).json() if x["lot_code"] == "M1")
    doc = w.client.get(f"/api/v1/lots/{lot_id}/national-record", headers=w.mill.h(), params={"bundle": "false"}).json()
    valid_json(doc)
    (hidden,) = [s for s in doc["stages"] if s["visibility"] == "private"]
    assert hidden["kind"] == "private" and hidden["locationTraceCode"] is None and hidden["actor"]["name"] is None
    assert hidden["time"].startswith("2025-03-01T09:00") and hidden["productTraceCodes"] == [rice["uri"]]
    seen = record(w, lot_id, w.authority, bundle="false").json()  # authorities see it whole
    assert [s["kind"] for s in seen["stages"] if s["visibility"] == "private"] == ["quality"]
    assert doc["completeness"] == seen["completeness"]  # the check read the whole stage for the mill too
    assert "stage_location_code" not in [m["item"] for m in doc["completeness"]["missing"]]
    xml = w.client.get(f"/api/v1/lots/{lot_id}/national-record", headers=w.mill.h(), params={"format": "xml"})
    valid_xml(xml.content)


def gtin_of_mill(w: World) -> str:
    from tests.world import gtin

    g = gtin(2)
    r = w.post(w.mill, "/api/v1/products", {"gtin": g, "name": "Gạo ST25", "unit": "KGM"})
    assert r.status_code == 201, r.text
    return g


def test_migration_adds_standards_to_a_database_whose_products_have_lots(database_url: str) -> None:
    """Upgrading a populated database (found starting the demo's data directory after the merge):
    on SQLite the batch copy of ``product`` must not drop a table that lots still reference."""
    from alembic import command
    from sqlalchemy import text

    from traceability_api.db import alembic_config, make_engine

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0017_privacy")
        with engine.begin() as c:
            c.execute(text("INSERT INTO organisation (id, name, kind, public_profile, created_at) "
                           "VALUES (1, 'HTX Thạnh Phú', 'cooperative', true, CURRENT_TIMESTAMP)"))  # fmt: skip
            c.execute(text("INSERT INTO product (id, gtin, org_id, name, unit, max_yield, certifications, created_at) "
                           "VALUES (1, '08930000001001', 1, 'Lúa', 'KGM', 1, '[]', CURRENT_TIMESTAMP)"))  # fmt: skip
            c.execute(text("INSERT INTO lot (id, product_id, lot_code, owner_org_id, holder_org_id, quantity, "
                           "quantity_remaining, uom, status, ilmd, created_at) VALUES (1, 1, 'L1', 1, 1, 10, 10, "
                           "'KGM', 'active', '{}', CURRENT_TIMESTAMP)"))  # fmt: skip
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as c:
            standards = c.execute(text("SELECT standards FROM product")).scalar_one()
            lot_product = c.execute(text("SELECT product_id FROM lot")).scalar_one()
        assert standards in ([], "[]") and lot_product == 1
    finally:
        engine.dispose()
