"""EPCIS 2.0 capture semantics: errorDeclaration inside captured events, parties and places named
by EPC URNs, serialised transformation outputs, owning-party shipments, and schema refusals that
say what is wrong in terms of the event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.world import CTX, World, gtin, make_world, obj_event, receive, setup_rice
from traceability_api.anchoring.models import AnchorItem, ItemKind
from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.lots.models import SerialUnit
from traceability_api.parties.models import Organisation
from traceability_api.runtime import Runtime

MILL_GLN = with_check_digit("893456700001")


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-03-05T08:00:00+07:00", "epcisBody": {"eventList": list(events)}}  # fmt: skip


def test_captured_error_declaration_declares_the_event_it_repeats(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    wrong = obj_event(rice["uri"], 3, "inspecting", eventID="urn:uuid:6a1f0c52-0d7e-4a43-9a53-3f1f0e6a0001")
    first = w.post(w.coop, "/api/v1/capture", doc(wrong)).json()["events"][0]
    fix = obj_event(rice["uri"], 4, "inspecting", eventID="urn:uuid:6a1f0c52-0d7e-4a43-9a53-3f1f0e6a0002")
    decl = {"declarationTime": "2025-03-05T09:00:00+07:00", "reason": "incorrect_data",
            "correctiveEventIDs": [fix["eventID"]]}  # fmt: skip
    declaration = wrong | {"errorDeclaration": decl}
    r = w.post(w.coop, "/api/v1/capture", doc(declaration, fix))
    assert r.status_code == 201, r.text
    declared, corrective = r.json()["events"]
    assert declared["errorDeclaration"] and declared["id"] == first["id"] and declared["hashId"] == first["hashId"]
    assert (r.json()["captured"], r.json()["errorDeclarations"]) == (1, 1)
    assert not corrective["errorDeclaration"] and corrective["id"] != first["id"]
    got = w.get(w.coop, f"/api/v1/events/{first['id']}").json()
    assert got["hashId"] == first["hashId"], "the declared event stays as it was"
    assert got["errorDeclarations"] == [{"declarationTime": "2025-03-05T02:00:00.000Z", "reason": "incorrect_data",
                                         "correctiveEventIDs": [fix["eventID"]]}]  # fmt: skip
    # the same declaration again is a duplicate; no second correction is anchored
    again = w.post(w.coop, "/api/v1/events", declaration)
    assert again.status_code == 200 and again.json()["duplicate"], again.text
    with Session(runtime.engine) as s:
        assert len(s.exec(select(AnchorItem).where(AnchorItem.kind == ItemKind.correction)).all()) == 1
    # a declaration must repeat the event unchanged, and only its recorder may make it
    changed = declaration | {"bizStep": "storing"}
    assert w.post(w.coop, "/api/v1/events", changed).status_code == 409
    assert w.post(w.mill, "/api/v1/events", declaration).status_code == 404
    late = declaration | {"errorDeclaration": {"declarationTime": "2099-01-01T00:00:00Z"}}
    r = w.post(w.coop, "/api/v1/events", late)
    assert r.status_code == 422 and "declarationTime" in r.json()["detail"]


def test_declaring_by_content_without_event_id(w: World) -> None:
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 2, "inspecting")
    stored = w.post(w.coop, "/api/v1/events", ev).json()
    r = w.post(w.coop, "/api/v1/events", ev | {"errorDeclaration": {"declarationTime": "2025-03-05T09:00:00Z"}})
    assert r.status_code == 201 and r.json()["id"] == stored["id"] and r.json()["errorDeclaration"], r.text


def test_parties_and_places_named_by_epc_urns(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    with Session(runtime.engine) as s:
        mill = s.get(Organisation, w.mill.id)
        assert mill is not None
        mill.gln = MILL_GLN
        s.add(mill)
        s.commit()
    warehouse = {"kind": "warehouse", "name": "Kho Thạnh Phú", "gln": with_check_digit("893456700002"),
                 "gln_extension": "7"}  # fmt: skip
    place = w.post(w.coop, "/api/v1/places", warehouse)
    assert place.status_code == 201, place.text
    sgln = "urn:epc:id:sgln:8934567.00002.7"
    # the coop's place, named by its SGLN, is the coop's: the mill may not record there
    assert w.post(w.mill, "/api/v1/events", obj_event(rice["uri"], None, "storing", epcList=[],
                                                      bizLocation={"id": sgln})).status_code == 403  # fmt: skip
    pgln = "urn:epc:id:pgln:8934567.00001"
    ship = obj_event(rice["uri"], None, "shipping", time="2025-03-02T08:00:00+07:00", bizLocation={"id": sgln},
                     destinationList=[{"type": "possessing_party", "destination": pgln}])  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", ship)
    assert r.status_code == 201, r.text
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201


def test_shipment_to_an_owning_party_only(w: World) -> None:
    rice = setup_rice(w)
    ship = obj_event(rice["uri"], None, "shipping", time="2025-03-02T08:00:00+07:00",
                     destinationList=[{"type": "owning_party", "destination": w.mill.party}])  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", ship)
    assert r.status_code == 201, r.text
    assert receive(w, w.distributor, w.coop, rice["uri"]).status_code == 403, "in transit to the mill"
    assert receive(w, w.mill, w.coop, rice["uri"], owning=True).status_code == 201
    lot = next(x for x in w.get(w.mill, "/api/v1/lots").json() if x["uri"] == rice["uri"])
    assert (lot["holder_org_id"], lot["owner_org_id"]) == (w.mill.id, w.mill.id)
    nobody = obj_event(rice["uri"], None, "shipping", destinationList=[])
    r = w.post(w.mill, "/api/v1/events", nobody)
    assert r.status_code == 422 and "owning_party" in r.json()["detail"]


def test_transformation_with_serialised_outputs(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    bags = gtin(2)
    assert (
        w.post(w.coop, "/api/v1/products", {"gtin": bags, "name": "Gạo ST25 túi 5 kg", "unit": "EA"}).status_code == 201
    )
    serials = [f"https://id.gs1.org/01/{bags}/21/B{i}" for i in range(3)]
    t = {"type": "TransformationEvent", "eventTime": "2025-03-03T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
         "bizStep": "commissioning", "inputQuantityList": [{"epcClass": rice["uri"], "quantity": 15, "uom": "KGM"}],
         "outputEPCList": serials}  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", t)
    assert r.status_code == 201, r.text
    lots = {x["uri"]: x for x in w.get(w.coop, "/api/v1/lots").json()}
    new = [x for x in lots.values() if x["uri"].startswith(f"https://id.gs1.org/01/{bags}/10/S-")]
    assert len(new) == 1 and (new[0]["quantity"], new[0]["uom"]) == (3, "H87")
    with Session(runtime.engine) as s:
        units = s.exec(select(SerialUnit).where(SerialUnit.lot_id == new[0]["id"])).all()
    assert sorted(u.serial for u in units) == ["B0", "B1", "B2"]
    # with an output lot of their GTIN named, the serials are its units
    more = [f"https://id.gs1.org/01/{bags}/21/C{i}" for i in range(2)]
    lot_t2 = {"epcClass": f"https://id.gs1.org/01/{bags}/10/T2", "quantity": 2, "uom": "EA"}
    t2 = t | {"eventTime": "2025-03-03T09:00:00+07:00", "outputEPCList": more, "outputQuantityList": [lot_t2]}
    assert w.post(w.coop, "/api/v1/events", t2).status_code == 201
    t2_lot = next(x for x in w.get(w.coop, "/api/v1/lots").json() if x["uri"] == lot_t2["epcClass"])
    with Session(runtime.engine) as s:
        joined = s.exec(select(SerialUnit).where(SerialUnit.lot_id == t2_lot["id"])).all()
    assert sorted(u.serial for u in joined) == ["C0", "C1"]
    again = t | {"eventTime": "2025-03-03T10:00:00+07:00", "outputEPCList": serials[:1]}
    r = w.post(w.coop, "/api/v1/events", again)
    assert r.status_code == 409 and "B0" in r.json()["detail"], "a serial number is commissioned once"


@pytest.mark.parametrize(
    ("change", "says", "not_says"),
    [
        ({"quantityList": [{"epcClass": "X", "quantity": 5, "uom": "kg"}]}, "quantityList/0/uom: 'kg'", "epcList"),
        ({"foo": 1}, "'foo' is not a field of this event type", "propertyName"),
        ({"ilmd": {"agri:variety": "ST25"}}, "ilmd is only allowed on an ObjectEvent with action ADD", "{}"),
        ({"eventTime": "hôm qua"}, "eventTime: 'hôm qua' is not an ISO 8601 date-time", "data."),
    ],
)
def test_schema_refusals_say_what_is_wrong(w: World, change: dict[str, Any], says: str, not_says: str) -> None:
    rice = setup_rice(w)
    r = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 1, "inspecting") | change)
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"] and not_says not in r.json()["detail"], r.json()["detail"]
