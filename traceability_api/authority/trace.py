"""Trace graphs over lot lineage (``lot_link``: transformations) with recursive SQL, plus the
custody hand-overs of each lot (one step back / one step forward between organisations)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.lineage import MAX_DEPTH, walk
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.places.models import Place


def _nodes(session: Session, distances: dict[int, int]) -> list[dict[str, Any]]:
    if not distances:
        return []
    rows = session.exec(
        select(Lot, Product).join(Product, Product.id == Lot.product_id).where(Lot.id.in_(list(distances)))  # type: ignore[arg-type, union-attr]
    ).all()
    return [
        {
            "id": lot.id,
            "uri": lot_uri(p.gtin, lot.lot_code),
            "product": p.name,
            "gtin": p.gtin,
            "lot": lot.lot_code,
            "owner": lot.owner_org_id,
            "holder": lot.holder_org_id,
            "quantity": lot.quantity,
            "remaining": lot.quantity_remaining,
            "uom": lot.uom,
            "status": lot.status,
            "originPlace": lot.origin_place_id,
            "distance": distances[lot.id or 0],
        }
        for lot, p in rows
    ]


def custody(session: Session, lot_ids: list[int], visible: Any = True) -> list[dict[str, Any]]:
    """Shipping and receiving events of the lots: who handed over to whom, when, how much; only
    the events ``visible`` (an SQL condition on ``Event``: the reader's ``events.service.visible_to``)
    lets through."""
    rows = session.exec(
        select(Event, EventLot)
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id.in_(lot_ids), Event.biz_step.in_([voc.SHIPPING, voc.RECEIVING]))  # type: ignore[attr-defined, union-attr]
        .where(visible)
        .order_by(Event.event_time)  # type: ignore[arg-type]
    ).all()
    out = []
    for ev, link in rows:
        dest = [d.get("destination") for d in ev.document.get("destinationList", []) or []]
        src = [d.get("source") for d in ev.document.get("sourceList", []) or []]
        out.append(
            {
                "lot": link.lot_id,
                "eventId": ev.id,
                "step": (ev.biz_step or "").rsplit("-", 1)[-1],
                "time": ev.event_time.isoformat(),
                "recordedBy": ev.org_id,
                "quantity": link.quantity,
                "uom": link.uom,
                "sources": src,
                "destinations": dest,
            }
        )
    return out


def graph(
    session: Session, lot_id: int, direction: str = "both", depth: int = MAX_DEPTH, visible: Any = True
) -> dict[str, Any]:
    """The lots ``depth`` transformations up and/or down from ``lot_id``, the edges between them and
    their custody hand-overs that ``visible`` lets through (see :func:`custody`)."""
    back = walk(session, lot_id, "back", depth) if direction in ("back", "both") else {lot_id: 0}
    fwd = walk(session, lot_id, "forward", depth) if direction in ("forward", "both") else {lot_id: 0}
    distances = {k: -v for k, v in back.items()} | fwd
    ids = list(distances)
    edges = session.exec(
        select(LotLink).where(LotLink.parent_lot_id.in_(ids), LotLink.child_lot_id.in_(ids))  # type: ignore[attr-defined]
    ).all()
    return {
        "root": lot_id,
        "direction": direction,
        "nodes": _nodes(session, distances),
        "edges": [
            {"from": e.parent_lot_id, "to": e.child_lot_id, "eventId": e.event_id, "quantity": e.quantity}
            for e in edges
        ],
        "custody": custody(session, ids, visible),
    }


def origins(session: Session, lot_id: int) -> list[dict[str, Any]]:
    """The plots that fed a lot (through every transformation upstream)."""
    ids = list(walk(session, lot_id, "back"))
    rows = session.exec(
        select(Place, Lot).join(Lot, Lot.origin_place_id == Place.id).where(Lot.id.in_(ids))  # type: ignore[arg-type, union-attr]
    ).all()
    seen: dict[int, dict[str, Any]] = {}
    for place, lot in rows:
        entry = seen.setdefault(
            place.id or 0,
            {"placeId": place.id, "name": place.name, "plantingAreaCode": place.planting_area_code, "lots": []},
        )
        entry["lots"].append(lot.id)
    return list(seen.values())


def downstream_of_place(session: Session, place_id: int) -> dict[str, Any]:
    """Every lot that contains produce harvested on a plot."""
    starts = session.exec(select(Lot.id).where(Lot.origin_place_id == place_id)).all()
    distances: dict[int, int] = {}
    for start in starts:
        for k, v in walk(session, start or 0, "forward").items():
            distances[k] = min(v, distances.get(k, v))
    return {"placeId": place_id, "lots": _nodes(session, distances)}
