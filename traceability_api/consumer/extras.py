"""Evidence shown on consumer pages, from the events the page already loaded: farm-diary
highlights of the origin plot's season and the lot's sensor summaries with small inline charts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from consumer_site.i18n import STRINGS
from consumer_site.render import sparkline
from traceability_api.epcis import vocabulary as voc
from traceability_api.evidence.diary import OVERRIDE_KEY
from traceability_api.evidence.models import Device, SensorKind
from traceability_api.evidence.sensors import readings_between
from traceability_api.evidence.summary import DEVICE_URN
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


def diary_items(docs: list[tuple[Any, dict[str, Any]]], lots: Sequence[Lot], lang: str) -> list[dict[str, Any]]:
    """Highlights of the farm-diary events on the page (already loaded with the timeline), and any
    pre-harvest-interval override recorded on the lot or the lots it was made from."""
    out = []
    for row, doc in docs:
        d = doc.get("agri:diary")
        if not isinstance(d, dict):
            continue
        step = (row.biz_step or "").rsplit("BizStep-", 1)[-1]
        name = voc.FARM_STEPS.get(step, step)
        en, _, vi = name.partition(" / ")
        parts = [vi if lang == "vi" and vi else en]
        if d.get("product"):
            dose = f"{d.get('dose', '')} {d.get('dose_unit', '')}".strip()
            parts.append(f"{d['product']} ({d.get('active_ingredient', '')}) {dose}")
        if d.get("phi_days") is not None:
            days = ("cách ly " if lang == "vi" else "PHI ") + f"{d['phi_days']} " + ("ngày" if lang == "vi" else "days")
            parts.append(days)
        out.append({"date": row.event_time.strftime("%d/%m/%Y"), "text": " · ".join(parts)})
    for lot in lots:
        override = lot.ilmd.get(OVERRIDE_KEY) or lot.ilmd.get(voc.AGRI_NS + "phiOverride")
        if isinstance(override, dict):
            out.append({"date": "", "text": STRINGS[lang]["override"], "note": str(override.get("reason", ""))})
    return out


def sensor_items(session: Session, docs: list[tuple[Any, dict[str, Any]]], lang: str) -> list[dict[str, Any]]:
    """The latest sensor summary on the page, each device with a small chart of its readings."""
    summaries = [doc for row, doc in docs if doc.get("sensorElementList")]
    out = []
    for el in summaries[-1:][0].get("sensorElementList", []) if summaries else []:
        meta, reports = el.get("sensorMetadata", {}), el.get("sensorReport", [])
        dev_uri = str(meta.get("deviceID", ""))
        device = session.get(Device, int(dev_uri[len(DEVICE_URN) :])) if dev_uri.startswith(DEVICE_URN) else None
        if device is None or not reports:
            continue
        r = reports[0]
        readings = readings_between(
            session, device.id or 0, datetime.fromisoformat(meta["startTime"]), datetime.fromisoformat(meta["endTime"])
        )
        step = max(1, len(readings) // 60)
        values = [v for _, v in readings[::step]]
        out.append({
            "label": LABELS[lang][device.kind], "unit": UNITS.get(str(r.get("uom")), str(r.get("uom", ""))),
            "min": f"{r['minValue']:g}", "max": f"{r['maxValue']:g}", "mean": f"{r['meanValue']:.1f}",
            "out": r.get("agri:outOfThresholdPeriods") or 0,
            "svg": sparkline(values, lo=device.threshold_low, hi=device.threshold_high),
        })  # fmt: skip
    return out
