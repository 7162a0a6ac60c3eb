"""The withdrawal-period rule (thời gian ngưng thuốc), checked at capture like the pre-harvest
interval: after a veterinary drug is given at a pond, cage, barn or flock house, nothing raised there
is harvested until the period ends, and nothing collected or harvested there during the period
(eggs) is shipped or sold -- unless an organisation admin records the override with a reason
(``ilmd.agri:withdrawalOverride`` on a harvest, ``agri:withdrawalOverride`` on a sale), which the
event carries for auditors, the authority and consumers to see."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists, exists
from sqlmodel import Session, col, select

from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Conflict, Forbidden
from traceability_api.events.models import Event, EventLot
from traceability_api.events.refs import extract
from traceability_api.evidence.diary import DIARY_KEY
from traceability_api.husbandry.activities import ACTIVITY_KEY, ANIMAL_PLACES
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot
from traceability_api.lots.service import find_lot
from traceability_api.parties.models import Role
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place
from traceability_api.places.service import find_place_by_uri

OVERRIDE_KEY = "agri:withdrawalOverride"
DRUG_STEP = voc.AGRI_NS + "BizStep-veterinary_drug"
SALE_STEPS = {voc.BIZSTEP + "shipping", voc.BIZSTEP + "retail_selling"}
LOOKBACK = timedelta(days=366)


def windows(session: Session, place_id: int, until: datetime) -> list[tuple[datetime, datetime, dict[str, Any]]]:
    """(start, end, drug details) of every withdrawal period at the place that began by ``until``."""
    rows = session.exec(
        select(Event.event_time, Event.document).where(Event.place_id == place_id, *_began(until, until - LOOKBACK))  # type: ignore[call-overload]
        .order_by(Event.event_time.desc())  # type: ignore[attr-defined]
    ).all()  # fmt: skip
    return [w for w in (_window(t, doc) for t, doc in rows) if w is not None]


def _began(until: Any, since: Any) -> tuple[Any, ...]:
    """Drug events that may open a withdrawal period still running at ``until``: given since
    ``since`` (``until - LOOKBACK``; SQL parameters for a prepared statement, or values)."""
    return Event.biz_step == DRUG_STEP, Event.event_time <= until, Event.event_time >= since


def _window(when: datetime, document: Mapping[str, Any]) -> tuple[datetime, datetime, dict[str, Any]] | None:
    d = document.get(DIARY_KEY) or document.get(voc.AGRI_NS + "diary") or {}
    days = d.get("withdrawal_days") if isinstance(d, dict) else None
    if isinstance(days, int) and days > 0:
        return when, when + timedelta(days=days), d
    return None


def running(session: Session, org_id: int, now: datetime) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(place name, end, drug details) of the organisation's withdrawal periods still running at
    ``now``, the soonest ending first (the workspace's home alerts)."""
    rows = session.exec(
        select(Event.event_time, Event.document, Place.name).join(Place, Place.id == Event.place_id)  # type: ignore[call-overload, arg-type]
        .where(Place.org_id == org_id, *_began(now, now - LOOKBACK)).limit(500)
    ).all()  # fmt: skip
    out = []
    for when, document, name in rows:
        w = _window(when, document)
        if w is not None and w[1] > now:
            out.append((name, w[1], w[2]))
    return sorted(out, key=lambda x: x[1])


def may_be_running(org_id: Any, until: Any, since: Any) -> Exists:
    """EXISTS: the organisation has a drug event ``running(.., until)`` would read (``since`` =
    ``until - LOOKBACK``; cheap: a page skips the query when false)."""
    return exists().where(col(Event.place_id) == Place.id, col(Place.org_id) == org_id, *_began(until, since))


def _covering(session: Session, place_id: int, *moments: datetime) -> tuple[datetime, datetime, dict[str, Any]] | None:
    for start, end, d in windows(session, place_id, max(moments)):
        if any(start <= m < end for m in moments):
            return start, end, d
    return None


def _override(p: Principal, value: Any, what: str) -> bool:
    if not value:
        return False
    if not isinstance(value, dict) or not str(value.get("reason", "")).strip():
        raise Conflict(f"{OVERRIDE_KEY} must be {{'reason': '...'}} saying why the {what} goes ahead")
    if p.role != Role.admin:
        raise Forbidden(f"only an organisation admin may override a withdrawal period ({what})")
    return True


def _refuse(what: str, place: Place, window: tuple[datetime, datetime, dict[str, Any]], settings: Settings) -> None:
    start, end, d = window
    z = settings.zone
    raise Conflict(
        f"{what} from {place.name} is blocked by a withdrawal period: {d.get('product', 'a veterinary drug')} "
        f"({d.get('active_ingredient', '?')}) given at {start.astimezone(z):%Y-%m-%d %H:%M} with "
        f"{d.get('withdrawal_days')} days' withdrawal, ends {end.astimezone(z):%Y-%m-%d %H:%M}. An organisation admin "
        f"may go ahead, visibly flagged, with 'withdrawal_override_reason' or {OVERRIDE_KEY}: {{'reason': ...}}"
    )


def check(session: Session, p: Principal, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    step = voc.full_uri(event.get("bizStep"), voc.BIZSTEP)
    if event.get("type") == "ObjectEvent" and event.get("action") == "ADD" and step == voc.COMMISSIONING:
        _check_harvest(session, p, event, when, settings)
    elif step in SALE_STEPS:
        _check_sale(session, p, event, when, settings)


def _check_harvest(session: Session, p: Principal, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    ilmd = event.get("ilmd") or {}
    if ilmd.get(ACTIVITY_KEY) in ("stocking", "egg_collection"):  # eggs are collected anyway; their sale is held
        return
    for uri in (ilmd.get("agri:plot"), (event.get("bizLocation") or {}).get("id")):
        place = find_place_by_uri(session, str(uri)) if uri else None
        if place is not None and place.kind in ANIMAL_PLACES:
            window = _covering(session, place.id or 0, when)
            if window is not None and not _override(p, ilmd.get(OVERRIDE_KEY), "harvest"):
                _refuse("harvest", place, window, settings)
            return


def _check_sale(session: Session, p: Principal, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    lots: list[Lot] = []
    for item in extract(event).items:
        if item.ref.gtin and item.ref.code:
            found = find_lot(session, item.ref.gtin, item.ref.code)
            if found is not None:
                lots.append(found[0])
    for lot in lots:
        for lot_id in upstream(session, lot.id or 0) if lot.id else []:
            src = lot if lot_id == lot.id else session.get(Lot, lot_id)
            if src is None or src.origin_place_id is None:
                continue
            place = session.get(Place, src.origin_place_id)
            if place is None or place.kind not in ANIMAL_PLACES:
                continue
            made = _commissioned_at(session, src) or when
            window = _covering(session, place.id or 0, made, when)
            if window is not None and not _override(p, event.get(OVERRIDE_KEY), "sale"):
                _refuse("sale of lot " + src.lot_code, place, window, settings)


def _commissioned_at(session: Session, lot: Lot) -> datetime | None:
    row = session.exec(
        select(Event.event_time).join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id == lot.id).order_by(Event.event_time).limit(1)  # type: ignore[arg-type]
    ).first()  # fmt: skip
    return row
