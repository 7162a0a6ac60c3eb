from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from traceability_api.consensus.gs1_uri import normalise_gs1_uri
from traceability_api.errors import Conflict, Forbidden, Invalid
from traceability_api.parties.service import Principal, readable
from traceability_api.places.models import Place, PlaceCreate, PlaceKind, PlacePublic
from traceability_api.validation import db_id_of

PLACE_URN = "urn:agritrace:place:"
_SGLN_DL = re.compile(r"^https://id\.gs1\.org/414/(\d{13})(?:/254/([^/]+))?$")


def place_uri(place: Place | PlaceKey) -> str:
    if place.gln:
        return f"https://id.gs1.org/414/{place.gln}" + (f"/254/{place.gln_extension}" if place.gln_extension else "")
    return f"{PLACE_URN}{place.id}"


def to_public(place: Place) -> PlacePublic:
    return PlacePublic.model_validate(place.model_dump() | {"uri": place_uri(place)})


def create_place(session: Session, p: Principal, data: PlaceCreate) -> Place:
    p.require_write()
    if data.parent_id is not None:
        parent = session.get(Place, data.parent_id)
        if parent is None or parent.org_id != p.org_id:
            raise Invalid(f"parent place {data.parent_id} is not one of your places")
    if (
        data.internal_id
        and session.exec(select(Place).where(Place.org_id == p.org_id, Place.internal_id == data.internal_id)).first()
    ):
        raise Conflict(f"you already have a place with internal id {data.internal_id!r}")
    if (
        data.gln
        and session.exec(select(Place).where(Place.gln == data.gln, Place.gln_extension == data.gln_extension)).first()
    ):
        raise Conflict("a place with this GLN (and extension) is already registered")
    place = Place.model_validate(data.model_dump() | {"org_id": p.org_id})
    session.add(place)
    session.flush()
    return place


def find_place_by_uri(session: Session, uri: str) -> Place | None:
    """Our place for an identifier used in readPoint / bizLocation, if it is one of ours."""
    if uri.startswith(PLACE_URN):
        place_id = db_id_of(uri[len(PLACE_URN) :])
        return session.get(Place, place_id) if place_id is not None else None
    m = _SGLN_DL.match(normalise_gs1_uri(uri) or uri)  # urn:epc:id:sgln:... and any DL host too
    if m:
        return session.exec(select(Place).where(Place.gln == m.group(1), Place.gln_extension == m.group(2))).first()
    return None


@dataclass(frozen=True, slots=True)
class PlaceKey:
    """What capture reads of a place named by an event: its id, whose it is, its kind and GLN
    (not its name, address or geometry)."""

    id: int
    org_id: int
    kind: PlaceKind
    gln: str | None
    gln_extension: str | None


def find_places_by_uris(session: Session, uris: Iterable[str]) -> dict[str, PlaceKey | None]:
    """The places of many identifiers (the rules of ``find_place_by_uri``) in at most two queries."""
    out: dict[str, PlaceKey | None] = {}
    by_id: dict[int, list[str]] = {}
    by_gln: dict[tuple[str, str | None], list[str]] = {}
    for uri in uris:
        out[uri] = None
        if uri.startswith(PLACE_URN):
            if (place_id := db_id_of(uri[len(PLACE_URN) :])) is not None:
                by_id.setdefault(place_id, []).append(uri)
        elif m := _SGLN_DL.match(normalise_gs1_uri(uri) or uri):
            by_gln.setdefault((m.group(1), m.group(2)), []).append(uri)
    by_ids, by_glns = _place_key_statements()
    if by_id:
        for row in session.connection().execute(by_ids, {"ids": list(by_id)}):
            for uri in by_id[row.id]:
                out[uri] = PlaceKey(*row)
    if by_gln:
        found: dict[tuple[str, str | None], PlaceKey] = {}
        for row in session.connection().execute(by_glns, {"glns": list({g for g, _ in by_gln})}):
            found.setdefault((row.gln, row.gln_extension), PlaceKey(*row))
        for key, us in by_gln.items():
            for uri in us:
                out[uri] = found.get(key)
    return out


@lru_cache(maxsize=1)
def _place_key_statements() -> tuple[Any, Any]:
    """``find_places_by_uris``' two Core queries (by id; by GLN, the first registered first), built
    once: building a statement and its cache key cost more CPU than running it."""
    t = Place.__table__  # type: ignore[attr-defined]
    cols = (t.c.id, t.c.org_id, t.c.kind, t.c.gln, t.c.gln_extension)  # PlaceKey's fields
    by_ids = sa_select(*cols).where(cols[0].in_(bindparam("ids", expanding=True)))
    by_glns = sa_select(*cols).where(cols[3].in_(bindparam("glns", expanding=True))).order_by(cols[0])
    return by_ids, by_glns


def get_place(session: Session, p: Principal, place_id: int) -> Place:
    return readable(p, session.get(Place, place_id), f"place {place_id} not found")


def require_own_place(place: Place | PlaceKey, p: Principal, role: str) -> None:
    if place.org_id != p.org_id:
        raise Forbidden(f"{role} {place_uri(place)} belongs to another organisation")
