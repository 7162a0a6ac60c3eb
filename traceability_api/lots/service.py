from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from traceability_api.consensus.gs1_uri import normalise_gs1_uri
from traceability_api.db import lock_for_write
from traceability_api.errors import Conflict, NotFound
from traceability_api.lots.models import Lot, LotPublic, Product, ProductCreate, SerialUnit
from traceability_api.parties.service import Principal

DL = "https://id.gs1.org"
_LOT_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/]+)$")
_SERIAL_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/21/([^/]+)$")
_GTIN_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})$")


@dataclass(frozen=True)
class GS1Ref:
    """An identifier from an event, classified."""

    uri: str  # canonical
    kind: str  # "lot" | "serial" | "product" | "other"
    gtin: str | None = None
    code: str | None = None  # lot code or serial


def classify(uri: str) -> GS1Ref:
    canon = normalise_gs1_uri(uri) or uri
    for kind, rx in (("lot", _LOT_RE), ("serial", _SERIAL_RE)):
        m = rx.match(canon)
        if m:
            return GS1Ref(canon, kind, m.group(1), m.group(2))
    m = _GTIN_RE.match(canon)
    if m:
        return GS1Ref(canon, "product", m.group(1))
    return GS1Ref(canon, "other")


def lot_uri(gtin: str, lot_code: str) -> str:
    return f"{DL}/01/{gtin}/10/{lot_code}"


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


def product_by_gtin(session: Session, gtin: str) -> Product | None:
    return session.exec(select(Product).where(Product.gtin == gtin)).first()


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


def handled_by(session: Session, org_id: int, lot_id: int) -> bool:
    """Whether the organisation ever recorded an event on the lot (it held it once)."""
    from traceability_api.events.models import Event, EventLot

    return (
        session.exec(
            select(EventLot.id)
            .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
            .where(EventLot.lot_id == lot_id, Event.org_id == org_id)
            .limit(1)
        ).first()
        is not None
    )


def get_lot(session: Session, p: Principal, lot_id: int) -> tuple[Lot, Product]:
    """A lot the principal may read: its owner, holder or receiver, an organisation that handled
    it before (one step back / one step forward), or a member of an authority."""
    lot = session.get(Lot, lot_id)
    if lot is None or not (can_read_lot(p, lot) or handled_by(session, p.org_id, lot_id)):
        raise NotFound(f"lot {lot_id} not found")
    product = session.get(Product, lot.product_id)
    assert product is not None
    return lot, product
