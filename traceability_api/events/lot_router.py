"""Lot routes that rest on events: registering a harvest (a commissioning event creates the lot)
and reading a lot (who may read it depends on who recorded events on it)."""

from __future__ import annotations

from fastapi import APIRouter, status

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.events.harvest import HarvestLot, record_harvest
from traceability_api.events.lot_access import get_lot
from traceability_api.lots.models import LotPublic
from traceability_api.lots.service import to_public
from traceability_api.parties.deps import PrincipalDep
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["products and lots"])


@router.post("/lots", status_code=status.HTTP_201_CREATED, response_model=LotPublic)
def harvest_lot(data: HarvestLot, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> LotPublic:
    lot, product = record_harvest(session, p, data, runtime.settings, checks=runtime.capture_checks)
    session.commit()
    return to_public(lot, product)


@router.get("/lots/{lot_id}", response_model=LotPublic)
def read_lot(lot_id: DbId, p: PrincipalDep, session: SessionDep) -> LotPublic:
    lot, product = get_lot(session, p, lot_id)
    return to_public(lot, product)
