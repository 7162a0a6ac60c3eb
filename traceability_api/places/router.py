from __future__ import annotations

from fastapi import APIRouter, status
from sqlmodel import select

from traceability_api.deps import SessionDep
from traceability_api.parties.deps import PrincipalDep
from traceability_api.places.models import Place, PlaceCreate, PlaceKind, PlacePublic
from traceability_api.places.service import create_place, get_place, to_public
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1/places", tags=["places"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlacePublic)
def add_place(data: PlaceCreate, p: PrincipalDep, session: SessionDep) -> PlacePublic:
    """Register a farm, plot / planting area (mã số vùng trồng, GeoJSON point or polygon), facility or vehicle."""
    place = create_place(session, p, data)
    session.commit()
    return to_public(place)


@router.get("", response_model=list[PlacePublic])
def list_places(p: PrincipalDep, session: SessionDep, kind: PlaceKind | None = None) -> list[PlacePublic]:
    q = select(Place).order_by(Place.id)  # type: ignore[arg-type]
    if not p.reads_everything:
        q = q.where(Place.org_id == p.org_id)
    if kind is not None:
        q = q.where(Place.kind == kind)
    return [to_public(pl) for pl in session.exec(q).all()]


@router.get("/{place_id}", response_model=PlacePublic)
def read_place(place_id: DbId, p: PrincipalDep, session: SessionDep) -> PlacePublic:
    return to_public(get_place(session, p, place_id))
