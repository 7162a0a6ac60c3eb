"""The one builder of the EPCIS ObjectEvents the service writes itself (harvest lots, serialised
labels, recalls, sensor summaries, diary entries, demo data).  The time-zone offset comes from
the zone of the place or the service (``AGRITRACE_TIME_ZONE``), never a hand-written constant."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from traceability_api.timeutil import utcnow


def zone_offset(when: datetime | str | None, zone: tzinfo) -> str:
    """``eventTimeZoneOffset`` ("+07:00") of ``zone`` at ``when`` (now if absent or unreadable)."""
    at = utcnow()
    if isinstance(when, datetime):
        at = when
    elif isinstance(when, str):
        try:
            at = datetime.fromisoformat(when)
        except ValueError:
            pass  # capture reports the bad eventTime
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    try:
        offset = at.astimezone(zone).utcoffset()
    except OverflowError:  # year 0 or 10000 on the way through UTC: capture reports the bad eventTime
        offset = at.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def object_event(
    biz_step: str,
    zone: tzinfo,
    *,
    when: datetime | str | None = None,
    action: str = "OBSERVE",
    lot: str | None = None,
    quantity: float | None = None,
    uom: str | None = None,
    epcs: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An ObjectEvent at ``when`` (default now; a string is kept as given) in ``zone``.
    ``lot`` (a lot URI) goes in ``quantityList`` with ``quantity``/``uom`` when given; ``epcs``
    in ``epcList``; ``fields`` (disposition, bizLocation, ilmd, extensions...) are added as given."""
    if when is None:
        when = utcnow()
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": when.isoformat(timespec="milliseconds") if isinstance(when, datetime) else when,
        "eventTimeZoneOffset": zone_offset(when, zone),
        "action": action,
        "bizStep": biz_step,
    }
    if epcs is not None:
        event["epcList"] = epcs
    if lot is not None:
        q: dict[str, Any] = {"epcClass": lot}
        if quantity is not None:
            q["quantity"] = quantity
        if uom:
            q["uom"] = uom
        event["quantityList"] = [q]
    return event | fields


def transformation_event(
    zone: tzinfo,
    inputs: list[tuple[str, float, str]],
    outputs: list[tuple[str, float, str]],
    *,
    when: datetime | str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A TransformationEvent (commissioning its outputs) from ``(lot URI, quantity, uom)`` inputs
    to outputs, at ``when`` (default now) in ``zone``."""
    if when is None:
        when = utcnow()
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventTime": when.isoformat(timespec="milliseconds") if isinstance(when, datetime) else when,
        "eventTimeZoneOffset": zone_offset(when, zone),
        "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": u, "quantity": q, "uom": m} for u, q, m in inputs],
        "outputQuantityList": [{"epcClass": u, "quantity": q, "uom": m} for u, q, m in outputs],
    }
    return event | fields
