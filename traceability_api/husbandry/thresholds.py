"""Per-place sensor thresholds (a pond's dissolved oxygen, a field's salinity during the intrusion
season) and the organisation's alert channels (webhooks, e-mail addresses)."""

from __future__ import annotations

from sqlmodel import Session, select

from traceability_api.errors import Forbidden, Invalid, NotFound
from traceability_api.evidence.models import KINDS, Device, SensorKind
from traceability_api.husbandry.models import AlertChannel, AlertChannelCreate, PlaceThreshold, ThresholdSet
from traceability_api.netguard import UnsafeDestination, check_destination
from traceability_api.parties.models import Role
from traceability_api.parties.service import Principal
from traceability_api.places.service import get_place

EMAIL_RE = r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$"


def set_threshold(session: Session, p: Principal, place_id: int, data: ThresholdSet) -> PlaceThreshold:
    p.require_write()
    place = get_place(session, p, place_id)
    if place.org_id != p.org_id:
        raise Forbidden("thresholds are set on your own places")
    try:
        kind = SensorKind(data.kind)
    except ValueError as exc:
        raise Invalid(f"unknown sensor kind {data.kind!r}; one of {', '.join(k.value for k in SensorKind)}") from exc
    if data.low is None and data.high is None:
        raise Invalid("give low, high or both")
    lo, hi, unit, _ = KINDS[kind]
    for name, v in (("low", data.low), ("high", data.high)):
        if v is not None and not lo <= v <= hi:
            raise Invalid(f"{name} {v} is outside the physical range {lo:g}..{hi:g} {unit} of {kind.value}")
    if data.low is not None and data.high is not None and data.low >= data.high:
        raise Invalid("low must be below high")
    row = session.exec(
        select(PlaceThreshold).where(PlaceThreshold.place_id == place_id, PlaceThreshold.kind == kind.value)
    ).first() or PlaceThreshold(place_id=place_id, kind=kind.value)  # fmt: skip
    row.low, row.high, row.sustain_minutes = data.low, data.high, data.sustain_minutes
    session.add(row)
    session.flush()
    return row


def thresholds_of(session: Session, place_id: int) -> list[PlaceThreshold]:
    return list(session.exec(select(PlaceThreshold).where(PlaceThreshold.place_id == place_id)).all())


def limits_for(session: Session, device: Device) -> tuple[float | None, float | None, int] | None:
    """(low, high, sustain minutes) for a device: its own thresholds, else its place's for its kind."""
    sustain = 30
    row = None
    if device.place_id is not None:
        row = session.exec(select(PlaceThreshold).where(
            PlaceThreshold.place_id == device.place_id, PlaceThreshold.kind == device.kind.value)).first()  # fmt: skip
        sustain = row.sustain_minutes if row is not None else sustain
    if device.threshold_low is not None or device.threshold_high is not None:
        return device.threshold_low, device.threshold_high, sustain
    if row is None:
        return None
    return row.low, row.high, sustain


def add_channel(session: Session, p: Principal, data: AlertChannelCreate, allow_private: bool) -> AlertChannel:
    import re

    if p.role != Role.admin:
        raise Forbidden("only an organisation admin sets where alerts go")
    if data.kind == "webhook":
        try:
            check_destination(data.target, allow_private)
        except UnsafeDestination as exc:
            raise Invalid(f"webhook refused: {exc}") from exc
    elif not re.fullmatch(EMAIL_RE, data.target):
        raise Invalid(f"{data.target!r} is not an e-mail address")
    row = AlertChannel(org_id=p.org_id, kind=data.kind, target=data.target)
    session.add(row)
    session.flush()
    return row


def remove_channel(session: Session, p: Principal, channel_id: int) -> None:
    row = session.get(AlertChannel, channel_id)
    if row is None or row.org_id != p.org_id or not row.active:
        raise NotFound(f"alert channel {channel_id} not found")
    if p.role != Role.admin:
        raise Forbidden("only an organisation admin sets where alerts go")
    row.active = False
    session.add(row)
