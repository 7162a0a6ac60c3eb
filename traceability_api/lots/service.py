from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from traceability_api.db import lock_for_write
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Conflict, NotFound
from traceability_api.lots.models import Lot, LotPublic, Product, ProductCreate, ProductUpdate, SerialUnit
from traceability_api.parties.service import Principal


def to_public(lot: Lot, product: Product) -> LotPublic:
    assert lot.id is not None
    return LotPublic(
        id=lot.id,
        gtin=product.gtin,
        lot_code=lot.lot_code,
        product_name=product.name,
        owner_org_id=lot.owner_org_id,
        holder_org_id=lot.holder_org_id,
        in_transit_to_org_id=lot.in_transit_to_org_id,
        quantity=lot.quantity,
        quantity_remaining=lot.quantity_remaining,
        uom=lot.uom,
        status=lot.status,
        origin_place_id=lot.origin_place_id,
        harvest_date=lot.harvest_date,
        uri=lot_uri(product.gtin, lot.lot_code),
    )


def create_product(session: Session, p: Principal, data: ProductCreate) -> Product:
    p.require_write()
    if session.exec(select(Product).where(Product.gtin == data.gtin)).first():
        raise Conflict(f"GTIN {data.gtin} is already registered")
    product = Product.model_validate(data.model_dump() | {"org_id": p.org_id})
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, p: Principal, product_id: int, data: ProductUpdate) -> Product:
    """The product's organisation completes what its national record needs (brand, image, shelf
    life, standards applied); another organisation's product is not found."""
    p.require_write()
    product = session.get(Product, product_id)
    if product is None or product.org_id != p.org_id:
        raise NotFound(f"product {product_id} not found among your products")
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None and key == "standards":
            value = []
        setattr(product, key, value)
    session.add(product)
    session.flush()
    return product


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.exec(select(Product).where(Product.gtin == gtin)).first()


@dataclass(frozen=True, slots=True)
class ProductKey:
    """What capture reads of a product when it creates a lot: its id, whose it is, its unit."""

    id: int
    org_id: int
    unit: str


def product_key(session: Session, gtin: str) -> ProductKey | None:
    """``product_by_gtin``, reading only ``ProductKey``'s columns (a Core query built once)."""
    row = session.connection().execute(_product_key_statement(), {"gtin": gtin}).first()
    return None if row is None else ProductKey(*row)


@lru_cache(maxsize=1)
def _product_key_statement() -> Any:
    t = Product.__table__.c  # type: ignore[attr-defined]
    return sa_select(t.id, t.org_id, t.unit).where(t.gtin == bindparam("gtin"))


def find_lot(session: Session, gtin: str, lot_code: str, *, for_update: bool = False) -> tuple[Lot, Product] | None:
    q = (
        select(Lot, Product)
        .join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
        .where(  # type: ignore[arg-type]
            Product.gtin == gtin, Lot.lot_code == lot_code
        )
    )
    return _first(session, q, for_update)


def find_serial_lot(
    session: Session, gtin: str, serial: str, *, for_update: bool = False
) -> tuple[Lot, Product] | None:
    q = (
        select(Lot, Product)
        .join(SerialUnit, SerialUnit.lot_id == Lot.id)  # type: ignore[arg-type]
        .join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
        .where(Product.gtin == gtin, SerialUnit.serial == serial)
    )
    return _first(session, q, for_update)


def _first(session: Session, q: Any, for_update: bool) -> tuple[Lot, Product] | None:
    if for_update:
        lock_for_write(session)
        q = q.with_for_update(of=Lot)
    row = session.exec(q).first()
    return (row[0], row[1]) if row else None


def lot_by_key(session: Session, gtin: str, lot_code: str) -> tuple[Lot, Product]:
    """The lot of a public key (GTIN + lot code), or NotFound."""
    found = find_lot(session, gtin, lot_code)
    if found is None:
        raise NotFound(f"lot {lot_code} of GTIN {gtin} not found")
    return found


def can_read_lot(p: Principal, lot: Lot) -> bool:
    return p.reads_everything or p.org_id in (lot.owner_org_id, lot.holder_org_id, lot.in_transit_to_org_id)
