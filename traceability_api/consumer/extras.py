"""Evidence shown on consumer pages: farm-diary highlights of the origin plot's season and the
lot's sensor summaries with small inline charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from consumer_site.render import sparkline
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventLot
from traceability_api.evidence.diary import OVERRIDE_KEY
from traceability_api.evidence.models import Device, SensorKind
from traceability_api.evidence.sensors import readings_between
from traceability_api.evidence.summary import DEVICE_URN, SEASON
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot

LABELS = {
    "vi": {
        SensorKind.temperature: "Nhiệt độ",
        SensorKind.humidity: "Độ ẩm",
        SensorKind.water_level: "Mực nước",
        SensorKind.salinity: "Độ mặn",
        SensorKind.ph: "pH",
        SensorKind.soil_moisture: "Độ ẩm đất",
        SensorKind.pest_trap: "Bẫy côn trùng",
    },
    "en": {
        SensorKind.temperature: "Temperature",
        SensorKind.humidity: "Humidity",
        SensorKind.water_level: "Water level",
        SensorKind.salinity: "Salinity",
        SensorKind.ph: "pH",
        SensorKind.soil_moisture: "Soil moisture",
        SensorKind.pest_trap: "Pest trap",
    },
}
UNITS = {"CEL": "°C", "P1": "%", "MTR": "m", "59": "‰", "C62": "", "H87": ""}


def _diary(session: Session, lot: Lot, lang: str) -> list[dict[str, Any]]:
    """Diary entries of the plots the lot (or the lots it was made from) was harvested on."""
    origin = next(
        (x for x in (session.get(Lot, i) for i in upstream(session, lot.id or 0)) if x and x.origin_place_id), None
    )
    if origin is None:
        return []
    harvest = session.exec(
        select(Event.event_time)
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id == origin.id)  # type: ignore[arg-type]
        .order_by(Event.event_time)  # type: ignore[arg-type]
        .limit(1)  # type: ignore[arg-type]
    ).first()
    if harvest is None:
        return []
    rows = session.exec(
        select(Event)
        .where(
            Event.place_id == origin.origin_place_id, Event.event_time <= harvest, Event.event_time >= harvest - SEASON
        )
        .order_by(Event.event_time)  # type: ignore[arg-type]
    ).all()
    lot = origin
    out = []
    for e in rows:
        d = e.document.get("agri:diary")
        if not isinstance(d, dict):
            continue
        step = (e.biz_step or "").rsplit("BizStep-", 1)[-1]
        name = voc.FARM_STEPS.get(step, step)
        en, _, vi = name.partition(" / ")
        parts = [vi if lang == "vi" and vi else en]
        if d.get("product"):
            dose = f"{d.get('dose', '')} {d.get('dose_unit', '')}".strip()
            parts.append(f"{d['product']} ({d.get('active_ingredient', '')}) {dose}")
        if d.get("phi_days") is not None:
            parts.append(
                ("cách ly " if lang == "vi" else "PHI ") + f"{d['phi_days']} " + ("ngày" if lang == "vi" else "days")
            )
        out.append({"date": e.event_time.strftime("%d/%m/%Y"), "text": " · ".join(parts)})
    override = lot.ilmd.get(OVERRIDE_KEY) or lot.ilmd.get(voc.AGRI_NS + "phiOverride")
    if override:
        from consumer_site.i18n import STRINGS

        out.append({"date": "", "text": STRINGS[lang]["override"], "note": str(override.get("reason", ""))})
    return out


def _sensors(session: Session, lot: Lot, lang: str) -> list[dict[str, Any]]:
    events = session.exec(
        select(Event)
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id == lot.id, Event.biz_step == voc.BIZSTEP + "sensor_reporting")
        .order_by(Event.event_time.desc())  # type: ignore[attr-defined]
    ).all()
    out = []
    for e in events[:1]:
        for el in e.document.get("sensorElementList", []):
            meta, reports = el.get("sensorMetadata", {}), el.get("sensorReport", [])
            dev_uri = str(meta.get("deviceID", ""))
            device = session.get(Device, int(dev_uri[len(DEVICE_URN) :])) if dev_uri.startswith(DEVICE_URN) else None
            if device is None or not reports:
                continue
            r = reports[0]
            readings = readings_between(
                session,
                device.id or 0,
                datetime.fromisoformat(meta["startTime"]),
                datetime.fromisoformat(meta["endTime"]),
            )
            step = max(1, len(readings) // 60)
            values = [v for _, v in readings[::step]]
            unit = UNITS.get(str(r.get("uom")), str(r.get("uom", "")))
            out.append(
                {
                    "label": LABELS[lang][device.kind],
                    "unit": unit,
                    "min": f"{r['minValue']:g}",
                    "max": f"{r['maxValue']:g}",
                    "mean": f"{r['meanValue']:.1f}",
                    "out": r.get("agri:outOfThresholdPeriods") or 0,
                    "svg": sparkline(values, lo=device.threshold_low, hi=device.threshold_high),
                }
            )
    return out


def page_extras(session: Session, lot: Lot, lang: str) -> dict[str, Any]:
    return {"diary": _diary(session, lot, lang), "sensors": _sensors(session, lot, lang)}
