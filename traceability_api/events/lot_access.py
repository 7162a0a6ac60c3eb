"""Who may read a lot: its owner, holder or receiver, an authority or auditor, or an
organisation that recorded an event on it before (one step back / one step forward)."""

from __future__ import annotations

from sqlmodel import Session, select

from traceability_api.errors import NotFound
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product
from traceability_api.lots.service import can_read_lot
from traceability_api.parties.service import Principal
from traceability_api.privacy.access import has_grant


def handled_by(session: Session, org_id: int, lot_id: int) -> bool:
    """Whether the organisation ever recorded an event on the lot (it held it once)."""
    return (
        session.exec(
            select(EventLot.id)
            .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
            .where(EventLot.lot_id == lot_id, Event.org_id == org_id)
            .limit(1)
        ).first()
        is not None
    )


def get_lot(session: Session, p: Principal, lot_id: int) -> tuple[Lot, Product]:
    """A lot the principal may read: its owner, holder or receiver, an organisation that handled
    it before (one step back / one step forward), or a member of an authority."""
    lot = session.get(Lot, lot_id)
    if lot is None or not (
        can_read_lot(p, lot) or handled_by(session, p.org_id, lot_id) or has_grant(session, p.org_id, lot_id)
    ):
        raise NotFound(f"lot {lot_id} not found")
    product = session.get(Product, lot.product_id)
    assert product is not None
    return lot, product
