"""Custody rules: who may record what on which lot, and how events change lot state.

* Commissioning (ObjectEvent ADD, bizStep commissioning) creates lots (harvest = commissioning)
  of products the recorder owns; serial EPCs in it become units of the lot.
* TransformationEvent consumes input lots the recorder holds (quantities deducted, a lot fully
  used is ``consumed``) and creates output lots.
* Shipping needs one ``possessing_party`` destination (or, naming none, one ``owning_party``): the
  lot goes ``in_transit`` to it; only that organisation may then record receiving, which makes it
  the holder (and the owner when the receipt names it as ``owning_party``).
* Serialised transformation outputs become units of the event's output lot of their GTIN (or of a
  new lot of them when it names none).
* Any other event needs the recorder to hold every lot it names; a consumed lot takes no more events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from traceability_api.consensus.gs1_uri import normalise_gs1_uri
from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.events.refs import EventRefs, ItemRef
from traceability_api.lots.models import Lot, LotStatus, Product, SerialUnit
from traceability_api.lots.service import GS1Ref, find_lot, find_serial_lot, lot_uri, product_by_gtin
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal
from traceability_api.places.models import PlaceKind
from traceability_api.places.service import find_place_by_uri, require_own_place


@dataclass
class Touch:
    lot: Lot
    role: str
    quantity: float | None
    uom: str | None


class LotCache:
    """Per-document cache so one capture sees its own earlier events' lots."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lots: dict[tuple[str, str], tuple[Lot, Product]] = {}

    def lot(self, gtin: str, code: str) -> tuple[Lot, Product] | None:
        key = (gtin, code)
        if key not in self.lots:
            found = find_lot(self.session, gtin, code, for_update=True)
            if found is None:
                return None
            self.lots[key] = found
        return self.lots[key]

    def serial(self, gtin: str, serial: str) -> tuple[Lot, Product] | None:
        return find_serial_lot(self.session, gtin, serial, for_update=True)

    def add(self, lot: Lot, product: Product) -> None:
        self.lots[(product.gtin, lot.lot_code)] = (lot, product)


def party_org(session: Session, uri: str) -> Organisation | None:
    """Our organisation named ``urn:agritrace:party:<id>``, or by its GLN as a party
    (``urn:epc:id:pgln:...`` or a GS1 Digital Link ``/417/<GLN>`` on any host)."""
    if uri.startswith("urn:agritrace:party:") and uri.rsplit(":", 1)[1].isdigit():
        return session.get(Organisation, int(uri.rsplit(":", 1)[1]))
    uri = normalise_gs1_uri(uri) or uri
    if uri.startswith("https://id.gs1.org/417/"):
        return session.exec(select(Organisation).where(Organisation.gln == uri.rsplit("/", 1)[1])).first()
    return None


def check_places(session: Session, p: Principal, refs: EventRefs) -> tuple[int | None, int | None]:
    """Our places named by the event must be the recorder's.  Returns (a plot named, the place
    where the event happened: bizLocation, else readPoint)."""
    plot = None
    where = None
    for role, uri in (("readPoint", refs.read_point), ("bizLocation", refs.biz_location)):
        if uri is None:
            continue
        place = find_place_by_uri(session, uri)
        if place is None:
            if uri.startswith("urn:agritrace:place:"):
                raise Invalid(f"{role} {uri} is not a registered place")
            continue
        require_own_place(place, p, role)
        where = place.id if where is None or role == "bizLocation" else where
        if place.kind == PlaceKind.plot:
            plot = place.id
    return plot, where


def _ilmd_value(ilmd: dict[str, Any], prefixes: dict[str, str], names: tuple[str, ...]) -> Any:
    for key, value in ilmd.items():
        expanded = key
        if ":" in key and not key.startswith(("http", "urn")):
            pfx, local = key.split(":", 1)
            expanded = prefixes.get(pfx, pfx + ":") + local
        if expanded in names:
            return value
    return None


def _new_lot(
    session: Session, p: Principal, item: ItemRef, cache: LotCache, ilmd: dict[str, Any],
    prefixes: dict[str, str], plot_id: int | None,
) -> Touch:  # fmt: skip
    ref = item.ref
    assert ref.gtin is not None and ref.code is not None
    if cache.lot(ref.gtin, ref.code) is not None:
        raise Conflict(f"lot {ref.uri} already exists; a lot is commissioned once")
    product = product_by_gtin(session, ref.gtin)
    if product is None:
        raise NotFound(f"unknown product GTIN {ref.gtin}: register the product first")
    if product.org_id != p.org_id:
        raise Forbidden(f"product {ref.gtin} belongs to another organisation")
    if item.quantity is None:
        raise Invalid(f"a new lot needs a quantity: {ref.uri}")
    uom = item.uom or product.unit
    harvest = _ilmd_value(ilmd, prefixes, voc.ILMD_HARVEST_DATE)
    plot_uri = _ilmd_value(ilmd, prefixes, (voc.ILMD_PLOT,))
    if plot_uri is not None:
        place = find_place_by_uri(session, str(plot_uri))
        if place is None or place.kind != PlaceKind.plot:
            raise Invalid(f"ilmd plot {plot_uri} is not a registered plot")
        require_own_place(place, p, "ilmd plot")
        plot_id = place.id
    try:
        harvest_date = date.fromisoformat(str(harvest)[:10]) if harvest else None
    except ValueError as exc:
        raise Invalid(f"ilmd harvest date {harvest!r} is not a date (YYYY-MM-DD)") from exc
    assert product.id is not None
    lot = Lot(
        product_id=product.id, lot_code=ref.code, owner_org_id=p.org_id, holder_org_id=p.org_id,
        quantity=item.quantity, quantity_remaining=item.quantity, uom=uom, origin_place_id=plot_id,
        harvest_date=harvest_date, ilmd=ilmd,
    )  # fmt: skip
    session.add(lot)
    cache.add(lot, product)
    return Touch(lot, item.role, item.quantity, uom)


def _commission_serials(session: Session, touches: list[Touch], serials: list[ItemRef], items: list[ItemRef]) -> None:
    if len(touches) != 1:
        raise Invalid("serial numbers are commissioned together with exactly one lot in quantityList")
    lot = touches[0].lot
    gtin = next(i.ref.gtin for i in items if i.ref.kind == "lot")
    session.flush()
    assert lot.id is not None
    codes = [s.ref.code or "" for s in serials]
    if len(set(codes)) != len(codes):
        raise Invalid("a serial number appears twice in the event")
    for s in serials:
        if s.ref.gtin != gtin:
            raise Invalid(f"serial {s.ref.uri} is not of the lot's product {gtin}")
    taken = session.exec(
        select(SerialUnit.serial).where(SerialUnit.product_id == lot.product_id, SerialUnit.serial.in_(codes))  # type: ignore[attr-defined]
    ).first()
    if taken is not None:
        raise Conflict(f"serial {taken} of GTIN {gtin} already exists")
    session.add_all([SerialUnit(product_id=lot.product_id, lot_id=lot.id, serial=c) for c in codes])


def _serial_outputs(
    session: Session, p: Principal, serials: list[ItemRef], new: list[Touch], cache: LotCache,
    ilmd: dict[str, Any], prefixes: dict[str, str],
) -> list[Touch]:  # fmt: skip
    """Serialised outputs of a transformation become units of its output lot of their GTIN; with
    none named, of a new lot ``S-<12 hex>`` (digest of the serials) counting them (H87, pieces)."""
    out: list[Touch] = []
    for gtin in sorted({i.ref.gtin or "" for i in serials}):
        group = [i for i in serials if i.ref.gtin == gtin]
        lots = [t for t in new if t.lot.product_id == getattr(product_by_gtin(session, gtin), "id", -1)]
        if len(lots) > 1:
            raise Invalid(
                f"serialised outputs of GTIN {gtin} need exactly one output lot of that GTIN, not {len(lots)}"
            )
        if not lots:
            code = "S-" + hashlib.sha256("\n".join(sorted(i.ref.uri for i in group)).encode()).hexdigest()[:12]
            ref = GS1Ref(lot_uri(gtin, code), "lot", gtin, code)
            lots = [_new_lot(session, p, ItemRef(ref, "output", float(len(group)), "H87"), cache, ilmd, prefixes, None)]
            out.extend(lots)
        lot_item = ItemRef(GS1Ref(lot_uri(gtin, "x"), "lot", gtin, "x"), "output")
        _commission_serials(session, lots, group, [lot_item])
    return out


def _existing(cache: LotCache, item: ItemRef) -> tuple[Lot, Product]:
    ref = item.ref
    assert ref.gtin is not None and ref.code is not None
    found = cache.lot(ref.gtin, ref.code) if ref.kind == "lot" else cache.serial(ref.gtin, ref.code)
    if found is None:
        raise NotFound(f"unknown {'lot' if ref.kind == 'lot' else 'serial number'} {ref.uri}")
    lot, _ = found
    if lot.status == LotStatus.consumed:
        raise Conflict(f"lot {ref.uri} was already consumed by a transformation; record events on its outputs")
    return found


def _check_quantity(lot: Lot, item: ItemRef) -> None:
    if item.uom is not None and item.uom != lot.uom:
        raise Invalid(f"{item.ref.uri}: unit {item.uom} does not match the lot's unit {lot.uom}")
    if item.quantity is not None and item.quantity > lot.quantity_remaining + 1e-9:
        left = f"{lot.quantity_remaining:g} {lot.uom}"
        raise Invalid(f"{item.ref.uri}: quantity {item.quantity:g} exceeds the lot's remaining {left}")


def _holds(p: Principal, lot: Lot, uri: str) -> None:
    if lot.status == LotStatus.in_transit:
        raise Conflict(f"lot {uri} is in transit; it must be received first")
    if lot.holder_org_id != p.org_id:
        raise Forbidden(f"your organisation does not hold lot {uri}")


def apply(
    session: Session, p: Principal, event: dict[str, Any], refs: EventRefs, cache: LotCache,
    prefixes: dict[str, str], *, recall: bool = False,
) -> list[Touch]:  # fmt: skip
    """Authorise the event against custody and apply its effect on lots.  ``recall``: a recall
    event recorded by the recall service (already authorised) marks every lot it names recalled."""
    etype = event["type"]
    action = event.get("action")
    step = voc.full_uri(event.get("bizStep"), voc.BIZSTEP)
    plot_id, refs.place_id = check_places(session, p, refs)
    ilmd = event.get("ilmd") or {}
    lot_items = [i for i in refs.items if i.ref.kind in ("lot", "serial")]
    touches: list[Touch] = []

    if recall:
        for item in lot_items:
            ref = item.ref
            found = cache.lot(ref.gtin or "", ref.code or "") if ref.kind == "lot" else None
            if found is None:
                raise NotFound(f"unknown lot {ref.uri}")
            lot = found[0]
            if lot.status != LotStatus.consumed:
                lot.status = LotStatus.recalled
                session.add(lot)
            touches.append(Touch(lot, item.role, None, None))
        return touches

    if etype == "ObjectEvent" and action == "ADD" and step == voc.COMMISSIONING:
        serials = [i for i in lot_items if i.ref.kind == "serial"]
        for item in (i for i in lot_items if i.ref.kind == "lot"):
            ref = item.ref
            existing = cache.lot(ref.gtin or "", ref.code or "") if serials else None
            if existing is not None:  # serialising units of a lot that already exists
                _holds(p, existing[0], ref.uri)
                touches.append(Touch(existing[0], item.role, None, None))
            else:
                touches.append(_new_lot(session, p, item, cache, ilmd, prefixes, plot_id))
        if serials:
            _commission_serials(session, touches, serials, lot_items)
        return touches

    if etype == "TransformationEvent":
        inputs = [i for i in lot_items if i.role == "input"]
        outputs = [i for i in lot_items if i.role == "output"]
        if not inputs or not outputs:
            raise Invalid("a transformation needs input lots and output lots")
        for item in inputs:
            lot, _ = _existing(cache, item)
            _holds(p, lot, item.ref.uri)
            _check_quantity(lot, item)
            used = lot.quantity_remaining if item.quantity is None else item.quantity
            lot.quantity_remaining = max(0.0, lot.quantity_remaining - used)
            if lot.quantity_remaining <= 1e-9:
                lot.status = LotStatus.consumed
            session.add(lot)
            touches.append(Touch(lot, "input", used, lot.uom))
        new = [_new_lot(session, p, i, cache, ilmd, prefixes, None) for i in outputs if i.ref.kind == "lot"]
        serials = [i for i in outputs if i.ref.kind == "serial"]
        return touches + new + (_serial_outputs(session, p, serials, new, cache, ilmd, prefixes) if serials else [])

    for item in lot_items:
        lot, _ = _existing(cache, item)
        if step == voc.RECEIVING:
            if lot.status != LotStatus.in_transit or lot.in_transit_to_org_id != p.org_id:
                raise Forbidden(f"lot {item.ref.uri} is not in transit to your organisation")
        else:
            _holds(p, lot, item.ref.uri)
        _check_quantity(lot, item)
        touches.append(Touch(lot, item.role, item.quantity, item.uom or (lot.uom if item.quantity else None)))

    if step == voc.SHIPPING and touches:
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
            t.lot.status = LotStatus.in_transit
            t.lot.in_transit_to_org_id = receiver.id
    elif step == voc.RECEIVING:
        owners = refs.destinations.get(voc.OWNING_PARTY, [])
        takes_ownership = any((o := party_org(session, u)) is not None and o.id == p.org_id for u in owners)
        for t in touches:
            t.lot.status = LotStatus.active
            t.lot.holder_org_id = p.org_id
            t.lot.in_transit_to_org_id = None
            if takes_ownership:
                t.lot.owner_org_id = p.org_id
    elif step == voc.DESTROYING or (etype == "ObjectEvent" and action == "DELETE"):
        for t in touches:
            t.lot.status = LotStatus.consumed
            t.lot.quantity_remaining = 0.0
    for t in touches:
        session.add(t.lot)
    return touches
