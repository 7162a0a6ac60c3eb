"""Exports for auditors: EPCIS 2.0 JSON-LD documents, and key data elements per event as a
sortable CSV or XLSX table."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, ItemKind
from traceability_api.events.capture import EXPORT_CONTEXT
from traceability_api.events.models import Event, EventLot
from traceability_api.events.service import export_event
from traceability_api.lots.models import Lot, Product
from traceability_api.lots.service import lot_uri
from traceability_api.parties.models import Organisation

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


def epcis_document(events: list[Event]) -> dict[str, Any]:
    return {
        "@context": EXPORT_CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": [export_event(e) for e in events]},
    }


def rows(
    session: Session, events: list[Event], sort: str = "eventTime", descending: bool = False
) -> list[dict[str, Any]]:
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
    out = []
    for e in events:
        d = e.document
        batch = anchored.get(e.id or 0)
        out.append(
            {
                "eventId": e.id,
                "hashId": e.hash_id,
                "eventType": e.event_type,
                "eventTime": e.event_time.isoformat(),
                "recordTime": e.record_time.isoformat(),
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
        )
    key = sort if sort in SORTABLE else "eventTime"
    return sorted(out, key=lambda r: str(r[key]) if key != "eventId" else int(r[key] or 0), reverse=descending)


def to_csv(table: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    w.writerows(table)
    return buf.getvalue()


def to_xlsx(table: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "events"
    ws.append(COLUMNS)
    for r in table:
        ws.append([r[c] for c in COLUMNS])
    ws.auto_filter.ref = ws.dimensions  # sortable / filterable in the spreadsheet
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
