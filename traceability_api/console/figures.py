"""The figures the provincial plans track, by month, for a commune and a product (filters): one
set-based query per figure (GROUP BY month; no query per row), so a figure costs one scan of an
index or table range whatever the province's size.

Months are UTC calendar months of: a lot's harvest date (else its recording time), an event's time,
a scan's time, a recall's time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, exists, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from traceability_api.anchoring.models import AnchorBatch, BatchStatus
from traceability_api.authority.mass_balance import counted_outflow
from traceability_api.authority.models import Recall
from traceability_api.consumer.models import ScanLog
from traceability_api.consumer.scans import MAX_CLIENTS, MAX_PLACES, MAX_SCANS
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot
from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.places.models import Place

TOLERANCE = 0.02  # mass balance: the authority report's default weighing tolerance
Series = list[tuple[str, float]]


@dataclass(frozen=True)
class Filters:
    commune: str | None = None
    product_id: int | None = None
    start: str | None = None  # YYYY-MM, inclusive
    end: str | None = None


def month(session: Session, when: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a timestamp column, in UTC, in the database's own function (PostgreSQL's
    to_char of a timestamptz would read it in the session's zone, whatever the server is set to)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", when), "YYYY-MM")
    return func.strftime("%Y-%m", when)


def lot_month(session: Session) -> ColumnElement[str]:
    """'YYYY-MM' of a lot's harvest date, else of its recording time (in UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.coalesce(func.to_char(Lot.harvest_date, "YYYY-MM"), month(session, Lot.created_at))
    return month(session, func.coalesce(Lot.harvest_date, Lot.created_at))


def record_complete() -> ColumnElement[bool]:
    """The one rule for "a complete record" (switch here to the national-record completeness check
    when it lands): the lot names its origin place and its harvest date."""
    return and_(col(Lot.origin_place_id).is_not(None), col(Lot.harvest_date).is_not(None))


def waiting_events(session: Session) -> Any:
    """Events not yet in a batch anchored on chain: from the outbox's pending index (few rows), plus
    the rows of batches not anchored (looked up first: a handful of ids)."""
    unconfirmed = list(session.exec(select(AnchorBatch.id).where(AnchorBatch.status != BatchStatus.anchored)))
    waiting: ColumnElement[bool] = col(AnchorItem.batch_id).is_(None)
    if unconfirmed:
        waiting = or_(waiting, col(AnchorItem.batch_id).in_(unconfirmed))
    return select(AnchorItem.ref_id).where(waiting, AnchorItem.kind == ItemKind.event).subquery()


def _lot_filters(q: Any, session: Session, f: Filters, m: ColumnElement[str]) -> Any:
    if f.commune:
        q = q.join(Place, col(Place.id) == Lot.origin_place_id).where(Place.commune == f.commune)
    if f.product_id is not None:
        q = q.where(Lot.product_id == f.product_id)
    return _months(q, f, m)


def _months(q: Any, f: Filters, m: ColumnElement[str]) -> Any:
    if f.start:
        q = q.where(m >= f.start)
    if f.end:
        q = q.where(m <= f.end)
    return q.group_by(m)


def _series(session: Session, q: Any) -> Series:
    return sorted((str(k), float(v or 0)) for k, v in session.exec(q).all() if k)


def lots(session: Session, f: Filters) -> Series:
    m = lot_month(session)
    return _series(session, _lot_filters(select(m, func.count()).select_from(Lot), session, f, m))


def harvest_kg(session: Session, f: Filters) -> Series:
    kg = case((Lot.uom == "TNE", Lot.quantity * 1000), (Lot.uom == "KGM", Lot.quantity), else_=0)  # type: ignore[arg-type]
    m = lot_month(session)
    q = (
        select(m, func.sum(kg))
        .select_from(Lot)
        .where(col(Lot.harvest_date).is_not(None) | col(Lot.origin_place_id).is_not(None))
    )
    return _series(session, _lot_filters(q, session, f, m))  # fmt: skip


def complete_share(session: Session, f: Filters) -> Series:
    """% of lots with a complete record none of whose events waits for its anchor: the complete lots
    of each month minus those of them that a waiting event names (found from the waiting events,
    not lot by lot), over all lots of the month."""
    m = lot_month(session)
    complete = func.sum(case((record_complete(), 1), else_=0))
    totals = session.exec(_lot_filters(select(m, func.count(), complete).select_from(Lot), session, f, m)).all()
    pending = waiting_events(session)
    q = (
        select(m, func.count(func.distinct(Lot.id)))
        .select_from(pending)
        .join(EventLot, col(EventLot.event_id) == pending.c.ref_id)
        .join(Lot, col(Lot.id) == EventLot.lot_id)
        .where(record_complete())
    )
    unverified = dict(_series(session, _lot_filters(q, session, f, m)))
    return sorted(
        (str(k), round(100.0 * (int(good or 0) - unverified.get(str(k), 0)) / int(n), 1)) for k, n, good in totals if k
    )


def month_bounds(f: Filters) -> tuple[datetime | None, datetime | None]:
    """The filter's months as [first instant, first instant after) in UTC, to range-scan a time column
    (``None``: no bound; after December 9999 there is no instant, so that end leaves none)."""
    lo = datetime.strptime(f.start, "%Y-%m").replace(tzinfo=UTC) if f.start else None
    hi = None
    if f.end and f.end != "9999-12":
        y, mo = int(f.end[:4]), int(f.end[5:7])
        hi = datetime(y + mo // 12, mo % 12 + 1, 1, tzinfo=UTC)
    return lo, hi


def _active(session: Session, f: Filters, who: Any) -> Series:
    """Distinct organisations (members) with an event in the month: the distinct (month, who) pairs
    first (a hash aggregate over the events' time range), then counted per month."""
    pg = session.get_bind().dialect.name == "postgresql"
    utc = func.timezone("UTC", Event.event_time)  # a plain timestamp truncates faster than one with a zone
    mon = func.date_trunc("month", utc) if pg else month(session, Event.event_time)
    q = select(mon.label("mon"), who.label("who")).select_from(Event)
    if f.commune:
        q = q.join(Place, col(Place.id) == Event.place_id).where(Place.commune == f.commune)
    if f.product_id is not None:
        q = q.where(exists(select(literal(1)).select_from(EventLot).join(Lot, col(Lot.id) == EventLot.lot_id)
                           .where(EventLot.event_id == Event.id, Lot.product_id == f.product_id)))  # fmt: skip
    lo, hi = month_bounds(f)
    if lo is not None:
        q = q.where(Event.event_time >= lo)
    if hi is not None:
        q = q.where(Event.event_time < hi)
    pairs = q.group_by(mon, who).subquery()
    label = func.to_char(pairs.c.mon, "YYYY-MM") if pg else pairs.c.mon
    return _series(session, select(label, func.count()).group_by(pairs.c.mon))


def orgs_active(session: Session, f: Filters) -> Series:
    return _active(session, f, Event.org_id)


def members_active(session: Session, f: Filters) -> Series:
    return _active(session, f, Event.member_id)


def scans(session: Session, f: Filters) -> Series:
    m = month(session, ScanLog.scanned_at)
    q = select(m, func.count()).select_from(ScanLog).join(Lot, col(Lot.id) == ScanLog.lot_id)
    return _series(session, _lot_filters(q, session, f, m))


def copied_scans(session: Session, f: Filters) -> Series:
    """Serialised units whose scans in a month look copied (the consumer page's rule: a bad token,
    too many scans, places or phones)."""
    m = month(session, ScanLog.scanned_at).label("m")
    bad = func.sum(case((ScanLog.token_ok == False, 1), else_=0))  # type: ignore[arg-type]  # noqa: E712
    per_unit = (
        select(m, ScanLog.lot_id, ScanLog.serial)
        .select_from(ScanLog)
        .join(Lot, col(Lot.id) == ScanLog.lot_id)
        .where(col(ScanLog.serial).is_not(None))
    )
    per_unit = _lot_filters(per_unit, session, f, m).group_by(ScanLog.lot_id, ScanLog.serial).having(
        or_(bad > 0, func.count() > MAX_SCANS, func.count(func.distinct(ScanLog.coarse_location)) >= MAX_PLACES,
            func.count(func.distinct(ScanLog.client_hash)) >= MAX_CLIENTS)
    ).subquery()  # fmt: skip
    return _series(session, select(per_unit.c.m, func.count()).group_by(per_unit.c.m))


def mass_balance_flags(session: Session, f: Filters) -> Series:
    """Lots that an organisation moved out (shipped, sold, destroyed, transformed) in larger quantity
    than the lot holds (authority/mass_balance.py's over-shipment rule, in one grouped query)."""
    out = (
        select(EventLot.lot_id, Event.org_id, func.sum(EventLot.quantity).label("qty"))
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(counted_outflow())
        .group_by(EventLot.lot_id, Event.org_id)  # type: ignore[arg-type]
        .subquery()
    )
    m = lot_month(session)
    q = (
        select(m, func.count(func.distinct(Lot.id)))
        .select_from(Lot)
        .join(out, out.c.lot_id == Lot.id)
        .where(out.c.qty > Lot.quantity * (1 + TOLERANCE) + 1e-9)
    )
    return _series(session, _lot_filters(q, session, f, m))


def phi_overrides(session: Session, f: Filters) -> Series:
    """Harvests inside a pre-harvest or withdrawal interval (lot master data) and sales inside a
    withdrawal period (the sale event), each recorded with an admin's reason."""
    m = lot_month(session)
    ilmd = cast(Lot.ilmd, Text)
    q = (
        select(m, func.count())
        .select_from(Lot)
        .where(or_(ilmd.contains("phiOverride"), ilmd.contains("withdrawalOverride")))
    )
    total: dict[str, float] = defaultdict(float)
    for k, v in _series(session, _lot_filters(q, session, f, m)):
        total[k] += v
    em = month(session, Event.event_time)
    sales = (
        select(em, func.count(func.distinct(Event.id)))
        .select_from(Event)
        .join(EventLot, col(EventLot.event_id) == Event.id)
        .join(Lot, col(Lot.id) == EventLot.lot_id)
        .where(
            Event.biz_step == voc.BIZSTEP + "retail_selling", cast(Event.document, Text).contains("withdrawalOverride")
        )
    )
    for k, v in _series(session, _lot_filters(sales, session, f, em)):
        total[k] += v
    return sorted(total.items())


def recalls(session: Session, f: Filters) -> Series:
    """Recalls opened in the month (province-wide: a recall spans lots, communes and products)."""
    m = month(session, Recall.created_at)
    return _series(session, _months(select(m, func.count()).select_from(Recall), f, m))


FIGURES: dict[str, Callable[[Session, Filters], Series]] = {
    "lots": lots,
    "harvest_kg": harvest_kg,
    "complete_share": complete_share,
    "orgs_active": orgs_active,
    "members_active": members_active,
    "scans": scans,
    "copied_scans": copied_scans,
    "mass_balance_flags": mass_balance_flags,
    "phi_overrides": phi_overrides,
    "recalls": recalls,
}
FILTERED_BY_PLACE_AND_PRODUCT = frozenset(FIGURES) - {"recalls"}


def communes(session: Session) -> list[str]:
    q = select(Place.commune).where(col(Place.commune).is_not(None)).distinct().order_by(col(Place.commune))
    return [c for c in session.exec(q.limit(1000)).all() if c]
