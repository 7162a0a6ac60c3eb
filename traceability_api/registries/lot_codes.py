"""Which registered codes stand behind a lot: the planting areas its harvest lots came from
(following lineage back through transformations) and the packhouses it or any of its inputs passed
through (an event recorded at a place of kind packhouse).  For fish the same roles are played by the
pond / cage / hatchery (aquaculture code) and the processing plant (a place of kind mill: its export
establishment code), included when an origin is a pond, cage or hatchery.  Used by the export check, labels and
consumer pages, so all three read the same answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from traceability_api.events.models import Event, EventLot
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, LotLink
from traceability_api.places.models import Place, PlaceKind
from traceability_api.registries.codes import AQUACULTURE_PLACES, ESTABLISHMENT_PLACES, codes_by_value, place_code
from traceability_api.registries.models import CodeKind, RegisteredCode


@dataclass
class Origin:
    lot: Lot  # a harvest lot (no inputs of its own)
    place: Place | None  # where it was harvested, if on record
    code: str | None  # the planting-area code that place carries
    record: RegisteredCode | None  # the registry entry of that code, if registered
    kind: CodeKind = CodeKind.planting_area  # aquaculture for a pond, cage or hatchery


@dataclass
class Packhouse:
    place: Place
    code: str | None
    record: RegisteredCode | None
    kind: CodeKind = CodeKind.packhouse  # establishment for a fish processing plant


@dataclass
class LotCodes:
    origins: list[Origin] = field(default_factory=list)
    packhouses: list[Packhouse] = field(default_factory=list)

    def origin_codes(self, kind: CodeKind = CodeKind.planting_area) -> list[str]:
        return sorted({o.code for o in self.origins if o.code and o.kind == kind})

    def house_codes(self, kind: CodeKind = CodeKind.packhouse) -> list[str]:
        return sorted({p.code for p in self.packhouses if p.code and p.kind == kind})

    def planting_area_codes(self) -> list[str]:
        return self.origin_codes(CodeKind.planting_area)

    def packhouse_codes(self) -> list[str]:
        return self.house_codes(CodeKind.packhouse)

    def aquaculture(self) -> bool:
        """Some origin is a pond, cage or hatchery."""
        return any(o.kind == CodeKind.aquaculture for o in self.origins)


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
    fish = any(p.kind in AQUACULTURE_PLACES for p in places.values())
    house_kinds = {PlaceKind.packhouse, *(ESTABLISHMENT_PLACES if fish else ())}
    q = select(Place).where(col(Place.id).in_(at), col(Place.kind).in_(sorted(house_kinds)))
    houses = {p.id: p for p in session.exec(q).all()}
    houses |= {p.id: p for p in extra_places if p.kind in house_kinds}
    origin_codes = {r.origin_place_id: _code(places.get(r.origin_place_id), _origin_kind(places.get(r.origin_place_id)))
                    for r in roots}  # fmt: skip
    house_codes = {pid: _code(p, _house_kind(p)) for pid, p in houses.items()}
    known = codes_by_value(session, {c for c in (*origin_codes.values(), *house_codes.values()) if c})
    out = LotCodes()
    for r in roots:
        code = origin_codes.get(r.origin_place_id)
        place = places.get(r.origin_place_id)
        kind = _origin_kind(place)
        out.origins.append(Origin(r, place, code, _held(known, code, place, kind), kind))
    for pid in sorted(houses, key=lambda i: i or 0):
        code, house = house_codes[pid], houses[pid]
        kind = _house_kind(house)
        out.packhouses.append(Packhouse(house, code, _held(known, code, house, kind), kind))
    return out


def _held(
    known: dict[str, RegisteredCode], code: str | None, place: Place | None, kind: CodeKind
) -> RegisteredCode | None:
    """The registry entry of ``code`` if it is of the kind the place carries and was issued to the
    organisation whose place carries it (another organisation's code written on a plot is not a
    registration)."""
    rec = known.get(code) if code else None
    ok = rec is not None and place is not None and rec.org_id == place.org_id and rec.kind == kind
    return rec if ok else None


def _origin_kind(place: Place | None) -> CodeKind:
    return CodeKind.aquaculture if place is not None and place.kind in AQUACULTURE_PLACES else CodeKind.planting_area


def _house_kind(place: Place) -> CodeKind:
    return CodeKind.packhouse if place.kind == PlaceKind.packhouse else CodeKind.establishment


def _code(place: Place | None, kind: CodeKind) -> str | None:
    found = place_code(place) if place is not None else None
    return found[1] if found is not None and found[0] == kind else None
