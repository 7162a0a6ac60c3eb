"""Part of a lot is split off into a new lot by a TransformationEvent (a lot has one holder, so a
shipment moves a whole lot): the new lot may be of the lot's own product, whoever's GTIN it is,
and the mass balance counts a split as yielding what it took."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.world import World, gtin, lot_uri, make_world, receive, setup_rice, ship
from traceability_api.events.models import Event
from traceability_api.lots.models import Lot
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
