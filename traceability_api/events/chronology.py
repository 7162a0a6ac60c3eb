"""A lot's story runs forwards: no event on a lot may be dated before the lot was commissioned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from traceability_api.errors import Invalid
from traceability_api.lots.models import Lot

if TYPE_CHECKING:
    from traceability_api.events.lot_state import Touch


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
    """The time of the first recorded event of each lot (one query for many lots): the lots'
    ``first_event_at``, which the database's triggers keep (migration 0025)."""
    if not lot_ids:
        return {}
    rows = session.connection().execute(_first_times_statement(), {"lots": list(lot_ids)})
    return {lot_id: first for lot_id, first in rows if first is not None}


@lru_cache(maxsize=1)
def _first_times_statement() -> Any:
    """``first_event_times``' Core query, built once (building it and its cache key cost more CPU
    than running it); a call binds its lot ids."""
    lot = Lot.__table__.c  # type: ignore[attr-defined]
    return sa_select(lot.id, lot.first_event_at).where(lot.id.in_(bindparam("lots", expanding=True)))


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
