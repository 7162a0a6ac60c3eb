"""A lot's story runs forwards: no event on a lot may be dated before the lot was commissioned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, col, func, select

from traceability_api.errors import Invalid
from traceability_api.events.custody import Touch
from traceability_api.events.models import Event, EventLot


def _zone(offset: object) -> timezone:
    try:
        tz = datetime.fromisoformat(f"2000-01-01T00:00:00{offset}").tzinfo
    except (TypeError, ValueError):
        tz = None
    return tz if isinstance(tz, timezone) else timezone(timedelta(hours=7))


def check_not_before_commissioning(
    session: Session, touches: Sequence[Touch], event_time: datetime, offset: object
) -> None:
    """Refuse an event dated before the first recorded event (the commissioning) of any lot it touches."""
    ids = {t.lot.id for t in touches if t.lot.id is not None}
    if ids:
        check_not_before(touches, event_time, offset, first_event_times(session, ids))


def first_event_times(session: Session, lot_ids: set[int]) -> dict[int, datetime]:
    """The time of the first recorded event of each lot (one query for many lots)."""
    if not lot_ids:
        return {}
    rows = session.exec(
        select(EventLot.lot_id, func.min(Event.event_time))
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(col(EventLot.lot_id).in_(lot_ids))
        .group_by(col(EventLot.lot_id))
    ).all()
    return {lot_id: first for lot_id, first in rows if first is not None}


def check_not_before(
    touches: Sequence[Touch], event_time: datetime, offset: object, first: dict[int, datetime]
) -> None:
    """``check_not_before_commissioning`` with the first event times already looked up."""
    for t in touches:
        commissioned = first.get(t.lot.id) if t.lot.id is not None else None
        if commissioned is not None and event_time < commissioned:
            tz = _zone(offset)
            raise Invalid(
                f"eventTime {event_time.astimezone(tz).isoformat(timespec='minutes')} is before lot "
                f"{t.lot.lot_code} was commissioned ({commissioned.astimezone(tz).isoformat(timespec='minutes')}): "
                "an event on a lot cannot happen before the lot exists; check the date and time zone"
            )
