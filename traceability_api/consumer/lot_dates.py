"""The dates a lot's page and labels print: when it was packed (or made) and when it expires, each
the calendar day in the zone where the event was recorded, not the server's UTC day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Text, cast
from sqlmodel import Session, select

from consumer_site import formatting as fmt
from traceability_api.consumer.steps import event_zone
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product


def packed_on(session: Session, lot: Lot) -> date | None:
    """The day of the lot's packing event, else of the first event that made it (commissioning or
    processing), in that event's own time zone."""
    assert lot.id is not None
    rows = session.execute(
        select(Event.event_time, Event.biz_step, cast(Event.document, Text).label("document_text"))  # type: ignore[call-overload]
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id == lot.id)
        .order_by(Event.event_time, Event.id)  # type: ignore[arg-type]
    ).all()
    if not rows:
        return None
    chosen = next((r for r in rows if r.biz_step == voc.BIZSTEP + "packing"), rows[0])
    return chosen.event_time.astimezone(event_zone(chosen)).date()  # type: ignore[no-any-return]


def start_date(session: Session, lot: Lot) -> date | None:
    """The day the lot's shelf life starts: its harvest, else its packing."""
    return lot.harvest_date or packed_on(session, lot)


def expiry(product: Product, start: date | None) -> date | None:
    if start is None or not product.shelf_life_days:
        return None
    try:
        return start + timedelta(days=product.shelf_life_days)
    except OverflowError:  # a start date near 9999-12-31: no day to print, the page and labels still work
        return None


def day_text(d: date | None, lang: str) -> str | None:
    return fmt.day(d, lang) if d is not None else None
