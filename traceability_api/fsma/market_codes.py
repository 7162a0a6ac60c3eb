"""The registered-code columns of the FSMA spreadsheet (``kde_columns.MARKET_CODE_COLUMNS``): for each
TLC, the planting-area / aquaculture code of the places its harvest lots came from and the
packing-house / establishment code of the packhouses and processing plants it or its inputs passed
through: the same answer as ``registries.lot_codes`` (labels, the export check), computed for the
whole sheet at once by a fixed number of set-based queries (lineage walked level by level), never
one query per lot.  An importing-market requirement, not 21 CFR 1: the columns are optional."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.places.models import Place, PlaceKind
from traceability_api.registries.codes import AQUACULTURE_PLACES, ESTABLISHMENT_PLACES, place_code
from traceability_api.registries.models import HOUSE_KINDS, ORIGIN_KINDS

CHUNK = 5000  # ids per IN (...) list
MAX_DEPTH = 50  # lineage levels followed (as lots.lineage)


def _chunks(ids: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def fill(session: Session, rows: list[dict[str, Any]], lots: dict[tuple[str, str], int] | None = None) -> None:
    """Write ``origin_code`` and ``house_code`` into every row (codes joined by " | "). ``lots``: the
    rows' lot ids by (GTIN, TLC) when the caller has them (else one query finds them)."""
    if not rows:
        return
    if lots is None:
        lots = _lot_ids(session, {(str(r["gtin"]), str(r["tlc"])) for r in rows})
    parents = _ancestry(session, set(lots.values()))
    closure = {lot_id: _closure(lot_id, parents) for lot_id in set(lots.values())}
    every = set().union(*closure.values()) if closure else set()
    origin_of = _origins(session, every, parents)
    house_of, house_places = _houses(session, every)
    code_of = {pl.id: place_code(pl) for pl in (*origin_of.values(), *house_places.values())}  # once per place
    cache: dict[int, tuple[str, str]] = {}
    for r in rows:
        lot_id = lots.get((str(r["gtin"]), str(r["tlc"])))
        if lot_id is None:
            continue
        if lot_id not in cache:
            ids = closure[lot_id]
            origins = [origin_of[i] for i in ids if i in origin_of]
            fish = any(pl.kind in AQUACULTURE_PLACES for pl in origins)
            houses = [house_places[h] for h in sorted({h for i in ids for h in house_of.get(i, ())})]
            houses = [h for h in houses if fish or h.kind == PlaceKind.packhouse]
            cache[lot_id] = (_codes(origins, ORIGIN_KINDS, code_of), _codes(houses, HOUSE_KINDS, code_of))
        r["origin_code"], r["house_code"] = cache[lot_id]


def _codes(places: Iterable[Place], kinds: frozenset[Any], code_of: dict[int | None, Any]) -> str:
    found = (code_of[pl.id] for pl in places)
    return " | ".join(sorted({c[1] for c in found if c is not None and c[0] in kinds}))


def _lot_ids(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for codes in _chunks({tlc for _, tlc in keys}):
        q = (select(Product.gtin, Lot.lot_code, Lot.id).join(Product, col(Product.id) == col(Lot.product_id))
             .where(col(Lot.lot_code).in_(codes)))  # fmt: skip
        for gtin, tlc, lot_id in session.exec(q):
            if (gtin, tlc) in keys and lot_id is not None:
                out[(gtin, tlc)] = lot_id
    return out


def _ancestry(session: Session, start: set[int]) -> dict[int, set[int]]:
    """child -> parents, for every lot upstream of ``start``, one query per lineage level."""
    parents: dict[int, set[int]] = defaultdict(set)
    frontier, seen = set(start), set(start)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        nxt: set[int] = set()
        for ids in _chunks(frontier):
            q = select(LotLink.child_lot_id, LotLink.parent_lot_id).where(col(LotLink.child_lot_id).in_(ids))
            for child, parent in session.exec(q):
                parents[child].add(parent)
                nxt.add(parent)
        frontier = nxt - seen
        seen |= nxt
    return parents


def _closure(lot_id: int, parents: dict[int, set[int]]) -> set[int]:
    out, stack = {lot_id}, [lot_id]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in out:
                out.add(parent)
                stack.append(parent)
    return out


def _origins(session: Session, lot_ids: set[int], parents: dict[int, set[int]]) -> dict[int, Place]:
    """harvest lot (no inputs) -> the place it was harvested at."""
    roots = {i for i in lot_ids if not parents.get(i)}
    at: dict[int, int] = {}
    for ids in _chunks(roots):
        q = select(Lot.id, Lot.origin_place_id).where(col(Lot.id).in_(ids), col(Lot.origin_place_id).is_not(None))
        at |= {lot_id: place_id for lot_id, place_id in session.exec(q) if lot_id is not None and place_id is not None}
    places = _places(session, set(at.values()))
    return {lot_id: places[pid] for lot_id, pid in at.items() if pid in places}


def _houses(session: Session, lot_ids: set[int]) -> tuple[dict[int, set[int]], dict[int, Place]]:
    """lot -> the ids of the packhouses and processing plants where an event of it was recorded;
    the places by id."""
    kinds = sorted({PlaceKind.packhouse, *ESTABLISHMENT_PLACES})
    pairs: set[tuple[int, int]] = set()
    for ids in _chunks(lot_ids):
        q = (select(EventLot.lot_id, Event.place_id).join(Event, col(Event.id) == col(EventLot.event_id))
             .join(Place, col(Place.id) == col(Event.place_id))
             .where(col(EventLot.lot_id).in_(ids), col(Place.kind).in_(kinds)).distinct())  # fmt: skip
        pairs |= {(lot_id, pid) for lot_id, pid in session.exec(q) if pid is not None}
    places = _places(session, {pid for _, pid in pairs})
    out: dict[int, set[int]] = defaultdict(set)
    for lot_id, pid in pairs:
        out[lot_id].add(pid)
    return out, places


def _places(session: Session, ids: set[int]) -> dict[int, Place]:
    out: dict[int, Place] = {}
    for chunk in _chunks(ids):
        out |= {pl.id: pl for pl in session.exec(select(Place).where(col(Place.id).in_(chunk))) if pl.id is not None}
    return out
