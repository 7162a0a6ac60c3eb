"""View models of the workspace pages, read from the domain tables with the same visibility
rules as the API (an organisation sees its own places, and the lots it owns, holds or receives)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, exists, literal, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.authority.recall_notices import has_open_notices, open_notices_for
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event
from traceability_api.evidence.diary import DIARY_KEY, SPRAYING
from traceability_api.evidence.models import Device, SensorReading
from traceability_api.fsma.check import NO_GAPS, has_own_records, own_gaps
from traceability_api.husbandry.withdrawal import may_be_running, running
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
    recall_notices: list[tuple[RecallNotice, Recall]] = field(default_factory=list)  # open, not acknowledged
    fsma: dict[str, Any] = field(default_factory=lambda: dict(NO_GAPS))  # FSMA 204 records lacking KDEs


def _out_of_range(now: datetime) -> tuple[Any, ...]:
    """Readings of the last 24 hours outside their device's thresholds (joined to ``Device``)."""
    out = or_(
        and_(Device.threshold_low.is_not(None), SensorReading.value < Device.threshold_low),  # type: ignore[union-attr, operator, arg-type]
        and_(Device.threshold_high.is_not(None), SensorReading.value > Device.threshold_high),  # type: ignore[union-attr, operator, arg-type]
    )
    return SensorReading.device_id == Device.id, SensorReading.ts > now - timedelta(hours=24), out


def sensor_alerts(session: Session, p: Principal, now: datetime | None = None) -> list[tuple[str, int]]:
    """Our devices with readings outside their thresholds in the last 24 hours."""
    q = (
        select(Device.name, func.count()).select_from(Device).join(SensorReading, and_(*_out_of_range(now or utcnow())))
        .where(Device.org_id == p.org_id)
        .group_by(Device.id, Device.name).order_by(Device.name)  # type: ignore[arg-type]
    )  # fmt: skip
    return [(name, int(n)) for name, n in session.connection().execute(q).all()]


def _sprayed(p: Principal, now: datetime) -> tuple[Any, ...]:
    """Sprayings on our places whose pre-harvest interval (at most 365 days) may still run (joined to ``Place``)."""
    return (Event.place_id == Place.id, Place.org_id == p.org_id, Event.biz_step == SPRAYING,
            Event.event_time > now - timedelta(days=366))  # fmt: skip


@dataclass(frozen=True)
class Due:
    """Which alert lists of the home page may have something to show."""

    phi: bool
    sensors: bool
    withdrawal: bool
    recalls: bool
    fsma: bool


def _probes(p: Principal, now: datetime) -> list[Any]:
    """EXISTS per alert list (in ``Due``'s order), each the same condition as the list's own query,
    so a false probe means an empty list (nothing is cached: a write shows at the next page)."""
    return [
        exists().where(*_sprayed(p, now)),
        exists().where(col(Device.org_id) == p.org_id, *_out_of_range(now)),
        may_be_running(p.org_id, now),
        has_open_notices(p.org_id),
        has_own_records(p.org_id, now),
    ]


def _due(flags: int) -> Due:
    return Due(*(bool(flags >> i & 1) for i in range(len(fields(Due)))))


_LOT_COLUMNS = (Lot.id, Product.name, Product.gtin, Lot.lot_code, Lot.quantity_remaining, Lot.uom, Lot.status)


def _row(r: Any, sender: str = "") -> LotRow:
    """A lot as the pages list it, from plain columns (no ORM objects: the home page runs this often)."""
    lot_id, name, gtin, code, qty, uom, status = r[:7]
    return LotRow(lot_id, name, code, qty, uom, LotStatus(status).value, lot_uri(gtin, code), sender)


def _mine(p: Principal, limit: int) -> Any:
    """The organisation's lots (owned or held), newest first."""
    return (
        select(*_LOT_COLUMNS, Lot.holder_org_id).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .where((Lot.owner_org_id == p.org_id) | (Lot.holder_org_id == p.org_id))
        .order_by(Lot.id.desc()).limit(limit)  # type: ignore[union-attr]
    )  # fmt: skip


def _incoming(p: Principal) -> Any:
    """Lots on their way to the organisation, with the sender's name, oldest first."""
    return (
        select(*_LOT_COLUMNS, Organisation.name).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .join(Organisation, Organisation.id == Lot.holder_org_id)  # type: ignore[arg-type]
        .where(Lot.in_transit_to_org_id == p.org_id, Lot.status == LotStatus.in_transit).order_by(Lot.id)  # type: ignore[arg-type]
    )  # fmt: skip


def my_lots(session: Session, p: Principal, limit: int = 200) -> list[tuple[LotRow, bool]]:
    """The organisation's lots (owned or held), newest first, each with whether we hold it."""
    return [(_row(r), r[7] == p.org_id) for r in session.connection().execute(_mine(p, limit)).all()]


def held_lots(session: Session, p: Principal) -> list[LotRow]:
    """Lots this organisation holds and may ship or process."""
    return [
        row for row, held in my_lots(session, p)
        if held and row.status == LotStatus.active.value and row.quantity > 0
    ]  # fmt: skip


def incoming(session: Session, p: Principal) -> list[LotRow]:
    return [_row(r, r[7]) for r in session.connection().execute(_incoming(p)).all()]


def home_rows(
    session: Session, p: Principal, now: datetime, limit: int = 200
) -> tuple[list[LotRow], list[LotRow], Due]:
    """``my_lots``, ``incoming`` and which alert lists are ``Due``, in one round trip: a UNION ALL
    of the two queries (each in a subquery: SQLite refuses ORDER BY / LIMIT in a compound member)
    and one row whose id carries the EXISTS probes as bits."""
    mine = _mine(p, limit).add_columns(literal("", String).label("sender"), literal(0).label("part")).subquery()
    inc = _incoming(p).add_columns(literal(1).label("part")).subquery()
    flags = sum((case((probe, 1 << i), else_=0) for i, probe in enumerate(_probes(p, now))), start=literal(0))
    probe_row = sa_select(flags, *(null() for _ in range(7)), literal(2))
    q = union_all(sa_select(*mine.c[:7], mine.c.sender, mine.c.part), sa_select(*inc.c[:8], inc.c.part), probe_row)
    rows = session.connection().execute(q).all()
    lots = sorted((r for r in rows if r[8] == 0), key=lambda r: -r[0])
    arriving = sorted((r for r in rows if r[8] == 1), key=lambda r: r[0])
    due = _due(next(int(r[0]) for r in rows if r[8] == 2))
    return [_row(r) for r in lots], [_row(r, r[7]) for r in arriving], due


def phi_alerts(session: Session, p: Principal, now: datetime | None = None) -> list[PhiAlert]:
    """Sprayings on our plots whose pre-harvest interval (at most 365 days) is still running (only
    the events' diary part is read, not their whole documents)."""
    now = now or utcnow()
    diary = col(Event.document)[DIARY_KEY]
    q = (
        sa_select(Event.event_time, diary, Place.name).select_from(Event).join(Place, and_(*_sprayed(p, now)))  # type: ignore[call-overload]
        .order_by(Event.event_time.desc()).limit(200)  # type: ignore[attr-defined]
    )  # fmt: skip
    out = []
    for when, d, place in session.connection().execute(q).all():
        d = d if isinstance(d, dict) else {}
        safe = when + timedelta(days=int(d.get("phi_days", 0) or 0))
        if safe > now:
            out.append(PhiAlert(place, str(d.get("product", "")), safe))
    return out


def home(session: Session, p: Principal) -> Home:
    """The home page in few round trips: my lots, incoming shipments and cheap EXISTS probes of
    the alert lists in one query; then only the lists with something to show run."""
    now = utcnow()
    h = Home(stages={s.value: [] for s in STAGES})
    lots, h.incoming, due = home_rows(session, p, now)
    for row in lots:
        h.stages.setdefault(row.status, []).append(row)
        if row.status == LotStatus.recalled.value:
            h.recalled.append(row)
    if due.phi:
        h.phi = phi_alerts(session, p, now)
    if due.sensors:
        h.sensors = sensor_alerts(session, p, now)
    if due.withdrawal:
        h.withdrawal = [PhiAlert(name, str(d.get("product", "")), end)
                        for name, end, d in running(session, p.org_id, now)]  # fmt: skip
    if due.recalls:
        h.recall_notices = open_notices_for(session, p.org_id)
    if due.fsma:
        h.fsma = own_gaps(session, p.org_id, now=now)
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
