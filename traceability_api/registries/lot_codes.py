"""Which registered codes stand behind a lot: the planting areas its harvest lots came from
(following lineage back through transformations) and the packhouses it or any of its inputs passed
through (an event recorded at a place of kind packhouse).  Used by the export check, labels and
consumer pages, so all three read the same answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from traceability_api.events.models import Event, EventLot
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, LotLink
from traceability_api.places.models import Place, PlaceKind
from traceability_api.registries.codes import codes_by_value, place_code
from traceability_api.registries.models import CodeKind, RegisteredCode


@dataclass
class Origin:
    lot: Lot  # a harvest lot (no inputs of its own)
    place: Place | None  # where it was harvested, if on record
    code: str | None  # the planting-area code that place carries
    record: RegisteredCode | None  # the registry entry of that code, if registered


@dataclass
class Packhouse:
    place: Place
    code: str | None
    record: RegisteredCode | None


@dataclass
class LotCodes:
    origins: list[Origin] = field(default_factory=list)
    packhouses: list[Packhouse] = field(default_factory=list)

    def planting_area_codes(self) -> list[str]:
        return sorted({o.code for o in self.origins if o.code})

    def packhouse_codes(self) -> list[str]:
        return sorted({p.code for p in self.packhouses if p.code})


def lot_codes(session: Session, lot: Lot, extra_places: tuple[Place, ...] = ()) -> LotCodes:
    """The origins and packhouses of ``lot`` and of every lot upstream of it.  ``extra_places``: places
    of the event being checked (a shipment leaving a packhouse counts as passing through it)."""
    assert lot.id is not None
    ids = upstream(session, lot.id)
    lots = {x.id: x for x in session.exec(select(Lot).where(col(Lot.id).in_(ids))).all()}
    made_from = set(session.exec(select(LotLink.child_lot_id).where(col(LotLink.child_lot_id).in_(ids))).all())
    roots = [lots[i] for i in ids if i in lots and i not in made_from]
    place_ids = {r.origin_place_id for r in roots if r.origin_place_id is not None}
    places = {p.id: p for p in session.exec(select(Place).where(col(Place.id).in_(place_ids))).all()}
    at = (
        select(Event.place_id).join(EventLot, col(EventLot.event_id) == col(Event.id))
        .where(col(EventLot.lot_id).in_(ids), col(Event.place_id).is_not(None)).distinct()
    )  # fmt: skip
    q = select(Place).where(col(Place.id).in_(at), Place.kind == PlaceKind.packhouse)
    houses = {p.id: p for p in session.exec(q).all()}
    houses |= {p.id: p for p in extra_places if p.kind == PlaceKind.packhouse}
    origin_codes = {r.origin_place_id: _code(places.get(r.origin_place_id), CodeKind.planting_area) for r in roots}
    house_codes = {pid: _code(p, CodeKind.packhouse) for pid, p in houses.items()}
    known = codes_by_value(session, {c for c in (*origin_codes.values(), *house_codes.values()) if c})
    out = LotCodes()
    for r in roots:
        code = origin_codes.get(r.origin_place_id)
        place = places.get(r.origin_place_id)
        out.origins.append(Origin(r, place, code, _held(known, code, place)))
    for pid in sorted(houses, key=lambda i: i or 0):
        code = house_codes[pid]
        out.packhouses.append(Packhouse(houses[pid], code, _held(known, code, houses[pid])))
    return out


def _held(known: dict[str, RegisteredCode], code: str | None, place: Place | None) -> RegisteredCode | None:
    """The registry entry of ``code`` if it was issued to the organisation whose place carries it
    (another organisation's code written on a plot is not a registration)."""
    rec = known.get(code) if code else None
    return rec if rec is not None and place is not None and rec.org_id == place.org_id else None


def _code(place: Place | None, kind: CodeKind) -> str | None:
    found = place_code(place) if place is not None else None
    return found[1] if found is not None and found[0] == kind else None
