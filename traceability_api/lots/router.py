from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field
from sqlmodel import select

from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import LOT_CODE_RE, Lot, LotPublic, Product, ProductCreate, ProductPublic
from traceability_api.lots.service import create_product, get_lot, lot_uri, product_by_gtin, to_public
from traceability_api.parties.deps import PrincipalDep
from traceability_api.places.service import get_place, place_uri
from traceability_api.timeutil import utcnow
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["products and lots"])


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=ProductPublic)
def add_product(data: ProductCreate, p: PrincipalDep, session: SessionDep) -> ProductPublic:
    product = create_product(session, p, data)
    session.commit()
    return ProductPublic.model_validate(product, from_attributes=True)


@router.get("/products", response_model=list[ProductPublic])
def list_products(p: PrincipalDep, session: SessionDep) -> list[ProductPublic]:
    rows = session.exec(select(Product).order_by(Product.id)).all()  # type: ignore[arg-type]
    return [ProductPublic.model_validate(r, from_attributes=True) for r in rows]


class HarvestLot(BaseModel):
    """Register a harvest lot: recorded as an EPCIS commissioning ObjectEvent."""

    gtin: str = Field(pattern=r"^\d{14}$")
    lot_code: str = Field(pattern=LOT_CODE_RE)
    quantity: float = Field(gt=0, le=1e9)
    uom: str | None = None
    plot_id: DbId | None = None
    harvest_date: date | None = None
    variety: str | None = Field(default=None, max_length=100)
    event_time: str | None = Field(default=None, description="ISO 8601 with zone; default now")
    phi_override_reason: str | None = Field(
        default=None, max_length=300, description="admin only: harvest inside a pre-harvest interval, flagged"
    )


@router.post("/lots", status_code=status.HTTP_201_CREATED, response_model=LotPublic)
def harvest_lot(data: HarvestLot, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> LotPublic:
    ilmd: dict[str, Any] = {}
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": data.event_time or utcnow().isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "quantityList": [{"epcClass": lot_uri(data.gtin, data.lot_code), "quantity": data.quantity}],
    }
    if data.uom:
        event["quantityList"][0]["uom"] = data.uom
    if data.plot_id is not None:
        plot = get_place(session, p, data.plot_id)
        ilmd[f"{voc.AGRI_PREFIX}:plot"] = place_uri(plot)
        event["bizLocation"] = {"id": place_uri(plot)}
    if data.harvest_date:
        ilmd[f"{voc.AGRI_PREFIX}:harvestDate"] = data.harvest_date.isoformat()
    if data.variety:
        ilmd[f"{voc.AGRI_PREFIX}:variety"] = data.variety
    if data.phi_override_reason:
        # who approved it is in the audit log; the event (public in proof bundles) holds no personal data
        ilmd[f"{voc.AGRI_PREFIX}:phiOverride"] = {"reason": data.phi_override_reason}
    if ilmd:
        event["ilmd"] = ilmd
    capture_events(session, p, [event], DEFAULT_CONTEXT, settings)
    session.commit()
    product = product_by_gtin(session, data.gtin)
    assert product is not None
    lot = session.exec(select(Lot).where(Lot.product_id == product.id, Lot.lot_code == data.lot_code)).one()
    return to_public(lot, product)


@router.get("/lots", response_model=list[LotPublic])
def list_lots(
    p: PrincipalDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100, after_id: DbId = 0
) -> list[LotPublic]:
    q = select(Lot, Product).join(Product, Product.id == Lot.product_id).where(Lot.id > after_id)  # type: ignore[arg-type, operator]
    if not p.reads_everything:
        q = q.where(
            (Lot.owner_org_id == p.org_id) | (Lot.holder_org_id == p.org_id) | (Lot.in_transit_to_org_id == p.org_id)
        )
    rows = session.exec(q.order_by(Lot.id).limit(min(max(limit, 1), 1000))).all()  # type: ignore[arg-type]
    return [to_public(lot, prod) for lot, prod in rows]


@router.get("/lots/{lot_id}", response_model=LotPublic)
def read_lot(lot_id: DbId, p: PrincipalDep, session: SessionDep) -> LotPublic:
    lot, product = get_lot(session, p, lot_id)
    return to_public(lot, product)
