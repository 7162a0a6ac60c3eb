"""Custody rules: who may record what on which lot, and how events change lot state.

* Commissioning (ObjectEvent ADD, bizStep commissioning) creates lots (harvest = commissioning)
  of products the recorder owns; serial EPCs in it become units of the lot.
* TransformationEvent consumes input lots the recorder holds (quantities deducted, a lot fully
  used is ``consumed``) and creates output lots, of the recorder's products or of an input lot's
  product (a lot split: ``events/split.py``).
* Shipping needs one ``possessing_party`` destination (or, naming none, one ``owning_party``): the
  lot goes ``in_transit`` to it; only that organisation may then record receiving, which makes it
  the holder (and the owner when the receipt names it as ``owning_party``).  A lot has one holder:
  a shipment moves the whole lot (naming no quantity, or the lot's remaining quantity); part of a
  lot is first split into a new lot by a TransformationEvent (``events/split.py``), which is shipped.
* Serialised transformation outputs become units of the event's output lot of their GTIN (or of a
  new lot of them when it names none).
* Any other event needs the recorder to hold every lot it names; a consumed lot takes no more events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.events.lot_state import (
    LotCache,
    Touch,
    check_places,
    check_quantity,
    commission_serials,
    existing,
    holds,
    new_lot,
    party_org,
    serial_outputs,
)
from traceability_api.events.refs import EventRefs, ItemRef
from traceability_api.lots.models import Lot, LotStatus, SerialUnit
from traceability_api.parties.service import Principal

__all__ = ["LotCache", "Touch", "apply"]


def apply(
    session: Session, p: Principal, event: dict[str, Any], refs: EventRefs, cache: LotCache,
    prefixes: dict[str, str], *, recall: bool = False,
) -> list[Touch]:  # fmt: skip
    """Authorise the event against custody and apply its effect on lots.  ``recall``: a recall
    event recorded by the recall service (already authorised) marks every lot it names recalled."""
    etype = event["type"]
    action = event.get("action")
    step = voc.full_uri(event.get("bizStep"), voc.BIZSTEP)
    plot_id, refs.place_id = check_places(p, refs, cache)
    ilmd = event.get("ilmd") or {}
    items = [i for i in refs.items if i.ref.kind in ("lot", "serial")]
    if recall:
        return recall_lots(session, items, cache)
    if etype == "ObjectEvent" and action == "ADD" and step == voc.COMMISSIONING:
        return commission(session, p, items, cache, ilmd, prefixes, plot_id)
    if etype == "TransformationEvent":
        return transform(session, p, items, cache, ilmd, prefixes)
    touches = touch_held(p, items, cache, receiving=step == voc.RECEIVING)
    if etype == "AggregationEvent" and action == "ADD" and any(t.lot.status == LotStatus.recalled for t in touches):
        # a pallet or case is shipped by its SSCC: packed inside, the recalled lot would travel unseen
        raise Conflict("a recalled lot may not be packed into a pallet or case")
    if step == voc.SHIPPING and touches:
        whole_units(session, items, touches)
        ship(session, p, touches, refs)
    elif step == voc.RECEIVING:
        receive(session, p, touches, refs)
    elif step == voc.DESTROYING or (etype == "ObjectEvent" and action == "DELETE"):
        destroy(touches)
    for t in touches:
        session.add(t.lot)
    return touches


def recall_lots(session: Session, items: list[ItemRef], cache: LotCache) -> list[Touch]:
    """A recall event: every lot it names (not consumed) becomes ``recalled``."""
    touches = []
    for item in items:
        ref = item.ref
        found = cache.lot(ref.gtin or "", ref.code or "") if ref.kind == "lot" else None
        if found is None:
            raise NotFound(f"unknown lot {ref.uri}")
        lot = found
        if lot.status != LotStatus.consumed:
            lot.status = LotStatus.recalled
            session.add(lot)
        touches.append(Touch(lot, item.role, None, None))
    return touches


def commission(
    session: Session, p: Principal, items: list[ItemRef], cache: LotCache, ilmd: dict[str, Any],
    prefixes: dict[str, str], plot_id: int | None,
) -> list[Touch]:  # fmt: skip
    """Commissioning creates lots (harvest) of the recorder's products, or serialises units of
    a lot the recorder holds."""
    touches: list[Touch] = []
    serials = [i for i in items if i.ref.kind == "serial"]
    for item in (i for i in items if i.ref.kind == "lot"):
        ref = item.ref
        found = cache.lot(ref.gtin or "", ref.code or "") if serials else None
        if found is not None:  # serialising units of a lot that already exists
            holds(p, found, ref.uri)
            touches.append(Touch(found, item.role, None, None))
        else:
            touches.append(new_lot(session, p, item, cache, ilmd, prefixes, plot_id))
    if serials:
        commission_serials(session, touches, serials, items)
    return touches


def transform(
    session: Session, p: Principal, items: list[ItemRef], cache: LotCache, ilmd: dict[str, Any],
    prefixes: dict[str, str],
) -> list[Touch]:  # fmt: skip
    """A transformation consumes held input lots (a lot fully used is ``consumed``) and creates
    output lots."""
    inputs = [i for i in items if i.role == "input"]
    outputs = [i for i in items if i.role == "output"]
    if not inputs or not outputs:
        raise Invalid("a transformation needs input lots and output lots")
    touches: list[Touch] = []
    held: set[int] = set()
    for item in inputs:
        lot = existing(cache, item)
        holds(p, lot, item.ref.uri)
        if lot.status == LotStatus.recalled:  # its outputs would be fresh lots the recall does not reach
            raise Conflict(f"lot {item.ref.uri} is recalled: it may not be transformed into new lots")
        check_quantity(lot, item)
        used = lot.quantity_remaining if item.quantity is None else item.quantity
        lot.quantity_remaining = max(0.0, lot.quantity_remaining - used)
        if lot.quantity_remaining <= 1e-9:
            lot.status = LotStatus.consumed
        session.add(lot)
        touches.append(Touch(lot, "input", used, lot.uom))
        held.add(lot.product_id)
    kept = frozenset(held)  # a lot split (or repacked) in its own product: another organisation's GTIN
    new = [
        new_lot(session, p, i, cache, ilmd, prefixes, None, held_products=kept) for i in outputs if i.ref.kind == "lot"
    ]
    serials = [i for i in outputs if i.ref.kind == "serial"]
    return touches + new + (serial_outputs(session, p, serials, new, cache, ilmd, prefixes) if serials else [])


def touch_held(p: Principal, items: list[ItemRef], cache: LotCache, *, receiving: bool) -> list[Touch]:
    """Any other event: the recorder holds every lot named (or, receiving, it is in transit to
    the recorder) and quantities fit."""
    touches = []
    for item in items:
        lot = existing(cache, item)
        if receiving:
            if lot.status != LotStatus.in_transit or lot.in_transit_to_org_id != p.org_id:
                raise Forbidden(f"lot {item.ref.uri} is not in transit to your organisation")
        else:
            holds(p, lot, item.ref.uri)
        check_quantity(lot, item)
        touches.append(Touch(lot, item.role, item.quantity, item.uom or (lot.uom if item.quantity else None)))
    return touches


def ship(session: Session, p: Principal, touches: list[Touch], refs: EventRefs) -> None:
    """Shipping to exactly one other organisation (``possessing_party``, else ``owning_party``):
    lots go ``in_transit``."""
    if any(t.lot.status == LotStatus.recalled for t in touches):
        raise Conflict("a recalled lot may not be shipped")
    dests = refs.destinations.get(voc.POSSESSING_PARTY) or refs.destinations.get(voc.OWNING_PARTY, [])
    if len(dests) != 1:
        raise Invalid(
            "shipping needs exactly one destination of type possessing_party "
            "(or, when it names none, exactly one owning_party: the new owner receives the goods)"
        )
    receiver = party_org(session, dests[0])
    if receiver is None:
        raise Invalid(f"destination {dests[0]} is not a registered organisation")
    if receiver.id == p.org_id:
        raise Invalid("a shipment's destination must be another organisation")
    for t in touches:
        partial(t)
    for t in touches:
        t.lot.status = LotStatus.in_transit
        t.lot.in_transit_to_org_id = receiver.id


def is_part(quantity: float | None, lot: Lot) -> bool:
    """A quantity less than what the lot holds: part of it (the rule both the refusal below and the
    workspace's split before a shipment follow)."""
    return quantity is not None and quantity < lot.quantity_remaining - 1e-9


def partial(t: Touch) -> None:
    """A shipment names the whole lot or nothing: part of it would leave the rest in transit (one holder)."""
    if not is_part(t.quantity, t.lot):
        return
    left = f"{t.lot.quantity_remaining:g} {t.lot.uom}"
    raise Invalid(
        f"a shipment moves a whole lot: this one ships {t.quantity:g} {t.uom or t.lot.uom} of lot "
        f"{t.lot.lot_code}, which holds {left}. Ship the whole lot (name no quantity, or {left}), or "
        "first split the part off: a TransformationEvent taking that quantity of the lot as input and "
        "giving a new lot as output; then ship the new lot"
    )


def whole_units(session: Session, items: list[ItemRef], touches: list[Touch]) -> None:
    """A shipment naming serialised units of a lot names every unit of it (or the lot itself): the
    lot moves whole, so shipping 3 of its 100 boxes put all 100 in transit to the buyer."""
    named: dict[int, set[str]] = {}
    whole: set[int] = set()
    lots: dict[int, Lot] = {}
    for item, t in zip(items, touches, strict=True):  # touch_held: one touch per item, in order
        lot = t.lot
        assert lot.id is not None
        lots[lot.id] = lot
        if item.ref.kind == "serial":
            named.setdefault(lot.id, set()).add(item.ref.code or "")
        else:
            whole.add(lot.id)
    for lot_id, serials in named.items():
        if lot_id in whole:
            continue
        units = session.exec(select(func.count()).select_from(SerialUnit).where(SerialUnit.lot_id == lot_id)).one()
        if len(serials) < units:
            lot = lots[lot_id]
            raise Invalid(
                f"a shipment moves a whole lot: this one names {len(serials)} of the {units} units of lot "
                f"{lot.lot_code}. Ship the lot (name it, or every one of its units); units sold apart "
                "belong in a lot of their own, labelled from it"
            )


def receive(session: Session, p: Principal, touches: list[Touch], refs: EventRefs) -> None:
    """Receiving makes the recorder the holder (and the owner when named ``owning_party``)."""
    owners = refs.destinations.get(voc.OWNING_PARTY, [])
    takes_ownership = any((o := party_org(session, u)) is not None and o.id == p.org_id for u in owners)
    for t in touches:
        t.lot.status = LotStatus.active
        t.lot.holder_org_id = p.org_id
        t.lot.in_transit_to_org_id = None
        if takes_ownership:
            t.lot.owner_org_id = p.org_id


def destroy(touches: list[Touch]) -> None:
    """Destroying (or ObjectEvent DELETE) uses the lots up."""
    for t in touches:
        t.lot.status = LotStatus.consumed
        t.lot.quantity_remaining = 0.0
