"""Builds the plain view model of a consumer page from the domain (consumer_site renders it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast
from sqlmodel import Session, select

from chain.client import AnchorContract
from consumer_site.render import PRODUCT_ICON
from traceability_api.anchoring.proofs import verify_events
from traceability_api.authority.recall import active_recall_reason
from traceability_api.consumer.extras import diary_items, sensor_items
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.parties.models import Organisation
from traceability_api.places.models import Place

VN = ZoneInfo("Asia/Ho_Chi_Minh")

STEP_NAMES = {
    "vi": {
        "commissioning": "Thu hoạch / tạo lô",
        "shipping": "Xuất hàng",
        "receiving": "Nhận hàng",
        "inspecting": "Kiểm tra chất lượng",
        "storing": "Lưu kho",
        "packing": "Đóng gói",
        "transporting": "Vận chuyển",
        "retail_selling": "Bán lẻ",
        "destroying": "Tiêu hủy",
        "sensor_reporting": "Ghi nhận cảm biến",
        "transform": "Chế biến",
        "recall": "Thu hồi",
    },
    "en": {
        "commissioning": "Harvest / lot created",
        "shipping": "Shipped",
        "receiving": "Received",
        "inspecting": "Quality inspection",
        "storing": "Stored",
        "packing": "Packed",
        "transporting": "Transported",
        "retail_selling": "Retail sale",
        "destroying": "Destroyed",
        "sensor_reporting": "Sensor report",
        "transform": "Processing",
        "recall": "Recall",
    },
}
STAGES = {
    "vi": {
        "inputs": "Vật tư đầu vào",
        "cultivation": "Canh tác",
        "harvest": "Thu hoạch",
        "processing": "Chế biến",
        "distribution": "Phân phối",
        "quality": "Chất lượng",
    },
    "en": {
        "inputs": "Inputs",
        "cultivation": "Cultivation",
        "harvest": "Harvest",
        "processing": "Processing",
        "distribution": "Distribution",
        "quality": "Quality",
    },
}
_DISTRIBUTION = {"shipping", "receiving", "storing", "transporting", "retail_selling", "loading", "unloading"}
_INPUT_STEPS = {"fertilising", "spraying"}


class RootCache:
    """Chain lookups of anchored roots, shared by page renders: positive answers are final."""

    def __init__(self, negative_ttl_s: float = 10.0) -> None:
        self._known: dict[str, bool] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.negative_ttl_s = negative_ttl_s

    def snapshot(self) -> dict[str, bool]:
        now = time.monotonic()
        with self._lock:
            return {r: ok for r, ok in self._known.items() if ok or now - self._checked[r] < self.negative_ttl_s}

    def update(self, roots: dict[str, bool]) -> None:
        now = time.monotonic()
        with self._lock:
            for r, ok in roots.items():
                if r not in self._known or not self._known[r]:
                    self._known[r], self._checked[r] = ok, now


ROOTS = RootCache()


def _step_key(e: Any) -> str:
    if e.event_type == "TransformationEvent":
        return "transform"
    step = e.biz_step or ""
    if step == voc.RECALLED or e.disposition == voc.RECALLED and step.endswith("holding"):
        return "recall"
    for prefix in (voc.BIZSTEP, voc.AGRI_NS + "BizStep-"):
        if step.startswith(prefix):
            return step[len(prefix) :]
    return step.rsplit("/", 1)[-1] or e.event_type


def _stage(e: Any, key: str) -> str:
    if e.event_type == "TransformationEvent" or key in ("packing", "transform"):
        return "processing"
    if key == "commissioning":
        return "harvest"
    if key in _INPUT_STEPS:
        return "inputs"
    if (e.biz_step or "").startswith(voc.AGRI_NS):
        return "cultivation"
    if key in _DISTRIBUTION:
        return "distribution"
    return "quality"


def _local(dt: datetime, lang: str) -> str:
    local = dt.astimezone(VN)
    return local.strftime("%d/%m/%Y %H:%M") if lang == "vi" else local.strftime("%Y-%m-%d %H:%M")


def _title(key: str, lang: str) -> str:
    if key in STEP_NAMES[lang]:
        return STEP_NAMES[lang][key]
    farm = voc.FARM_STEPS.get(key)
    if farm:
        en, _, vi = farm.partition(" / ")
        return vi if lang == "vi" and vi else en
    return key.replace("_", " ")


def _qty(touches: list[Any]) -> str:
    parts = [f"{t.quantity:g} {t.uom or ''}".strip() for t in touches if t.quantity]
    return ", ".join(parts[:3])


SEASON = timedelta(days=300)


# the document as stored text: verification memoises hashes on it, and the page needs no parsed copy
EVENT_COLS = (Event.id, cast(Event.document, Text).label("document_text"), Event.hash_id, Event.event_time,
              Event.event_type, Event.biz_step, Event.disposition, Event.org_id, Event.place_id,
              Event.hash_rule)  # fmt: skip


def _add_season(session: Session, events: dict[int, tuple[Any, list[Any]]], lots: Sequence[Lot]) -> None:
    """Farm work recorded on a lot's plot during the season before its harvest joins its story."""
    first: dict[int, datetime] = {}
    for ev, links in events.values():
        for link in links:
            if link.lot_id not in first or ev.event_time < first[link.lot_id]:
                first[link.lot_id] = ev.event_time
    for x in lots:
        if x.origin_place_id is None or x.id not in first:
            continue
        harvest = first[x.id]
        season = session.execute(
            select(*EVENT_COLS).where(  # type: ignore[call-overload]
                Event.place_id == x.origin_place_id, Event.event_time <= harvest, Event.event_time >= harvest - SEASON
            )
        ).all()
        for ev in season:
            events.setdefault(ev.id, (ev, []))
    ordered = sorted(events.items(), key=lambda kv: (kv[1][0].event_time, kv[0]))
    events.clear()
    events.update(ordered)


def build_lot_view(
    session: Session,
    *,
    lot: Lot,
    product: Product,
    lang: str,
    base_url: str,
    contract: AnchorContract | None,
    serial: str | None = None,
    copy_warning: bool = False,
) -> dict[str, Any]:
    assert lot.id is not None
    lot_ids = upstream(session, lot.id)
    rows = session.execute(
        select(*EVENT_COLS, EventLot.lot_id, EventLot.quantity, EventLot.uom)  # type: ignore[call-overload]
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id.in_(lot_ids))  # type: ignore[attr-defined]
        .order_by(Event.event_time, Event.id)  # type: ignore[arg-type]
    ).all()
    events: dict[int, tuple[Any, list[Any]]] = {}
    for row in rows:
        events.setdefault(row.id, (row, []))[1].append(row)
    lots = session.exec(select(Lot).where(Lot.id.in_(lot_ids))).all()  # type: ignore[attr-defined, union-attr]
    _add_season(session, events, lots)
    org_ids = {ev.org_id for ev, _ in events.values()} | {lot.holder_org_id, product.org_id}
    orgs = {o.id: o for o in session.exec(select(Organisation).where(Organisation.id.in_(org_ids))).all()}  # type: ignore[union-attr]
    place_ids = {lot.origin_place_id} | {x.origin_place_id for x in lots} | {ev.place_id for ev, _ in events.values()}
    places = {p.id: p for p in session.exec(select(Place).where(Place.id.in_([i for i in place_ids if i]))).all()}  # type: ignore[attr-defined, union-attr]
    origin_place = places.get(lot.origin_place_id) or next(iter(places.values()), None)

    def org_name(org_id: int | None) -> str | None:
        o = orgs.get(org_id)
        return o.name if o is not None and o.public_profile else None

    timeline = []
    for ev, links in events.values():
        key = _step_key(ev)
        place = places.get(ev.place_id)
        where = place.name if place is not None else None
        timeline.append(
            {
                "stage": STAGES[lang][_stage(ev, key)],
                "title": _title(key, lang),
                "time": _local(ev.event_time, lang),
                "who": org_name(ev.org_id),
                "where": where,
                "quantity": _qty(links),
            }
        )
    evidence = [
        (ev, json.loads(ev.document_text))
        for ev, _ in events.values()
        if (ev.biz_step or "").startswith(voc.AGRI_NS) or ev.biz_step == voc.BIZSTEP + "sensor_reporting"
    ]
    roots = ROOTS.snapshot()
    before = dict(roots)
    v = verify_events(session, [ev for ev, _ in events.values()], contract, roots)
    ROOTS.update({r: ok for r, ok in roots.items() if r not in before})
    producer_org = orgs.get(product.org_id)
    uri = f"{base_url}/01/{product.gtin}/10/{lot.lot_code}"
    trace_url = uri + (f"/21/{serial}" if serial else "")
    anchored_at = None
    if v.latest_batch and v.latest_batch.get("blockTimestamp"):
        anchored_at = _local(datetime.fromtimestamp(v.latest_batch["blockTimestamp"], UTC), lang)
    name = product.name_en if lang == "en" and product.name_en else product.name
    vm: dict[str, Any] = {
        "lang": lang,
        "alt_lang": "en" if lang == "vi" else "vi",
        "alt_lang_url": f"{trace_url}?lang={'en' if lang == 'vi' else 'vi'}",
        "product": {
            "name": name,
            "gtin": product.gtin,
            "brand": product.brand,
            "ocop_stars": product.ocop_stars,
            "certifications": list(product.certifications),
            "image_svg": PRODUCT_ICON,
        },
        "producer": (
            {"name": producer_org.name, "address": producer_org.address}
            if producer_org is not None and producer_org.public_profile
            else None
        ),
        "origin": (
            {"name": origin_place.name, "area_code": origin_place.planting_area_code, "province": None}
            if origin_place is not None
            else None
        ),
        "lot": {
            "code": lot.lot_code,
            "serial": serial,
            "harvest_date": lot.harvest_date.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")
            if lot.harvest_date
            else None,
            "expiry": None,
            "holder": org_name(lot.holder_org_id),
        },
        "timeline": timeline,
        "diary": diary_items(evidence, lots, lang),
        "sensors": sensor_items(session, evidence, lang),
        "verification": {
            "status": v.status,
            "anchor": v.latest_batch,
            "anchored_at": anchored_at,
            "bundle_url": f"{base_url}/api/v1/proofs/lots/{product.gtin}/{lot.lot_code}",
        },
        "recall": {"reason": active_recall_reason(session, lot.id)} if lot.status == LotStatus.recalled else None,
        "copy_warning": copy_warning,
        "trace_url": trace_url,
        "jsonld": _jsonld(product, producer_org, uri, name, v.status, lot),
    }
    return vm


def _jsonld(product: Product, org: Organisation | None, uri: str, name: str, status: str, lot: Lot) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": uri,
        "name": name,
        "gtin14": product.gtin,
        "url": uri,
        "sku": f"{product.gtin}-{lot.lot_code}",
        "additionalProperty": [
            {"@type": "PropertyValue", "name": "lot", "value": lot.lot_code},
            {"@type": "PropertyValue", "name": "traceabilityStatus", "value": status},
            {"@type": "PropertyValue", "name": "traceLink", "value": uri},
        ],
    }
    if product.brand:
        data["brand"] = {"@type": "Brand", "name": product.brand}
    if org is not None and org.public_profile:
        data["manufacturer"] = {"@type": "Organization", "name": org.name, "address": org.address}
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
