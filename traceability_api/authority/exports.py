"""Exports for auditors: EPCIS 2.0 JSON-LD documents, and key data elements per event as a
sortable CSV or XLSX table: local times with their offset (an event in its own zone), English or
Vietnamese headers, and a UTF-8 BOM on CSV so that Excel opens Vietnamese text ungarbled."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, ItemKind
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import EXPORT_CONTEXT
from traceability_api.events.models import Event, EventLot
from traceability_api.events.service import export_event
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.sheet_cells import csv_field, xlsx_value

COLUMNS = [
    "eventId",
    "hashId",
    "eventType",
    "eventTime",
    "recordTime",
    "bizStep",
    "action",
    "disposition",
    "recordedBy",
    "readPoint",
    "bizLocation",
    "lots",
    "quantities",
    "sources",
    "destinations",
    "anchored",
    "txHash",
]
SORTABLE = {"eventId", "eventTime", "recordTime", "eventType", "bizStep", "recordedBy"}
HEADERS_VI = {
    "eventId": "Mã sự kiện",
    "hashId": "Mã băm sự kiện",
    "eventType": "Loại sự kiện",
    "eventTime": "Thời điểm sự kiện",
    "recordTime": "Thời điểm ghi nhận",
    "bizStep": "Bước nghiệp vụ",
    "action": "Hành động",
    "disposition": "Trạng thái",
    "recordedBy": "Đơn vị ghi nhận",
    "readPoint": "Điểm ghi nhận",
    "bizLocation": "Địa điểm",
    "lots": "Lô hàng",
    "quantities": "Số lượng",
    "sources": "Bên giao",
    "destinations": "Bên nhận",
    "anchored": "Đã neo lên blockchain",
    "txHash": "Mã giao dịch",
}
assert set(HEADERS_VI) == set(COLUMNS)


def headers(lang: str) -> list[str]:
    return [HEADERS_VI[c] for c in COLUMNS] if lang == "vi" else list(COLUMNS)


def _zone_of(offset: object, default: tzinfo) -> tzinfo:
    """The event's own zone from its eventTimeZoneOffset ('+07:00'), else ``default``."""
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        try:
            h, m = int(offset[1:3]), int(offset[4:6])
        except ValueError:
            return default
        sign = 1 if offset[0] == "+" else -1
        return timezone(sign * timedelta(hours=h, minutes=m))
    return default


def epcis_document(events: list[Event]) -> dict[str, Any]:
    return {
        "@context": EXPORT_CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": [export_event(e) for e in events]},
    }


def rows(
    session: Session,
    events: list[Event],
    sort: str = "eventTime",
    descending: bool = False,
    zone: str = "Asia/Ho_Chi_Minh",
) -> list[dict[str, Any]]:
    """One row per event; eventTime in the event's own zone, recordTime in ``zone``."""
    local = ZoneInfo(zone)
    ids = [e.id for e in events]
    links = session.exec(
        select(EventLot, Lot, Product)
        .join(Lot, Lot.id == EventLot.lot_id)  # type: ignore[arg-type]
        .join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
        .where(EventLot.event_id.in_(ids))  # type: ignore[attr-defined]
    ).all()
    lots: dict[int, list[tuple[str, str]]] = {}
    for link, lot, product in links:
        qty = f"{link.quantity:g} {link.uom or lot.uom}" if link.quantity else ""
        lots.setdefault(link.event_id, []).append((f"{link.role}:{lot_uri(product.gtin, lot.lot_code)}", qty))
    anchored = {
        item.ref_id: batch
        for item, batch in session.exec(
            select(AnchorItem, AnchorBatch)
            .join(AnchorBatch, AnchorBatch.id == AnchorItem.batch_id)  # type: ignore[arg-type]
            .where(AnchorItem.kind == ItemKind.event, AnchorItem.ref_id.in_(ids))  # type: ignore[attr-defined]
        ).all()
    }
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    out: list[tuple[Any, dict[str, Any]]] = []
    for e in events:
        d = e.document
        batch = anchored.get(e.id or 0)
        key = {"eventTime": e.event_time, "recordTime": e.record_time, "eventId": e.id or 0}.get(sort)
        row = {
            "eventId": e.id,
            "hashId": e.hash_id,
            "eventType": e.event_type,
            "eventTime": e.event_time.astimezone(_zone_of(d.get("eventTimeZoneOffset"), local)).isoformat(),
            "recordTime": e.record_time.astimezone(local).isoformat(),
            "bizStep": e.biz_step or "",
            "action": e.action or "",
            "disposition": e.disposition or "",
            "recordedBy": orgs.get(e.org_id, str(e.org_id)),
            "readPoint": (d.get("readPoint") or {}).get("id", ""),
            "bizLocation": (d.get("bizLocation") or {}).get("id", ""),
            "lots": " | ".join(u for u, _ in lots.get(e.id or 0, [])),
            "quantities": " | ".join(q for _, q in lots.get(e.id or 0, [])),
            "sources": " | ".join(f"{s.get('type')}:{s.get('source')}" for s in d.get("sourceList", []) or []),
            "destinations": " | ".join(
                f"{s.get('type')}:{s.get('destination')}" for s in d.get("destinationList", []) or []
            ),
            "anchored": bool(batch and batch.status == BatchStatus.anchored),
            "txHash": batch.tx_hash if batch else "",
        }
        out.append((key if key is not None else str(row.get(sort if sort in SORTABLE else "eventTime")), row))
    return [row for _, row in sorted(out, key=lambda kr: kr[0], reverse=descending)]


def to_csv(table: list[dict[str, Any]], lang: str = "en") -> bytes:
    """UTF-8 with a byte-order mark: Excel otherwise reads Vietnamese text as Windows-1252."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers(lang))
    w.writerows([csv_field(r[c]) for c in COLUMNS] for r in table)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(table: list[dict[str, Any]], lang: str = "en") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "events"
    ws.append(headers(lang))
    for r in table:
        ws.append([xlsx_value(ws, r[c]) for c in COLUMNS])
    ws.auto_filter.ref = ws.dimensions  # sortable / filterable in the spreadsheet
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
