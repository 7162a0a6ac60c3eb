"""View models of the workspace pages, read from the domain tables with the same visibility
rules as the API (an organisation sees its own places, and the lots it owns, holds or receives)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, func, select

from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event
from traceability_api.evidence.diary import SPRAYING
from traceability_api.evidence.models import Device, SensorReading
from traceability_api.husbandry.withdrawal import running
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place, PlaceKind
from traceability_api.timeutil import utcnow

STAGES = (LotStatus.active, LotStatus.in_transit, LotStatus.recalled, LotStatus.consumed)


@dataclass
class LotRow:
    id: int
    product: str
    code: str
    quantity: float
    uom: str
    status: str
    uri: str
    sender: str = ""


@dataclass
class PhiAlert:
    plot: str
    product: str
    safe_from: datetime


@dataclass
class Home:
    stages: dict[str, list[LotRow]] = field(default_factory=dict)
    incoming: list[LotRow] = field(default_factory=list)
    phi: list[PhiAlert] = field(default_factory=list)
    recalled: list[LotRow] = field(default_factory=list)
    sensors: list[tuple[str, int]] = field(default_factory=list)  # device name, readings out of range (24 h)
    withdrawal: list[PhiAlert] = field(default_factory=list)  # veterinary withdrawal periods running


def sensor_alerts(session: Session, p: Principal) -> list[tuple[str, int]]:
    """Our devices with readings outside their thresholds in the last 24 hours."""
    out_of_range = or_(
        and_(Device.threshold_low.is_not(None), SensorReading.value < Device.threshold_low),  # type: ignore[union-attr, operator, arg-type]
        and_(Device.threshold_high.is_not(None), SensorReading.value > Device.threshold_high),  # type: ignore[union-attr, operator, arg-type]
    )
    q = (
        select(Device.name, func.count()).join(SensorReading, SensorReading.device_id == Device.id)  # type: ignore[arg-type]
        .where(Device.org_id == p.org_id, SensorReading.ts > utcnow() - timedelta(hours=24), out_of_range)
        .group_by(Device.id, Device.name).order_by(Device.name)  # type: ignore[arg-type]
    )  # fmt: skip
    return [(name, int(n)) for name, n in session.exec(q).all()]


_LOT_COLUMNS = (Lot.id, Product.name, Product.gtin, Lot.lot_code, Lot.quantity_remaining, Lot.uom, Lot.status)


def _row(r: Any, sender: str = "") -> LotRow:
    """A lot as the pages list it, from plain columns (no ORM objects: the home page runs this often)."""
    lot_id, name, gtin, code, qty, uom, status = r[:7]
    return LotRow(lot_id, name, code, qty, uom, LotStatus(status).value, lot_uri(gtin, code), sender)


def my_lots(session: Session, p: Principal, limit: int = 200) -> list[tuple[LotRow, bool]]:
    """The organisation's lots (owned or held), newest first, each with whether we hold it."""
    q = (
        select(*_LOT_COLUMNS, Lot.holder_org_id).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .where((Lot.owner_org_id == p.org_id) | (Lot.holder_org_id == p.org_id))
        .order_by(Lot.id.desc()).limit(limit)  # type: ignore[union-attr]
    )  # fmt: skip
    return [(_row(r), r[7] == p.org_id) for r in session.exec(q).all()]


def held_lots(session: Session, p: Principal) -> list[LotRow]:
    """Lots this organisation holds and may ship or process."""
    return [
        row for row, held in my_lots(session, p)
        if held and row.status == LotStatus.active.value and row.quantity > 0
    ]  # fmt: skip


def incoming(session: Session, p: Principal) -> list[LotRow]:
    q = (
        select(*_LOT_COLUMNS, Organisation.name).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .join(Organisation, Organisation.id == Lot.holder_org_id)  # type: ignore[arg-type]
        .where(Lot.in_transit_to_org_id == p.org_id, Lot.status == LotStatus.in_transit).order_by(Lot.id)  # type: ignore[arg-type]
    )  # fmt: skip
    return [_row(r, r[7]) for r in session.exec(q).all()]


def phi_alerts(session: Session, p: Principal) -> list[PhiAlert]:
    """Sprayings on our plots whose pre-harvest interval (at most 365 days) is still running."""
    now = utcnow()
    q = (
        select(Event.event_time, Event.document, Place.name).join(Place, Place.id == Event.place_id)  # type: ignore[call-overload, arg-type]
        .where(Place.org_id == p.org_id, Event.biz_step == SPRAYING, Event.event_time > now - timedelta(days=366))
        .order_by(Event.event_time.desc()).limit(200)  # type: ignore[attr-defined]
    )  # fmt: skip
    out = []
    for when, document, place in session.exec(q).all():
        d = document.get("agri:diary") or {}
        safe = when + timedelta(days=int(d.get("phi_days", 0) or 0))
        if safe > now:
            out.append(PhiAlert(place, str(d.get("product", "")), safe))
    return out


def home(session: Session, p: Principal) -> Home:
    h = Home(stages={s.value: [] for s in STAGES})
    for row, _held in my_lots(session, p):
        h.stages.setdefault(row.status, []).append(row)
        if row.status == LotStatus.recalled.value:
            h.recalled.append(row)
    h.incoming = incoming(session, p)
    h.phi = phi_alerts(session, p)
    h.sensors = sensor_alerts(session, p)
    h.withdrawal = [PhiAlert(pl.name, str(d.get("product", "")), end)
                    for pl, end, d in running(session, p.org_id, utcnow())]  # fmt: skip
    return h


def plots(session: Session, p: Principal) -> list[Place]:
    q = select(Place).where(Place.org_id == p.org_id, Place.kind.in_((PlaceKind.plot, PlaceKind.farm)))  # type: ignore[attr-defined]
    return list(session.exec(q.order_by(Place.id)).all())  # type: ignore[arg-type]


def places(session: Session, p: Principal) -> list[Place]:
    return list(session.exec(select(Place).where(Place.org_id == p.org_id).order_by(Place.id)).all())  # type: ignore[arg-type]


def products(session: Session, p: Principal) -> list[Product]:
    return list(session.exec(select(Product).where(Product.org_id == p.org_id).order_by(Product.id)).all())  # type: ignore[arg-type]


def partners(session: Session, p: Principal) -> list[Organisation]:
    q = select(Organisation).where(Organisation.id != p.org_id).order_by(Organisation.name)  # type: ignore[arg-type]
    return list(session.exec(q).all())
