"""Serialising units of a lot (for labels): the next serial numbers of the product, recorded as
one EPCIS commissioning ObjectEvent naming the lot and the new serial EPCs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, func, select

from labels.digital_link import build
from traceability_api.config import Settings
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.lots.models import Lot, Product, SerialUnit
from traceability_api.parties.service import Principal

GS1_ID = "https://id.gs1.org"  # the canonical Digital Link host of EPCIS identifiers


def commission_serials(
    session: Session, p: Principal, lot: Lot, product: Product, count: int, settings: Settings,
    *, checks: Sequence[EventCheck], read_point: str | None = None,
) -> list[str]:  # fmt: skip
    """Capture the commissioning of ``count`` new serial units of ``lot`` (where: ``read_point``, a
    place URI, when given); returns their serials."""
    p.require_write()
    assert product.id is not None
    start = session.exec(select(func.count()).where(SerialUnit.product_id == product.id)).one() + 1
    codes = [f"{lot.lot_code[:8]}-{n:06d}" for n in range(start, start + count)]
    epcs = [build(product.gtin, serial=c).uri(GS1_ID) for c in codes]  # serials percent-encoded
    where: dict[str, Any] = {"readPoint": {"id": read_point}} if read_point else {}
    event = object_event(
        "commissioning", settings.zone, action="ADD", epcs=epcs, lot=lot_uri(product.gtin, lot.lot_code), **where
    )
    capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks)
    return codes
