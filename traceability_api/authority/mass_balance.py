"""Mass balance: no lot may leave an organisation in larger quantity than it came in, and no
transformation may yield more than its inputs allow (per product ``max_yield``, plus a tolerance
for weighing error; a lot split into lots of its own product may yield what it took).  Either is
the typical sign of relabelled or counterfeit volume."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, select

from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.lots.models import Lot, Product

OUTFLOW_STEPS = (voc.SHIPPING, voc.BIZSTEP + "retail_selling", voc.DESTROYING)


def not_declared_erroneous() -> ColumnElement[bool]:
    """SQL condition on ``Event``: no errorDeclaration names it (a declared event stays stored, but
    what it moved was replaced by its corrective events, which count instead)."""
    return ~exists().where(col(EventCorrection.event_id) == Event.id)


def counted_outflow() -> ColumnElement[bool]:
    """SQL condition on an (``Event``, ``EventLot``) row: it takes quantity out of the lot (a
    transformation input, a shipment, a sale, a destruction) and its event stands.  The one rule of
    the mass balance report, the console's figure and its anomaly feed."""
    moves_out = or_(col(EventLot.role) == "input", col(Event.biz_step).in_(OUTFLOW_STEPS))
    return and_(moves_out, not_declared_erroneous())


def mass_balance(
    session: Session, *, tolerance: float = 0.02, org_id: int | None = None, visible: Any = True
) -> dict[str, Any]:
    """Every lot's outflows by organisation and kind, flagged when over its quantity or its inputs'
    yield.  ``org_id``: only the lots that organisation owns, holds or moved out; ``visible``: an SQL
    condition on ``Event`` (the reader's ``events.service.visible_to``), so that an organisation's
    report counts only the events it may read (never another one's private sale or shipment)."""
    outflow, kinds = _outflows(session, visible)
    lots = {
        lot.id: (lot, p)
        for lot, p in session.exec(select(Lot, Product).join(Product, Product.id == Lot.product_id)).all()  # type: ignore[arg-type]
    }  # type: ignore[arg-type]
    reasons = _yield_problems(session, lots, tolerance, visible)
    report = []
    for lid, (lot, product) in lots.items():
        if (
            org_id is not None
            and org_id not in (lot.owner_org_id, lot.holder_org_id)
            and org_id not in outflow.get(lid, {})  # type: ignore[arg-type]
        ):
            continue
        for org, qty in outflow.get(lid, {}).items():  # type: ignore[arg-type]
            if qty > lot.quantity * (1 + tolerance) + 1e-9:
                reasons[lid].append(f"organisation {org} moved {qty:g} {lot.uom} out of a lot of {lot.quantity:g}")  # type: ignore[index]
        report.append(
            {
                "lotId": lid,
                "uri": lot_uri(product.gtin, lot.lot_code),
                "product": product.name,
                "quantity": lot.quantity,
                "uom": lot.uom,
                "outflows": {str(k): v for k, v in outflow.get(lid, {}).items()},  # type: ignore[arg-type]
                "byKind": dict(kinds.get(lid, {})),  # type: ignore[arg-type]
                "flagged": bool(reasons.get(lid)),  # type: ignore[arg-type]
                "reasons": reasons.get(lid, []),  # type: ignore[arg-type]
            }
        )
    return {"tolerance": tolerance, "lots": report, "flagged": sum(r["flagged"] for r in report)}


def _outflows(session: Session, visible: Any) -> tuple[dict[int, dict[int, float]], dict[int, dict[str, float]]]:
    """Outflows per (lot, recording organisation): shipments, sales, destruction, transformation
    inputs; and per (lot, kind of outflow)."""
    out_rows = session.exec(
        select(EventLot.lot_id, Event.org_id, Event.biz_step, Event.event_type, func.sum(EventLot.quantity))  # type: ignore[call-overload]
        .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
        .where(counted_outflow(), visible)
        .group_by(EventLot.lot_id, Event.org_id, Event.biz_step, Event.event_type)
    ).all()
    outflow: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    kinds: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for lot_id, org, step, etype, qty in out_rows:
        if qty:
            outflow[lot_id][org] += float(qty)
            kind = "transformed" if etype == "TransformationEvent" else (step or "").rsplit("-", 1)[-1]
            kinds[lot_id][kind] += float(qty)
    return outflow, kinds


def allowed_output(total_in: float, max_yield: float, tolerance: float = 0.02) -> float:
    """The most a transformation may yield of a product from ``total_in`` of inputs (the one rule,
    used by the audit here and shown by the workspace before saving)."""
    return total_in * max_yield * (1 + tolerance)


def _yield_problems(
    session: Session, lots: dict[Any, tuple[Lot, Product]], tolerance: float, visible: Any
) -> dict[int, list[str]]:
    """Output lots of transformations that yield more than their inputs allow."""
    made = session.exec(
        select(EventLot.event_id, EventLot.lot_id, EventLot.role, EventLot.quantity)
        .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
        .where(Event.event_type == "TransformationEvent", not_declared_erroneous(), visible)
    ).all()
    by_event: dict[int, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for event_id, lot_id, role, qty in made:
        by_event[event_id][role].append((lot_id, float(qty or 0)))
    reasons: dict[int, list[str]] = defaultdict(list)
    for event_id, roles in by_event.items():
        total_in = sum(q for _, q in roles.get("input", []))
        same = {lots[lid][1].id for lid, _ in roles.get("input", [])}  # a lot split or repacked in its product
        for lot_id, q in roles.get("output", []):
            _, product = lots[lot_id]
            most = max(product.max_yield, 1.0) if product.id in same else product.max_yield
            allowed = allowed_output(total_in, most, tolerance)
            if q > allowed + 1e-9:
                reasons[lot_id].append(
                    f"transformation {event_id} yields {q:g} from {total_in:g} of inputs: more than "
                    f"{most:g} x input (+{tolerance:.0%}) allowed for {product.name}"
                )
    return reasons
