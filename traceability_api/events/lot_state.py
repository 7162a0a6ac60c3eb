"""Lot state as custody sees it: the lots an event touches, a per-document lot cache, and the
shared checks (the recorder holds the lot, quantities fit, places are the recorder's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, tuple_
from sqlmodel import Session, select

from traceability_api.consensus.gs1_uri import normalise_gs1_uri
from traceability_api.db import lock_for_write
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.identifiers import GS1Ref, lot_uri
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.events.chronology import first_event_times
from traceability_api.events.refs import EventRefs, ItemRef
from traceability_api.lots.models import Lot, LotStatus, Product, SerialUnit, check_lot_code
from traceability_api.lots.service import ProductKey, find_lot, find_serial_lot, product_key
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal
from traceability_api.places.models import PRODUCTION_KINDS, PlaceKind
from traceability_api.places.service import PlaceKey, find_places_by_uris, require_own_place
from traceability_api.timeutil import utcnow
from traceability_api.validation import db_id_of


@dataclass
class Touch:
    lot: Lot
    role: str
    quantity: float | None
    uom: str | None


GS1_YEARS_BACK = 49  # GS1 General Specifications 7.12: a YYMMDD year is read from 49 years back to 50 ahead


@lru_cache(maxsize=1)
def _prefetch_statement() -> Any:
    """The lots of many (GTIN, lot code) keys, locked in id order, each with its GTIN and the time
    of its first event (the product itself is not loaded): one query, built once (building it and
    its cache key cost more CPU than running it), a call binds its keys."""
    return (
        select(Lot, Product.gtin, Lot.__table__.c.first_event_at)  # type: ignore[attr-defined]  # the column: fresh
        .join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
        .where(tuple_(Product.gtin, Lot.lot_code).in_(bindparam("keys", expanding=True)))
        .order_by(Lot.id)  # type: ignore[arg-type]
        .with_for_update(of=Lot)
    )


class LotCache:
    """Per-document cache so one capture sees its own earlier events' lots."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lots: dict[tuple[str, str], Lot] = {}  # by (GTIN, lot code)
        self.first: dict[int, datetime | None] = {}  # prefetched lots' first event time (None: no event yet)
        self.absent: set[tuple[str, str]] = set()  # looked up by ``prefetch``, not stored
        self.places: dict[str, PlaceKey | None] = {}
        self.products: dict[str, ProductKey | None] = {}

    def prefetch(self, lots: set[tuple[str, str]], place_uris: set[str]) -> None:
        """Load (and lock) the lots and places of many events at once: a handful of queries for a
        whole document or group instead of one per event."""
        keys = lots - self.lots.keys() - self.absent
        if keys:
            lock_for_write(self.session)
            for lot, gtin, first in self.session.execute(_prefetch_statement(), {"keys": list(keys)}):
                self.lots[(gtin, lot.lot_code)] = lot
                assert lot.id is not None
                self.first[lot.id] = first
            self.absent |= keys - self.lots.keys()
        uris = place_uris - self.places.keys()
        if uris:
            self.places.update(find_places_by_uris(self.session, uris))

    def first_event_times(self, lot_ids: set[int]) -> dict[int, datetime]:
        """``chronology.first_event_times`` of these lots: read with the lots by ``prefetch`` (locked
        then, it cannot change), the others in one query."""
        out = {i: t for i in lot_ids & self.first.keys() if (t := self.first[i]) is not None}
        return out | first_event_times(self.session, lot_ids - self.first.keys())

    def place(self, uri: str) -> PlaceKey | None:
        if uri not in self.places:
            self.places.update(find_places_by_uris(self.session, (uri,)))
        return self.places[uri]

    def product(self, gtin: str) -> ProductKey | None:
        if gtin not in self.products:
            self.products[gtin] = product_key(self.session, gtin)
        return self.products[gtin]

    def lot(self, gtin: str, code: str) -> Lot | None:
        key = (gtin, code)
        if key not in self.lots:
            if key in self.absent:
                return None
            found = find_lot(self.session, gtin, code, for_update=True)
            if found is None:
                return None
            self.lots[key] = found[0]
        return self.lots[key]

    def serial(self, gtin: str, serial: str) -> Lot | None:
        found = find_serial_lot(self.session, gtin, serial, for_update=True)
        return None if found is None else found[0]

    def add(self, lot: Lot, gtin: str) -> None:
        self.lots[(gtin, lot.lot_code)] = lot
        self.absent.discard((gtin, lot.lot_code))


def party_org(session: Session, uri: str) -> Organisation | None:
    """Our organisation named ``urn:agritrace:party:<id>``, or by its GLN as a party
    (``urn:epc:id:pgln:...`` or a GS1 Digital Link ``/417/<GLN>`` on any host)."""
    if uri.startswith("urn:agritrace:party:") and (org_id := db_id_of(uri.rsplit(":", 1)[1])) is not None:
        return session.get(Organisation, org_id)
    uri = normalise_gs1_uri(uri) or uri
    if uri.startswith("https://id.gs1.org/417/"):
        return session.exec(select(Organisation).where(Organisation.gln == uri.rsplit("/", 1)[1])).first()
    return None


def check_places(p: Principal, refs: EventRefs, cache: LotCache) -> tuple[int | None, int | None]:
    """Our places named by the event must be the recorder's.  Returns (a plot named, the place
    where the event happened: bizLocation, else readPoint)."""
    plot = None
    where = None
    for role, uri in (("readPoint", refs.read_point), ("bizLocation", refs.biz_location)):
        if uri is None:
            continue
        place = cache.place(uri)
        if place is None:
            if uri.startswith("urn:agritrace:place:"):
                raise Invalid(f"{role} {uri} is not a registered place")
            continue
        require_own_place(place, p, role)
        where = place.id if where is None or role == "bizLocation" else where
        if place.kind in PRODUCTION_KINDS and place.kind != PlaceKind.farm:
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


def new_lot(
    session: Session, p: Principal, item: ItemRef, cache: LotCache, ilmd: dict[str, Any],
    prefixes: dict[str, str], plot_id: int | None, *, held_products: frozenset[int] = frozenset(),
) -> Touch:  # fmt: skip
    """A new lot of one of the recorder's products, or (``held_products``: a transformation's output
    of the product of a lot it holds and takes as input, as a split) of that product."""
    ref = item.ref
    assert ref.gtin is not None and ref.code is not None
    check_lot_code(ref.code)
    if cache.lot(ref.gtin, ref.code) is not None:
        raise Conflict(f"lot {ref.uri} already exists; a lot is commissioned once")
    product = cache.product(ref.gtin)
    if product is None:
        raise NotFound(f"unknown product GTIN {ref.gtin}: register the product first")
    if product.org_id != p.org_id and product.id not in held_products:
        raise Forbidden(f"product {ref.gtin} belongs to another organisation")
    if item.quantity is None:
        raise Invalid(f"a new lot needs a quantity: {ref.uri}")
    uom = item.uom or product.unit
    harvest = _ilmd_value(ilmd, prefixes, voc.ILMD_HARVEST_DATE)
    plot_uri = _ilmd_value(ilmd, prefixes, (voc.ILMD_PLOT,))
    if plot_uri is not None:
        place = cache.place(str(plot_uri))
        if place is None or place.kind not in PRODUCTION_KINDS:
            raise Invalid(f"ilmd plot {plot_uri} is not a registered plot, pond, cage, barn, flock house or hatchery")
        require_own_place(place, p, "ilmd plot")
        plot_id = place.id
    try:
        harvest_date = date.fromisoformat(str(harvest)[:10]) if harvest else None
    except ValueError as exc:
        raise Invalid(f"ilmd harvest date {harvest!r} is not a date (YYYY-MM-DD)") from exc
    if harvest_date is not None and harvest_date > utcnow().date() + timedelta(days=1):  # a day for time zones
        # a lot is commissioned once harvested; 9999-12-31 was stored, printed and its expiry overflowed
        raise Invalid(f"ilmd harvest date {harvest_date.isoformat()} is in the future: record the lot once harvested")
    if harvest_date is not None and harvest_date.year < utcnow().year - GS1_YEARS_BACK:
        # labels carry dates as GS1 YYMMDD, read within 49 years back and 50 ahead: an older harvest
        # (a mistyped year) would print an expiry that scanners read as decades in the future
        raise Invalid(
            f"ilmd harvest date {harvest_date.isoformat()} is more than {GS1_YEARS_BACK} years ago: "
            "check the year (labels cannot carry its dates)"
        )
    lot = Lot(
        product_id=product.id, lot_code=ref.code, owner_org_id=p.org_id, holder_org_id=p.org_id,
        quantity=item.quantity, quantity_remaining=item.quantity, uom=uom, origin_place_id=plot_id,
        harvest_date=harvest_date, ilmd=ilmd,
    )  # fmt: skip
    session.add(lot)
    cache.add(lot, ref.gtin)
    return Touch(lot, item.role, item.quantity, uom)


def commission_serials(session: Session, touches: list[Touch], serials: list[ItemRef], items: list[ItemRef]) -> None:
    if len(touches) != 1:
        raise Invalid("serial numbers are commissioned together with exactly one lot in quantityList")
    lot = touches[0].lot
    gtin = next(i.ref.gtin for i in items if i.ref.kind == "lot")
    session.flush()
    assert lot.id is not None
    codes = [s.ref.code or "" for s in serials]
    for code in codes:
        check_lot_code(code, "serial number")
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
    now = utcnow()  # one multi-row insert: building 1,000 SQLModel objects took ~1 s of a label sheet
    rows = [{"product_id": lot.product_id, "lot_id": lot.id, "serial": c, "created_at": now} for c in codes]
    session.execute(insert(SerialUnit), rows)


def serial_outputs(
    session: Session, p: Principal, serials: list[ItemRef], new: list[Touch], cache: LotCache,
    ilmd: dict[str, Any], prefixes: dict[str, str],
) -> list[Touch]:  # fmt: skip
    """Serialised outputs of a transformation become units of its output lot of their GTIN; with
    none named, of a new lot ``S-<12 hex>`` (digest of the serials) counting them (H87, pieces)."""
    out: list[Touch] = []
    for gtin in sorted({i.ref.gtin or "" for i in serials}):
        group = [i for i in serials if i.ref.gtin == gtin]
        lots = [t for t in new if t.lot.product_id == getattr(cache.product(gtin), "id", -1)]
        if len(lots) > 1:
            raise Invalid(
                f"serialised outputs of GTIN {gtin} need exactly one output lot of that GTIN, not {len(lots)}"
            )
        if not lots:
            code = "S-" + hashlib.sha256("\n".join(sorted(i.ref.uri for i in group)).encode()).hexdigest()[:12]
            ref = GS1Ref(lot_uri(gtin, code), "lot", gtin, code)
            lots = [new_lot(session, p, ItemRef(ref, "output", float(len(group)), "H87"), cache, ilmd, prefixes, None)]
            out.extend(lots)
        lot_item = ItemRef(GS1Ref(lot_uri(gtin, "x"), "lot", gtin, "x"), "output")
        commission_serials(session, lots, group, [lot_item])
    return out


def existing(cache: LotCache, item: ItemRef) -> Lot:
    ref = item.ref
    assert ref.gtin is not None and ref.code is not None
    found = cache.lot(ref.gtin, ref.code) if ref.kind == "lot" else cache.serial(ref.gtin, ref.code)
    if found is None:
        raise NotFound(f"unknown {'lot' if ref.kind == 'lot' else 'serial number'} {ref.uri}")
    if found.status == LotStatus.consumed:
        raise Conflict(f"lot {ref.uri} was already consumed by a transformation; record events on its outputs")
    return found


def check_quantity(lot: Lot, item: ItemRef) -> None:
    if item.uom is not None and item.uom != lot.uom:
        raise Invalid(f"{item.ref.uri}: unit {item.uom} does not match the lot's unit {lot.uom}")
    if item.quantity is not None and item.quantity > lot.quantity_remaining + 1e-9:
        left = f"{lot.quantity_remaining:g} {lot.uom}"
        raise Invalid(f"{item.ref.uri}: quantity {item.quantity:g} exceeds the lot's remaining {left}")


def holds(p: Principal, lot: Lot, uri: str) -> None:
    if lot.status == LotStatus.in_transit:
        raise Conflict(f"lot {uri} is in transit; it must be received first")
    if lot.holder_org_id != p.org_id:
        raise Forbidden(f"your organisation does not hold lot {uri}")
