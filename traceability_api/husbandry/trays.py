"""Serialised egg trays: each tray of a processed-egg lot is a serial unit (``/01/<GTIN>/21/<serial>``,
its QR label printed by ``POST /api/v1/lots/{id}/labels`` with ``serials``).  A tray resolves to the
flock house and flock it came from, the day the eggs were collected and how they were processed."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from labels.digital_link import build
from traceability_api.errors import NotFound
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event, EventLot
from traceability_api.husbandry.activities import ACTIVITY_KEY
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, Product
from traceability_api.lots.service import find_serial_lot
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place


def resolve_tray(session: Session, p: Principal, gtin: str, serial: str, base_url: str) -> dict[str, Any]:
    found = find_serial_lot(session, gtin, serial)
    if found is None:
        raise NotFound(f"tray {serial[:40]!r} of GTIN {gtin} not found")
    lot, product = get_lot(session, p, found[0].id or 0)
    collections, processing = [], []
    for lot_id in upstream(session, lot.id or 0):
        src = session.get(Lot, lot_id)
        if src is None:
            continue
        src_product = session.get(Product, src.product_id)
        if src.ilmd.get(ACTIVITY_KEY) == "egg_collection":
            place = session.get(Place, src.origin_place_id) if src.origin_place_id else None
            collections.append({
                "lot": src.lot_code, "gtin": src_product.gtin if src_product else None,
                "collectedOn": src.harvest_date.isoformat() if src.harvest_date else None,
                "grade": src.ilmd.get("agri:grade"), "eggs": src.quantity, "flock": src.ilmd.get("agri:flock"),
                "flockHouse": {"name": place.name, "sectorCode": place.sector_code} if place else None,
            })  # fmt: skip
        made = session.exec(
            select(Event).join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
            .where(EventLot.lot_id == lot_id, EventLot.role == "output", Event.event_type == "TransformationEvent")
        ).all()  # fmt: skip
        for ev in made:
            method = (ev.document.get("ilmd") or {}).get("agri:processing")
            processing.append({"lot": src.lot_code, "method": method, "at": ev.event_time.isoformat(),
                               "eventHashId": ev.hash_id})  # fmt: skip
    return {
        "tray": serial, "gtin": gtin, "product": product.name, "lot": lot.lot_code,
        "consumerUrl": build(gtin, lot.lot_code, serial).uri(base_url),
        "collections": collections, "processing": processing,
    }  # fmt: skip
