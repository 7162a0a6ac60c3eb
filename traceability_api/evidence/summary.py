"""Sensor evidence into the chain of proof: a lot's readings (its plot during the season, the
places it was kept while handled) summarised into an EPCIS ``sensorElementList`` event whose
``rawData`` is the digest of the raw readings -- so a reading changed later is detected."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlmodel import Session, select

from traceability_api.consensus.records import readings_digest
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Invalid
from traceability_api.events.models import Event, EventLot
from traceability_api.evidence.models import KINDS, Device
from traceability_api.evidence.sensors import readings_between
from traceability_api.lots.models import Lot, Product

SEASON = timedelta(days=300)
DEVICE_URN = "urn:agritrace:device:"
METHOD = voc.AGRI_NS + "sensorSummary-v1"


def _windows(session: Session, lot: Lot) -> list[tuple[int, datetime, datetime]]:
    """(place, start, end): the origin plot over the season before harvest, and every place where
    the lot's events happened, from its first to its last event there."""
    times = session.exec(
        select(Event.event_time, Event.place_id)
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id == lot.id)
        .order_by(Event.event_time)  # type: ignore[arg-type]
    ).all()
    if not times:
        return []
    out = []
    first, last = times[0][0], times[-1][0]
    if lot.origin_place_id is not None:
        out.append((lot.origin_place_id, first - SEASON, first))
    by_place: dict[int, list[datetime]] = {}
    for t, place in times:
        if place is not None:
            by_place.setdefault(place, []).append(t)
    for place, ts in by_place.items():
        if place != lot.origin_place_id:
            out.append((place, min(ts), max(max(ts), last)))
    return out


def place_windows(session: Session, lot: Lot) -> dict[int, tuple[datetime, datetime]]:
    """Place -> (start, end): where and when readings belong to ``lot`` (what ``summary_event`` reads)."""
    return {place: (start, end) for place, start, end in _windows(session, lot)}


def runs_out_of(readings: list[tuple[datetime, float]], lo: float | None, hi: float | None) -> int:
    runs, inside = 0, False
    for _, v in readings:
        out = (lo is not None and v < lo) or (hi is not None and v > hi)
        if out and not inside:
            runs += 1
        inside = out
    return runs


def summary_event(session: Session, lot: Lot, product: Product, zone: tzinfo) -> dict[str, Any]:
    elements = []
    for place, start, end in _windows(session, lot):
        for device in session.exec(select(Device).where(Device.place_id == place)).all():
            readings = readings_between(session, device.id or 0, start, end)
            if not readings:
                continue
            values = [v for _, v in readings]
            _, _, unit, mtype = KINDS[device.kind]
            elements.append(
                {
                    "sensorMetadata": {
                        "startTime": readings[0][0].isoformat(),
                        "endTime": readings[-1][0].isoformat(),
                        "deviceID": f"{DEVICE_URN}{device.id}",
                        "rawData": f"ni:///sha-256;{readings_digest(readings)}",
                        "dataProcessingMethod": METHOD,
                    },
                    "sensorReport": [
                        {
                            "type": f"gs1:{mtype}",
                            "minValue": min(values),
                            "maxValue": max(values),
                            "meanValue": round(sum(values) / len(values), 4),
                            "uom": unit,
                            "agri:count": len(values),
                            "agri:outOfThresholdPeriods": runs_out_of(
                                readings, device.threshold_low, device.threshold_high
                            ),
                        }
                    ],
                }
            )
    if not elements:
        raise Invalid("no sensor readings for this lot's plot or places in its time windows")
    lot_ref = lot_uri(product.gtin, lot.lot_code)
    return object_event("sensor_reporting", zone, lot=lot_ref, sensorElementList=elements)


def check_digests(session: Session, event: Event) -> list[str]:
    """Problems: summaries whose raw readings changed since the summary was recorded."""
    problems = []
    for el in event.document.get("sensorElementList", []) or []:
        meta = el.get("sensorMetadata", {})
        dev = str(meta.get("deviceID", ""))
        if not dev.startswith(DEVICE_URN) or meta.get("dataProcessingMethod") != METHOD:
            continue
        readings = readings_between(
            session,
            int(dev[len(DEVICE_URN) :]),
            datetime.fromisoformat(meta["startTime"]),
            datetime.fromisoformat(meta["endTime"]),
        )
        if f"ni:///sha-256;{readings_digest(readings)}" != meta.get("rawData"):
            problems.append(f"event {event.id}: raw readings of {dev} changed after they were summarised")
    return problems
