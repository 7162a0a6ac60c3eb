"""Splitting part of a lot off into a new lot, so that the part can be shipped.

A lot has one holder (``events/custody.py``): a shipment moves a whole lot.  To sell 3 t of a
10 t harvest lot, the holder first records a TransformationEvent, bizStep ``picking`` (CBV 2.0:
"selecting specific objects to fill an order"; nothing is processed or repacked), whose input is
the quantity taken off the lot and whose output is a new lot of the same product and unit with
that quantity; then it ships the new lot.  The lot keeps the rest.  Lineage (``lot_link``) links
the new lot to its parent, so its consumer page, a recall of the parent, trace and FSMA 204
records reach it like any transformation's output.

The new lot's code is the parent's with ``-1``, ``-2``, ... (the first not taken for the
product).  GS1 AI (10) allows 20 characters: a parent code too long for the suffix is cut from the
right to make room (``ABCDEFGHIJKLMNOPQRST`` -> ``ABCDEFGHIJKLMNOPQR-1``); the lineage, not the
code, says which lot it came from.  Its ilmd repeats the parent's harvest date and variety (its
label's date; its plot and farm history come through the lineage).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlmodel import Session, select

from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.builder import transformation_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Conflict
from traceability_api.events.capture import Captured
from traceability_api.events.models import Event
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal

SPLIT_STEP = "picking"
SPLIT_URI = voc.PICKING
CODE_MAX = 20  # GS1 AI (10)
_MOST = 9999  # splits of one lot


def split_code(session: Session, lot: Lot) -> str:
    """The first free ``<parent>-<n>`` of the lot's product (the parent cut to fit 20 characters)."""
    for n in range(1, _MOST + 1):
        suffix = f"-{n}"
        code = lot.lot_code[: CODE_MAX - len(suffix)] + suffix
        taken = session.exec(select(Lot.id).where(Lot.product_id == lot.product_id, Lot.lot_code == code)).first()
        if taken is None:
            return code
    raise Conflict(f"lot {lot.lot_code} was split {_MOST} times: no code is left for another part")


def split_event(
    session: Session, lot: Lot, product: Product, quantity: float, zone: tzinfo, *, when: str, **fields: Any
) -> tuple[str, dict[str, Any]]:
    """The new lot's code and the TransformationEvent taking ``quantity`` off ``lot`` into it
    (capture checks that the recorder holds the lot and that the quantity fits)."""
    code = split_code(session, lot)
    ilmd: dict[str, Any] = {}
    if lot.harvest_date is not None:
        ilmd[f"{voc.AGRI_PREFIX}:harvestDate"] = lot.harvest_date.isoformat()
    variety = (lot.ilmd or {}).get(f"{voc.AGRI_PREFIX}:variety")
    if isinstance(variety, str):
        ilmd[f"{voc.AGRI_PREFIX}:variety"] = variety
    event = transformation_event(
        zone, [(lot_uri(product.gtin, lot.lot_code), quantity, lot.uom)],
        [(lot_uri(product.gtin, code), quantity, lot.uom)], when=when, bizStep=SPLIT_STEP, **fields,
    )  # fmt: skip
    if ilmd:
        event["ilmd"] = ilmd
    return code, event


def split_child(session: Session, split: Captured) -> int:
    """The id of the lot a stored split created."""
    child = session.exec(select(LotLink.child_lot_id).where(LotLink.event_id == split.id)).first()
    assert child is not None
    return child


def split_shipped(session: Session, p: Principal, child_id: int) -> tuple[Lot, Lot, str] | None:
    """A lot the principal's organisation split off and shipped: (the new lot, its parent as it is
    now, the receiver's name); None for any other lot (the parent's figures are the splitter's)."""
    child = session.get(Lot, child_id)
    parent_id = session.exec(
        select(LotLink.parent_lot_id)
        .join(Event, Event.id == LotLink.event_id)  # type: ignore[arg-type]
        .where(LotLink.child_lot_id == child_id, Event.biz_step == SPLIT_URI, Event.org_id == p.org_id)
    ).first()
    parent = session.get(Lot, parent_id) if parent_id is not None else None
    if child is None or parent is None:
        return None
    to = child.in_transit_to_org_id or (child.holder_org_id if child.holder_org_id != p.org_id else None)
    receiver = session.get(Organisation, to) if to is not None else None
    return None if receiver is None else (child, parent, receiver.name)
