"""Evidence shown on consumer pages, from the events the page already loaded: farm-diary
entries of the origin plot's season and the lot's latest sensor summary with small inline charts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from consumer_site import formatting as fmt
from consumer_site.i18n import SENSOR_LABELS, STRINGS
from consumer_site.render import sparkline
from consumer_site.viewmodel import DiaryItem, SensorItem
from traceability_api.epcis import vocabulary as voc
from traceability_api.evidence.diary import OVERRIDE_KEY
from traceability_api.evidence.models import Device
from traceability_api.evidence.sensors import readings_between
from traceability_api.evidence.summary import DEVICE_URN, place_windows
from traceability_api.lots.models import Lot
from traceability_api.validation import db_id_of


def is_diary(row: Any) -> bool:
    return (row.biz_step or "").startswith(voc.AGRI_NS)


def is_sensor_summary(row: Any) -> bool:
    return bool(row.biz_step == voc.BIZSTEP + "sensor_reporting")


def _diary_text(row: Any, doc: dict[str, Any], lang: str) -> str:
    step = (row.biz_step or "").rsplit("BizStep-", 1)[-1]
    en, _, vi = voc.FARM_STEPS.get(step, step).partition(" / ")
    parts = [vi if lang == "vi" and vi else en]
    d = doc.get("agri:diary")
    if isinstance(d, dict):
        if d.get("product"):
            dose = d.get("dose")
            num = dose if isinstance(dose, int | float) and not isinstance(dose, bool) else None
            amount = f"{fmt.number(num, lang)} {d.get('dose_unit', '')}".strip() if num is not None else ""
            ai = f" ({d['active_ingredient']})" if d.get("active_ingredient") else ""
            parts.append(f"{d['product']}{ai} {amount}".strip())
        if d.get("phi_days") is not None:
            parts.append(STRINGS[lang]["phi_days"].format(n=d["phi_days"]))
        parts += _husbandry_text(d, lang)
    return " · ".join(parts)


def _is_num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _husbandry_text(d: dict[str, Any], lang: str) -> list[str]:
    """Quantities in the words people use (con, quả, kg, chậu), withdrawal periods, egg grades."""
    out = []
    if _is_num(d.get("quantity")):
        out.append(fmt.quantity(d["quantity"], str(d.get("uom") or ""), lang))
    if d.get("withdrawal_days") is not None:
        out.append(STRINGS[lang]["withdrawal_days"].format(n=d["withdrawal_days"]))
    for key in ("disease", "source"):
        if d.get(key):
            out.append(str(d[key]))
    return out


def diary_items(docs: list[tuple[Any, dict[str, Any]]], lots: Sequence[Lot], lang: str) -> list[DiaryItem]:
    """Every farm-diary event on the page, dated in the zone it was recorded in, and any
    pre-harvest-interval override recorded on the lot or the lots it was made from."""
    out = [
        DiaryItem(fmt.day(row.event_time, lang, fmt.zone(doc.get("eventTimeZoneOffset"))), _diary_text(row, doc, lang))
        for row, doc in docs
        if is_diary(row)
    ]
    for lot in lots:
        override = lot.ilmd.get(OVERRIDE_KEY) or lot.ilmd.get(voc.AGRI_NS + "phiOverride")
        if isinstance(override, dict):
            out.append(DiaryItem("", STRINGS[lang]["override"], str(override.get("reason", ""))))
        held = lot.ilmd.get("agri:withdrawalOverride") or lot.ilmd.get(voc.AGRI_NS + "withdrawalOverride")
        if isinstance(held, dict):
            out.append(DiaryItem("", STRINGS[lang]["withdrawal_override"], str(held.get("reason", ""))))
    return out


def _out_of_range(n: int, lang: str) -> str:
    return fmt.count(n, STRINGS[lang]["out_of_range_forms"], lang) if n else ""


def sensor_items(session: Session, docs: list[tuple[Any, dict[str, Any]]], lang: str, lot: Lot) -> list[SensorItem]:
    """The latest sensor summary on the page, each device with a small chart of its readings: only
    a device at a place of the lot, over the time the lot was there (``summary.place_windows``).
    The summary is an event its recorder wrote: any device id and times could be cited in it (another
    organisation's cold room, a year of readings), and a malformed one broke the page (500)."""
    summaries = [doc for row, doc in docs if doc.get("sensorElementList")]
    windows = place_windows(session, lot) if summaries else {}
    out = []
    for el in summaries[-1:][0].get("sensorElementList", []) if summaries else []:
        meta, reports = _dict(el.get("sensorMetadata")), el.get("sensorReport")
        dev_uri = str(meta.get("deviceID", ""))
        dev_id = db_id_of(dev_uri[len(DEVICE_URN) :]) if dev_uri.startswith(DEVICE_URN) else None
        device = session.get(Device, dev_id) if dev_id is not None else None
        span = _span(meta, windows.get(device.place_id or 0)) if device is not None else None
        if device is None or span is None or not isinstance(reports, list) or not reports:
            continue
        r = _dict(reports[0])
        if not all(_number(r.get(k)) for k in ("minValue", "maxValue", "meanValue")):
            continue
        readings = readings_between(session, device.id or 0, *span)
        values = [v for _, v in readings[:: max(1, len(readings) // 60)]]
        # the unit's word after a reading: °C, mg/L; none after pH or a pest trap's count (C62, H87)
        label, unit = SENSOR_LABELS[lang][device.kind], fmt.unit(str(r.get("uom", "")), lang, "reading")
        out.append(SensorItem(
            label=label, unit=unit, min=fmt.number(r["minValue"], lang), max=fmt.number(r["maxValue"], lang),
            mean=fmt.number(round(r["meanValue"], 1), lang),
            out=_out_of_range(n if isinstance(n := r.get("agri:outOfThresholdPeriods"), int) else 0, lang),
            chart_label=(chart := STRINGS[lang]["chart"].format(label=f"{label} ({unit})" if unit else label)),
            svg=sparkline(values, lo=device.threshold_low, hi=device.threshold_high, label=chart),
        ))  # fmt: skip
    return out


def _dict(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and -1e15 < x < 1e15


def _span(meta: dict[str, Any], window: tuple[datetime, datetime] | None) -> tuple[datetime, datetime] | None:
    """The summary's startTime..endTime within ``window`` (the lot at the device's place), or None."""
    if window is None:
        return None
    try:
        start, end = (datetime.fromisoformat(str(meta.get(k))) for k in ("startTime", "endTime"))
        if start.tzinfo is None or end.tzinfo is None:
            return None
        start, end = max(start, window[0]), min(end, window[1])
    except (ValueError, OverflowError):  # not a time; year 0 once in UTC
        return None
    return (start, end) if start <= end else None
