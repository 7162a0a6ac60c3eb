"""View models of the workspace pages, read from the domain tables with the same visibility
rules as the API (an organisation sees its own places, and the lots it owns, holds or receives)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, case, exists, literal, null, or_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.authority.recall_notices import has_open_notices, open_notices_for
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event
from traceability_api.evidence.diary import DIARY_KEY, SPRAYING
from traceability_api.evidence.models import Device, SensorReading
from traceability_api.fsma.check import NO_GAPS, has_own_records, own_gaps
from traceability_api.fsma.check import RETENTION as FSMA_RETENTION
from traceability_api.husbandry.withdrawal import LOOKBACK, may_be_running, running
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


SENSOR_WINDOW = timedelta(hours=24)
PHI_WINDOW = timedelta(days=366)  # a pre-harvest interval is at most 365 days


def _out_of_range(since: Any) -> tuple[Any, ...]:
    """Readings since ``since`` (now - ``SENSOR_WINDOW``) outside their device's thresholds (joined to ``Device``)."""
    out = or_(
        and_(Device.threshold_low.is_not(None), SensorReading.value < Device.threshold_low),  # type: ignore[union-attr, operator, arg-type]
        and_(Device.threshold_high.is_not(None), SensorReading.value > Device.threshold_high),  # type: ignore[union-attr, operator, arg-type]
    )
    return SensorReading.device_id == Device.id, SensorReading.ts > since, out


def sensor_alerts(session: Session, p: Principal, now: datetime | None = None) -> list[tuple[str, int]]:
    """Our devices with readings outside their thresholds in the last 24 hours."""
    since = (now or utcnow()) - SENSOR_WINDOW
    q = (
        select(Device.name, func.count()).select_from(Device).join(SensorReading, and_(*_out_of_range(since)))
        .where(Device.org_id == p.org_id)
        .group_by(Device.id, Device.name).order_by(Device.name)  # type: ignore[arg-type]
    )  # fmt: skip
    return [(name, int(n)) for name, n in session.connection().execute(q).all()]


def _sprayed(org_id: Any, since: Any) -> tuple[Any, ...]:
    """Sprayings on our places since ``since`` (now - ``PHI_WINDOW``), whose pre-harvest interval
    may still run (joined to ``Place``)."""
    return Event.place_id == Place.id, Place.org_id == org_id, Event.biz_step == SPRAYING, Event.event_time > since


@dataclass(frozen=True)
class Due:
    """Which alert lists of the home page may have something to show."""

    phi: bool
    sensors: bool
    withdrawal: bool
    recalls: bool
    fsma: bool


_ORG = bindparam("org_id", type_=Integer)


def _probes() -> list[Any]:
    """EXISTS per alert list (in ``Due``'s order), each the same condition as the list's own query,
    so a false probe means an empty list (nothing is cached: a write shows at the next page).
    Parameters: ``_ORG`` and the cut-offs of ``_probe_params``."""
    return [
        exists().where(*_sprayed(_ORG, bindparam("phi_since"))),
        exists().where(col(Device.org_id) == _ORG, *_out_of_range(bindparam("sensor_since"))),
        may_be_running(_ORG, bindparam("drug_until"), bindparam("drug_since")),
        has_open_notices(_ORG),
        has_own_records(_ORG, bindparam("fsma_since")),
    ]


def _probe_params(now: datetime) -> dict[str, Any]:
    return {"phi_since": now - PHI_WINDOW, "sensor_since": now - SENSOR_WINDOW, "drug_until": now,
            "drug_since": now - LOOKBACK, "fsma_since": now - FSMA_RETENTION}  # fmt: skip


def _due(flags: int) -> Due:
    return Due(*(bool(flags >> i & 1) for i in range(len(fields(Due)))))


_LOT_COLUMNS = (Lot.id, Product.name, Product.gtin, Lot.lot_code, Lot.quantity_remaining, Lot.uom, Lot.status)


def _row(r: Any, sender: str = "") -> LotRow:
    """A lot as the pages list it, from plain columns (no ORM objects: the home page runs this often)."""
    lot_id, name, gtin, code, qty, uom, status = r[:7]
    return LotRow(lot_id, name, code, qty, uom, _STATUS[status], lot_uri(gtin, code), sender)


_STATUS = {s: s.value for s in LotStatus} | {s.value: s.value for s in LotStatus} | {s.name: s.value for s in LotStatus}
"""A stored status (member, value or name, as the driver returns it) to its value, without Enum's call."""


def _mine(org_id: Any, limit: int) -> Any:
    """The organisation's lots (owned or held), newest first."""
    return (
        select(*_LOT_COLUMNS, Lot.holder_org_id).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .where((Lot.owner_org_id == org_id) | (Lot.holder_org_id == org_id))
        .order_by(Lot.id.desc()).limit(limit)  # type: ignore[union-attr]
    )  # fmt: skip


def _incoming(org_id: Any) -> Any:
    """Lots on their way to the organisation, with the sender's name, oldest first."""
    return (
        select(*_LOT_COLUMNS, Organisation.name).join(Product, Product.id == Lot.product_id)  # type: ignore[call-overload, arg-type]
        .join(Organisation, Organisation.id == Lot.holder_org_id)  # type: ignore[arg-type]
        .where(Lot.in_transit_to_org_id == org_id, Lot.status == LotStatus.in_transit).order_by(Lot.id)  # type: ignore[arg-type]
    )  # fmt: skip


def my_lots(session: Session, p: Principal, limit: int = 200) -> list[tuple[LotRow, bool]]:
    """The organisation's lots (owned or held), newest first, each with whether we hold it."""
    return [(_row(r), r[7] == p.org_id) for r in session.connection().execute(_mine(p.org_id, limit)).all()]


def held_lots(session: Session, p: Principal) -> list[LotRow]:
    """Lots this organisation holds and may ship or process."""
    return [
        row for row, held in my_lots(session, p)
        if held and row.status == LotStatus.active.value and row.quantity > 0
    ]  # fmt: skip


def incoming(session: Session, p: Principal) -> list[LotRow]:
    return [_row(r, r[7]) for r in session.connection().execute(_incoming(p.org_id)).all()]


HOME_LOTS = 200


@lru_cache(maxsize=1)
def _home_statement() -> Any:
    """My lots (newest ``HOME_LOTS``), incoming shipments and the probes, built once: building
    this statement and its cache key cost more CPU than running it, so each request only binds
    its parameters (``org_id`` and the cut-offs)."""
    mine = _mine(_ORG, HOME_LOTS).add_columns(literal("", String).label("sender"), literal(0).label("part")).subquery()
    inc = _incoming(_ORG).add_columns(literal(1).label("part")).subquery()
    flags = sum((case((probe, 1 << i), else_=0) for i, probe in enumerate(_probes())), start=literal(0))
    probe_row = sa_select(flags, *(null() for _ in range(7)), literal(2))
    return union_all(sa_select(*mine.c[:7], mine.c.sender, mine.c.part), sa_select(*inc.c[:8], inc.c.part), probe_row)


def home_rows(session: Session, p: Principal, now: datetime) -> tuple[list[LotRow], list[LotRow], Due]:
    """``my_lots``, ``incoming`` and which alert lists are ``Due``, in one round trip: a UNION ALL
    of the two queries (each in a subquery: SQLite refuses ORDER BY / LIMIT in a compound member)
    and one row whose id carries the EXISTS probes as bits."""
    rows = session.connection().execute(_home_statement(), {"org_id": p.org_id, **_probe_params(now)}).all()
    lots = sorted((r for r in rows if r[8] == 0), key=lambda r: -r[0])
    arriving = sorted((r for r in rows if r[8] == 1), key=lambda r: r[0])
    due = _due(next(int(r[0]) for r in rows if r[8] == 2))
    return [_row(r) for r in lots], [_row(r, r[7]) for r in arriving], due


def phi_alerts(session: Session, p: Principal, now: datetime | None = None) -> list[PhiAlert]:
    """Sprayings on our plots whose pre-harvest interval (at most 365 days) is still running (only
    the events' diary part is read, not their whole documents)."""
    now = now or utcnow()
    out = []
    rows = session.connection().execute(_phi_statement(), {"org_id": p.org_id, "phi_since": now - PHI_WINDOW})
    for when, days, name, place in rows.all():
        safe = when + timedelta(days=_days(days))
        if safe > now:
            out.append(PhiAlert(place, "" if name is None else str(name), safe))
    return out


@lru_cache(maxsize=1)
def _phi_statement() -> Any:
    """Sprayings with the two diary fields the alert needs, extracted by the database (not the whole
    diary decoded per row); built once (building it cost more CPU than running it), bound per request."""
    doc = col(Event.document)
    phi, product = doc[(DIARY_KEY, "phi_days")].as_string(), doc[(DIARY_KEY, "product")].as_string()
    return (
        sa_select(Event.event_time, phi, product, Place.name).select_from(Event)  # type: ignore[call-overload]
        .join(Place, and_(*_sprayed(_ORG, bindparam("phi_since"))))
        .order_by(Event.event_time.desc()).limit(200)  # type: ignore[attr-defined]
    )  # fmt: skip


def _days(text: str | int | None) -> int:
    try:
        return int(float(text)) if text else 0
    except ValueError:
        return 0


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
        with Session(session.get_bind()) as s:  # a transaction of its own: its rows come through a server-side cursor
            h.fsma = own_gaps(s, p, now=now)
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


def lot_labels(session: Session, ids: set[int]) -> dict[int, str]:
    """The named lots as the lot lists show them, "product · lot code" (the screens that name a lot
    someone shared with us: the grantee may read it)."""
    if not ids:
        return {}
    q = select(Lot.id, Product.name, Lot.lot_code).join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
    rows = session.exec(q.where(col(Lot.id).in_(sorted(ids)))).all()
    return {i: f"{name} · {code}" for i, name, code in rows if i is not None}


def organisations(session: Session, ids: set[int]) -> list[Organisation]:
    """The named organisations (their names are public: the partner list shows them all)."""
    if not ids:
        return []
    return list(session.exec(select(Organisation).where(Organisation.id.in_(sorted(ids)))).all())  # type: ignore[union-attr]
