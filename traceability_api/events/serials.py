"""Serialising units of a lot (for labels): the next serial numbers of the product, recorded as
one EPCIS commissioning ObjectEvent naming the lot and the new serial EPCs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from labels.digital_link import build
from traceability_api.config import Settings
from traceability_api.db import lock_for_write
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product, SerialUnit
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place
from traceability_api.places.service import place_uri

GS1_ID = "https://id.gs1.org"  # the canonical Digital Link host of EPCIS identifiers


def _last_place(session: Session, p: Principal, lot: Lot) -> str | None:
    place = session.exec(
        select(Place)
        .join(Event, col(Event.place_id) == Place.id)
        .join(EventLot, col(EventLot.event_id) == Event.id)
        .where(EventLot.lot_id == lot.id, Place.org_id == p.org_id)
        .order_by(col(Event.event_time).desc(), col(Event.id).desc())
        .limit(1)
    ).first()
    return place_uri(place) if place is not None else None


def _lock_numbering(session: Session, product_id: int) -> None:
    """Serials are numbered from the product's count of units: two requests numbering at once read
    the same count and the second failed with 409 (its serials "already exist").  One numbering per
    product at a time, until the transaction ends: SQLite's write lock (``BEGIN IMMEDIATE``), on
    PostgreSQL the product's row (``FOR NO KEY UPDATE``: rows naming the product may still be added)."""
    lock_for_write(session)
    if session.connection().dialect.name == "postgresql":
        session.exec(select(Product.id).where(Product.id == product_id).with_for_update(key_share=True)).one()


def commission_serials(
    session: Session, p: Principal, lot: Lot, product: Product, count: int, settings: Settings,
    *, checks: Sequence[EventCheck], read_point: str | None = None,
) -> list[str]:  # fmt: skip
    """Capture the commissioning of ``count`` new serial units of ``lot``; returns their serials.  The
    event names where it happens (its location trace code in the national record): ``read_point``,
    else the caller's place where the lot was last recorded, if any."""
    p.require_write()
    assert product.id is not None
    _lock_numbering(session, product.id)
    read_point = read_point or _last_place(session, p, lot)
    start = session.exec(select(func.count()).where(SerialUnit.product_id == product.id)).one() + 1
    codes = [f"{lot.lot_code[:8]}-{n:06d}" for n in range(start, start + count)]
    epcs = [build(product.gtin, serial=c).uri(GS1_ID) for c in codes]  # serials percent-encoded
    where: dict[str, Any] = {"readPoint": {"id": read_point}} if read_point else {}
    event = object_event(
        "commissioning", settings.zone, action="ADD", epcs=epcs, lot=lot_uri(product.gtin, lot.lot_code), **where
    )
    capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks)
    return codes
