from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import select

from traceability_api.deps import SessionDep
from traceability_api.lots.models import Lot, LotPublic, Product, ProductCreate, ProductPublic, ProductUpdate
from traceability_api.lots.service import create_product, to_public, update_product
from traceability_api.parties.deps import PrincipalDep
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["products and lots"])


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=ProductPublic)
def add_product(data: ProductCreate, p: PrincipalDep, session: SessionDep) -> ProductPublic:
    product = create_product(session, p, data)
    session.commit()
    return ProductPublic.model_validate(product, from_attributes=True)


@router.patch("/products/{product_id}", response_model=ProductPublic)
def change_product(product_id: DbId, data: ProductUpdate, p: PrincipalDep, session: SessionDep) -> ProductPublic:
    """Complete a product for its national record: brand, image, shelf life, standards applied."""
    product = update_product(session, p, product_id, data)
    session.commit()
    return ProductPublic.model_validate(product, from_attributes=True)


@router.get("/products", response_model=list[ProductPublic])
def list_products(p: PrincipalDep, session: SessionDep) -> list[ProductPublic]:
    rows = session.exec(select(Product).order_by(Product.id)).all()  # type: ignore[arg-type]
    return [ProductPublic.model_validate(r, from_attributes=True) for r in rows]


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
