"""Capture through the HTTP API: custody, authorisation matrix, bad input, idempotency, EPCIS query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, func
from sqlmodel import Session, select

from tests.world import CTX, World, gtin, lot_uri, make_world, obj_event, receive, setup_rice, ship
from traceability_api.anchoring.models import AnchorItem
from traceability_api.consensus.event_hash import hash_ids_of_json_document
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def counts(runtime: Runtime) -> tuple[int, ...]:
    with Session(runtime.engine) as s:
        return tuple(
            s.exec(select(func.count()).select_from(t)).one()  # type: ignore[arg-type]
            for t in (Event, EventLot, Lot, AnchorItem)
        )


def lot_state(runtime: Runtime) -> list[tuple[Any, ...]]:
    with Session(runtime.engine) as s:
        return [
            (x.id, x.status, x.holder_org_id, x.owner_org_id, x.quantity_remaining)
            for x in s.exec(select(Lot).order_by(Lot.id)).all()  # type: ignore[arg-type]
        ]


def test_harvest_ship_receive_transform(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    lot = rice["lot"]
    assert (lot["holder_org_id"], lot["status"], lot["quantity"]) == (w.coop.id, "active", 1000.0)
    assert lot["origin_place_id"] == rice["plot_id"] and lot["harvest_date"] == "2025-02-28"

    r = ship(w, w.coop, w.mill, rice["uri"], role="recorder")
    assert r.status_code == 201, r.text
    assert w.get(w.coop, f"/api/v1/lots/{lot['id']}").json()["status"] == "in_transit"
    # the distributor is not the destination: it may not receive
    assert receive(w, w.distributor, w.coop, rice["uri"]).status_code == 403
    r = receive(w, w.mill, w.coop, rice["uri"], owning=True)
    assert r.status_code == 201, r.text
    after = w.get(w.mill, f"/api/v1/lots/{lot['id']}").json()
    assert (after["holder_org_id"], after["owner_org_id"], after["status"]) == (w.mill.id, w.mill.id, "active")

    # the mill: paddy -> milled rice + bran + husk
    outs = {}
    for n, name in ((2, "Gạo ST25"), (3, "Cám gạo"), (4, "Trấu")):
        g = gtin(n)
        assert w.post(w.mill, "/api/v1/products", {"gtin": g, "name": name}).status_code == 201
        outs[name] = g
    tf = {
        "type": "TransformationEvent", "eventTime": "2025-03-03T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": rice["uri"], "quantity": 1000, "uom": "KGM"}],
        "outputQuantityList": [
            {"epcClass": lot_uri(outs["Gạo ST25"], "M1"), "quantity": 620, "uom": "KGM"},
            {"epcClass": lot_uri(outs["Cám gạo"], "M1"), "quantity": 100, "uom": "KGM"},
            {"epcClass": lot_uri(outs["Trấu"], "M1"), "quantity": 200, "uom": "KGM"},
        ],
    }  # fmt: skip
    r = w.post(w.mill, "/api/v1/events", tf, role="recorder")
    assert r.status_code == 201, r.text
    assert w.get(w.mill, f"/api/v1/lots/{lot['id']}").json()["status"] == "consumed"

    before = counts(runtime)
    r = w.post(w.mill, "/api/v1/events", obj_event(rice["uri"], 10, "inspecting"))
    assert r.status_code == 409 and "consumed" in r.json()["detail"]
    assert counts(runtime) == before

    lots = w.get(w.mill, "/api/v1/lots").json()
    assert {x["product_name"] for x in lots if x["holder_org_id"] == w.mill.id} >= {"Gạo ST25", "Cám gạo", "Trấu"}


def test_stored_event_hash_is_recomputable(w: World) -> None:
    rice = setup_rice(w)
    doc = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 5, "inspecting"))
    assert doc.status_code == 201
    got = w.get(w.coop, f"/api/v1/events/{doc.json()['id']}").json()
    assert got["hashId"] == doc.json()["hashId"]
    assert got["hashId"].startswith("ni:///sha-256;") and got["hashId"].endswith("?ver=CBV2.0")
    recomputed = hash_ids_of_json_document(
        {"@context": got["event"]["@context"], "epcisBody": {"eventList": [got["event"]]}}
    )
    assert recomputed == [got["hashId"]]


def test_authorisation_matrix(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    inspect = obj_event(rice["uri"], 5, "inspecting")
    before = counts(runtime)
    # a distributor cannot write events on a lot it does not hold
    r = w.post(w.distributor, "/api/v1/events", inspect)
    assert r.status_code == 403 and "does not hold" in r.json()["detail"]
    # nor ship it
    assert ship(w, w.distributor, w.mill, rice["uri"]).status_code == 403
    # a viewer cannot write, even on its own organisation's lot
    r = w.post(w.coop, "/api/v1/events", inspect, role="viewer")
    assert r.status_code == 403 and "viewer" in r.json()["detail"]
    # an auditor cannot write either
    assert w.post(w.authority, "/api/v1/events", inspect, role="auditor").status_code == 403
    assert counts(runtime) == before
    # the recorder of the holding cooperative can
    assert w.post(w.coop, "/api/v1/events", inspect, role="recorder").status_code == 201

    # reads: the mill sees neither the lot nor its events; nor does another organisation's auditor:
    # reading across organisations is for members of an authority only
    lot_id = rice["lot"]["id"]
    for org, role in ((w.mill, "admin"), (w.distributor, "auditor")):
        assert w.get(org, f"/api/v1/lots/{lot_id}", role=role).status_code == 404
        assert w.get(org, "/api/v1/events", role=role, params={"lot": rice["uri"]}).json()["epcisBody"][
            "queryResults"]["resultsBody"]["eventList"] == []  # fmt: skip
        assert w.get(org, f"/api/v1/trace/lots/{lot_id}/origins", role=role).status_code == 403
        assert w.get(org, "/api/v1/exports/epcis", role=role).json()["epcisBody"]["eventList"] == []
    for org, role in ((w.authority, "auditor"), (w.authority, "admin"), (w.coop, "auditor")):
        assert w.get(org, f"/api/v1/lots/{lot_id}", role=role).status_code == 200
        events = w.get(org, "/api/v1/events", role=role, params={"lot": rice["uri"]}).json()
        assert len(events["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    # the audit log: an organisation's auditor sees its own organisation's writes only
    coop_log = w.get(w.coop, "/api/v1/audit-log", role="auditor").json()
    assert coop_log and {e["org_id"] for e in coop_log} == {w.coop.id}
    assert {e["org_id"] for e in w.get(w.distributor, "/api/v1/audit-log", role="auditor").json()} <= {w.distributor.id}
    assert w.coop.id in {e["org_id"] for e in w.get(w.authority, "/api/v1/audit-log", role="auditor").json()}
    assert w.get(w.coop, "/api/v1/audit-log", role="viewer").status_code == 403
    assert w.get(w.coop, "/api/v1/audit-log", role="admin").status_code == 403
    # no key, a bad key
    assert w.client.get("/api/v1/lots").status_code == 401
    assert w.client.get("/api/v1/lots", headers={"Authorization": "Bearer agt_nope_nope"}).status_code == 401


def test_places_and_products_are_validated(w: World) -> None:
    bad_gtin = {"gtin": "08930000000010", "name": "Xoài cát Hòa Lộc"}
    r = w.post(w.coop, "/api/v1/products", bad_gtin)
    assert r.status_code == 422 and "check digit" in r.text
    for geo, msg in (
        ({"type": "Point", "coordinates": [105.5, 95.0]}, "latitude"),
        ({"type": "Point", "coordinates": [200, 10]}, "longitude"),
        ({"type": "Polygon", "coordinates": [[[105, 10], [105.1, 10], [105.1, 10.1]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[105, 10], [105.1, 10], [105.1, 10.1], [105, 10.2]]]}, "closed"),
        ({"type": "Line", "coordinates": []}, "Point or Polygon"),
    ):
        r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "x", "geo": geo})
        assert r.status_code == 422 and msg in r.text, r.text
    ok = w.post(
        w.coop,
        "/api/v1/places",
        {
            "kind": "plot",
            "name": "Vườn xoài",
            "planting_area_code": "VN-TG-0123",
            "geo": {
                "type": "Polygon",
                "coordinates": [[[106.0, 10.3], [106.01, 10.3], [106.01, 10.31], [106.0, 10.3]]],
            },
        },
    )
    assert ok.status_code == 201 and ok.json()["uri"].startswith("urn:agritrace:place:")
    assert w.post(w.coop, "/api/v1/places", {"kind": "mill", "name": "Kho", "gln": "12345"}).status_code == 422


@pytest.mark.parametrize(
    ("mutate", "status", "message"),
    [
        (lambda e, u: e["quantityList"][0].update(epcClass=u.replace("/10/", "/10/NOPE")), 404, "unknown lot"),
        (
            lambda e, u: e["quantityList"][0].update(epcClass="https://id.gs1.org/01/08930000000010/10/L1"),
            422,
            "check digit",
        ),
        (lambda e, u: e["quantityList"][0].update(quantity=-5), 422, "out of range"),
        (lambda e, u: e["quantityList"][0].update(quantity=1e12), 422, "out of range"),
        (lambda e, u: e["quantityList"][0].update(quantity=5000), 422, "exceeds the lot's remaining"),
        (lambda e, u: e["quantityList"][0].update(uom="LBR"), 422, "unit"),
        (lambda e, u: e.update(eventTime=(datetime.now(UTC) + timedelta(hours=2)).isoformat()), 422, "future"),
        (lambda e, u: e.update(eventTime="yesterday"), 422, "eventTime"),
        (lambda e, u: e.update(action="HARVEST"), 422, "schema"),
        (lambda e, u: e.update(type="HarvestEvent"), 422, "event type"),
        (lambda e, u: e.update(readPoint={"id": "urn:agritrace:place:999"}), 422, "not a registered place"),
        (lambda e, u: e.pop("eventTimeZoneOffset"), 422, "schema"),
    ],
)
def test_bad_events_are_refused_and_nothing_changes(
    w: World, runtime: Runtime, mutate: Any, status: int, message: str
) -> None:
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 5, "inspecting")
    mutate(ev, rice["uri"])
    before, lots_before = counts(runtime), lot_state(runtime)
    r = w.post(w.coop, "/api/v1/events", ev)
    assert r.status_code == status, r.text
    assert message in r.text
    assert counts(runtime) == before and lot_state(runtime) == lots_before


def test_malformed_json_is_refused(w: World, runtime: Runtime) -> None:
    before = counts(runtime)
    for path in ("/api/v1/events", "/api/v1/capture"):
        r = w.client.post(
            path, content=b'{"type": "ObjectEvent",', headers=w.coop.h() | {"Content-Type": "application/json"}
        )
        assert r.status_code == 422 and "JSON" in r.text
    assert counts(runtime) == before


def test_idempotency(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 5, "inspecting", eventID="urn:uuid:6d0c7c60-4b8f-4d1f-9a38-d7f3e6f0a111")
    first = w.post(w.coop, "/api/v1/events", ev)
    again = w.post(w.coop, "/api/v1/events", ev)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["duplicate"] is True
    before = counts(runtime)
    changed = obj_event(rice["uri"], 6, "inspecting", eventID=ev["eventID"])
    r = w.post(w.coop, "/api/v1/events", changed)
    assert r.status_code == 409 and "already used" in r.json()["detail"]
    # without an eventID the content itself identifies the event; an Idempotency-Key also works
    plain = obj_event(rice["uri"], 7, "inspecting")
    assert w.post(w.coop, "/api/v1/events", plain).status_code == 201
    assert w.post(w.coop, "/api/v1/events", plain).status_code == 200
    keyed = obj_event(rice["uri"], 8, "inspecting")
    assert w.post(w.coop, "/api/v1/events", keyed, headers={"Idempotency-Key": "k-1"}).status_code == 201
    replay = w.post(w.coop, "/api/v1/events", keyed, headers={"Idempotency-Key": "k-1"})  # the first answer again
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert counts(runtime)[0] == before[0] + 2


def epcis_doc(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-03-05T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def test_epcis_document_capture_is_all_or_nothing(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    good = [obj_event(rice["uri"], 1, "inspecting", time=f"2025-03-01T0{i}:00:00+07:00") for i in range(3)]
    r = w.post(w.coop, "/api/v1/capture", epcis_doc(good))
    assert r.status_code == 201 and r.json()["captured"] == 3
    before = counts(runtime)
    bad = [obj_event(rice["uri"], 1, "storing"), obj_event(rice["uri"], -1, "storing")]
    r = w.post(w.coop, "/api/v1/capture", epcis_doc(bad))
    assert r.status_code == 422 and r.json()["detail"].startswith("event 1:")
    assert counts(runtime) == before
    r = w.post(w.coop, "/api/v1/capture", {"type": "EPCISDocument", "epcisBody": {"eventList": good}})
    assert r.status_code == 422  # no @context / schemaVersion / creationDate
    assert w.post(w.coop, "/api/v1/capture", {"type": "Nope"}).status_code == 422


def test_epcis_query_filters_and_pages(w: World) -> None:
    rice = setup_rice(w)
    for i in range(5):
        ev = obj_event(rice["uri"], 1, "storing" if i % 2 else "inspecting", time=f"2025-03-0{i + 2}T08:00:00+07:00")
        assert w.post(w.coop, "/api/v1/events", ev).status_code == 201

    def q(**params: Any) -> list[dict[str, Any]]:
        body = w.get(w.coop, "/api/v1/events", params=params).json()
        assert body["type"] == "EPCISQueryDocument"
        return body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]

    assert len(q(lot=rice["uri"])) == 6  # commissioning + 5
    assert len(q(lot=rice["uri"], EQ_bizStep="storing")) == 2
    assert (
        len(q(lot=rice["uri"], GE_eventTime="2025-03-04T00:00:00+07:00", LT_eventTime="2025-03-06T00:00:00+07:00")) == 2
    )
    page1 = w.get(w.coop, "/api/v1/events", params={"lot": rice["uri"], "perPage": 4}).json()
    token = page1["epcisBody"]["queryResults"]["nextPageToken"]
    page2 = q(lot=rice["uri"], perPage=4, nextPageToken=token)
    ids = [e["eventID"] for e in page1["epcisBody"]["queryResults"]["resultsBody"]["eventList"] + page2]
    assert len(ids) == len(set(ids)) == 6
    assert w.get(w.coop, "/api/v1/events", params={"perPage": 0}).status_code == 422
    assert w.get(w.coop, "/api/v1/events", params={"lot": "urn:x"}).status_code == 422


def test_error_declaration_keeps_the_event(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    wrong = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 3, "inspecting")).json()
    fix = obj_event(rice["uri"], 4, "inspecting")
    r = w.post(w.coop, f"/api/v1/events/{wrong['id']}/corrections",
               {"reason": "incorrect_data", "correctiveEvents": [fix]})  # fmt: skip
    assert r.status_code == 201, r.text
    got = w.get(w.coop, f"/api/v1/events/{wrong['id']}").json()
    assert got["hashId"] == wrong["hashId"], "the declared event is unchanged"
    assert got["errorDeclarations"][0]["reason"] == "incorrect_data"
    assert len(got["errorDeclarations"][0]["correctiveEventIDs"]) == 1
    # another organisation may not declare it erroneous
    assert w.post(w.mill, f"/api/v1/events/{wrong['id']}/corrections", {"reason": "x"}).status_code == 404
    with Session(runtime.engine) as s:
        kinds = [a.kind for a in s.exec(select(AnchorItem)).all()]
    assert "correction" in kinds


def test_a_large_document_stores_its_rows_as_single_events_are_stored(w: World, runtime: Runtime) -> None:
    """A document of more than 3 events takes the bulk path (PostgreSQL: ``COPY`` of the event
    rows); its rows must hold what the one-event ``INSERT`` stores: the JSON text as the ORM
    writes it, SQL NULL for no signature, the visibility's value, the times to the microsecond."""
    rice = setup_rice(w)
    times = [f"2025-03-02T0{i}:00:00.123456+07:00" for i in range(6)]
    events = [obj_event(rice["uri"], 1, "inspecting", time=t) for t in times]
    events[2]["agri:visibility"] = "private"
    one = obj_event(rice["uri"], 1, "inspecting", time="2025-03-03T08:00:00.5+07:00", **{"agri:visibility": "private"})
    assert w.post(w.coop, "/api/v1/events", one).status_code == 201
    r = w.post(w.coop, "/api/v1/capture", epcis_doc(events))
    assert r.status_code == 201 and r.json()["captured"] == 6
    raw = func.cast(Event.document, String) if runtime.engine.dialect.name == "postgresql" else Event.document
    with Session(runtime.engine) as s:
        rows = s.exec(
            select(Event.id, Event.event_time, Event.visibility, Event.signature.is_(None), raw)  # type: ignore[union-attr]
            .where(Event.biz_step.like("%inspecting"))  # type: ignore[union-attr]
            .order_by(Event.id)  # type: ignore[arg-type]
        ).all()
        documents = {e.id: e.document for e in s.exec(select(Event)).all()}
    assert len(rows) == 7
    assert [v for _, _, v, _, _ in rows] == ["private", "public", "public", "private", "public", "public", "public"]
    assert all(no_signature for _, _, _, no_signature, _ in rows)
    assert [t for _, t, _, _, _ in rows][1:] == [datetime.fromisoformat(t).astimezone(UTC) for t in times]
    for event_id, _, _, _, text in rows:  # the stored JSON text is the ORM's serialisation of the document
        stored = text if isinstance(text, str) else json.dumps(text)
        assert stored == json.dumps(documents[event_id])
    for got in (w.get(w.coop, f"/api/v1/events/{i}").json() for i, *_ in rows):
        doc = {"@context": got["event"]["@context"], "epcisBody": {"eventList": [got["event"]]}}
        assert hash_ids_of_json_document(doc) == [got["hashId"]]
