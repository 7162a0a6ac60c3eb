"""What capture reads from the database, and how often: a document's lots (with their first event
times), places and repeats in a fixed number of queries whatever its length; only the columns the
rules need (no place geometry); the same answers as before on every path (prefetched lots, a lot
reached through a serial number, places by id and by GLN with extension)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

from tests.test_capture_semantics import doc
from tests.world import CTX, World, gtin, make_world, obj_event, setup_rice
from traceability_api.authority.models import WriteLogEntry
from traceability_api.authority.write_log import entry_digest
from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.events.capture import capture_events
from traceability_api.events.models import Event
from traceability_api.parties.models import Member, Organisation
from traceability_api.parties.service import Principal
from traceability_api.places.service import PLACE_URN
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def principal(runtime: Runtime, org_id: int) -> Principal:
    with Session(runtime.engine) as s:
        m = s.exec(select(Member).where(Member.org_id == org_id)).first()
        assert m is not None and m.id is not None
        org = s.get(Organisation, org_id)
        assert org is not None
        return Principal(m.id, m.name, m.role, org_id, org.kind)


def selects_of_capture(runtime: Runtime, p: Principal, events: list[dict[str, Any]]) -> list[str]:
    """The SELECT statements one capture of ``events`` runs (rolled back afterwards); drawing the
    new events' ids from their sequence (PostgreSQL, one statement per document) is no read."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "nextval(" not in statement:
            seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", note)
    try:
        with Session(runtime.engine) as s:
            captured = capture_events(s, p, events, CTX, Settings(), checks=CAPTURE_CHECKS)
            assert len(captured) == len(events) and not any(c.duplicate for c in captured)
            s.rollback()
    finally:
        event.remove(runtime.engine, "before_cursor_execute", note)
    return seen


def test_a_document_reads_its_lots_places_and_repeats_in_three_queries(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    plot = f"{PLACE_URN}{rice['plot_id']}"
    p = principal(runtime, w.coop.id)

    def events(n: int) -> list[dict[str, Any]]:
        return [obj_event(rice["uri"], 1 + i, "inspecting", time=f"2025-03-0{1 + i % 3}T08:00:00+07:00",
                          readPoint={"id": plot}, bizLocation={"id": plot}) for i in range(n)]  # fmt: skip

    one, many = selects_of_capture(runtime, p, events(1)), selects_of_capture(runtime, p, events(12))
    # the repeats (eventIDs), the lots locked with their first event time, the places: nothing per event
    assert len(one) == len(many) == 3, many
    assert not any("place.geo" in sql for sql in many), "a place's geometry is not read to check it"
    lots = next(sql for sql in many if "FROM lot" in sql)
    assert "lot.first_event_at" in lots and "min(" not in lots, "first event times come with the lots, kept"


def test_chronology_holds_for_prefetched_lots_and_lots_reached_by_serial(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)  # commissioned 2025-02-28 17:00 +07:00
    early, late = "2025-02-27T08:00:00+07:00", "2025-03-01T08:00:00+07:00"
    r = w.post(w.coop, "/api/v1/capture", doc(obj_event(rice["uri"], None, "inspecting", time=late),
                                              obj_event(rice["uri"], None, "inspecting", time=early)))  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith("event 1: eventTime 2025-02-27T08:00+07:00"), r.text
    assert "before lot L1 was commissioned (2025-02-28T17:00+07:00)" in r.json()["detail"]
    # serial numbers of the lot: an event naming one is found through the serial, not the prefetch
    serials = [f"https://id.gs1.org/01/{rice['gtin']}/21/S{i}" for i in range(2)]
    add = {"type": "ObjectEvent", "eventTime": "2025-03-01T09:00:00+07:00", "eventTimeZoneOffset": "+07:00",
           "action": "ADD", "bizStep": "commissioning", "epcList": serials,
           "quantityList": [{"epcClass": rice["uri"]}]}  # fmt: skip
    assert w.post(w.coop, "/api/v1/events", add).status_code == 201
    by_serial = {"type": "ObjectEvent", "eventTimeZoneOffset": "+07:00", "action": "OBSERVE",
                 "bizStep": "inspecting", "epcList": serials[:1]}  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", by_serial | {"eventTime": early})
    assert r.status_code == 422 and "before lot L1 was commissioned" in r.json()["detail"], r.text
    assert w.post(w.coop, "/api/v1/events", by_serial | {"eventTime": late}).status_code == 201


def test_places_by_gln_and_extension_are_told_apart(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    gln = with_check_digit("893456700002")
    ids = {}
    for ext in (None, "7", "8"):
        body = {"kind": "warehouse", "name": f"Kho {ext}", "gln": gln} | ({"gln_extension": ext} if ext else {})
        r = w.post(w.coop, "/api/v1/places", body)
        assert r.status_code == 201, r.text
        ids[ext] = r.json()["id"]
    named = {None: f"https://id.gs1.org/414/{gln}", "7": "urn:epc:id:sgln:8934567.00002.7",
             "8": f"https://example.com/414/{gln}/254/8"}  # fmt: skip
    for i, (ext, uri) in enumerate(named.items()):
        ev = obj_event(rice["uri"], None, "storing", time=f"2025-03-01T0{i}:00:00+07:00", bizLocation={"id": uri})
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code == 201, r.text
        with Session(runtime.engine) as s:
            stored = s.get(Event, r.json()["id"])
            assert stored is not None and stored.place_id == ids[ext], (ext, uri)
    # another organisation's place, named by its SGLN, and an unknown place of ours
    r = w.post(w.mill, "/api/v1/events", obj_event(rice["uri"], None, "storing", bizLocation={"id": named["7"]}))
    assert r.status_code == 403 and f"bizLocation https://id.gs1.org/414/{gln}/254/7 belongs to" in r.text, r.text
    r = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], None, "storing", readPoint={"id": f"{PLACE_URN}0"}))
    assert r.status_code == 422 and "is not a registered place" in r.text


def test_commissioning_checks_the_product_and_ilmd_plot(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    mill_place = w.post(w.mill, "/api/v1/places", {"kind": "plot", "name": "Ruộng nhà máy"}).json()["id"]
    store = w.post(w.coop, "/api/v1/places", {"kind": "warehouse", "name": "Kho"}).json()["id"]

    def harvest(code: str, **ilmd: Any) -> dict[str, Any]:
        lot = f"https://id.gs1.org/01/{rice['gtin']}/10/{code}"
        return {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
                "action": "ADD", "bizStep": "commissioning", "ilmd": ilmd,
                "quantityList": [{"epcClass": lot, "quantity": 10}]}  # fmt: skip

    r = w.post(w.coop, "/api/v1/events", harvest("H1", **{"agri:plot": f"{PLACE_URN}{mill_place}"}))
    assert r.status_code == 403 and "ilmd plot" in r.text and "belongs to another organisation" in r.text
    r = w.post(w.coop, "/api/v1/events", harvest("H2", **{"agri:plot": f"{PLACE_URN}{store}"}))
    assert r.status_code == 422 and "is not a registered plot" in r.text
    r = w.post(w.coop, "/api/v1/events", harvest("H3", **{"agri:plot": f"{PLACE_URN}{rice['plot_id']}"}))
    assert r.status_code == 201, r.text
    lot = next(x for x in w.get(w.coop, "/api/v1/lots").json() if x["uri"].endswith("/10/H3"))
    assert (lot["origin_place_id"], lot["uom"], lot["quantity"]) == (rice["plot_id"], "KGM", 10), "unit from product"
    r = w.post(w.mill, "/api/v1/events", harvest("H4"))
    assert r.status_code == 403 and "belongs to another organisation" in r.text
    unknown = harvest("H5") | {"quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin(9)}/10/H5", "quantity": 1}]}
    r = w.post(w.coop, "/api/v1/events", unknown)
    assert r.status_code == 404 and "register the product first" in r.text


def test_write_log_entries_of_captures_keep_their_digest(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    assert w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], None, "inspecting")).status_code == 201
    with Session(runtime.engine) as s:
        entries = s.exec(select(WriteLogEntry).where(WriteLogEntry.path == "/api/v1/events")).all()
    assert len(entries) == 1 and entries[0].status == 201 and entries[0].org_id == w.coop.id
    assert entries[0].digest == entry_digest(entries[0])
