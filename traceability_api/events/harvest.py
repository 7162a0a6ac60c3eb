"""Registering a harvest lot: recorded as an EPCIS commissioning ObjectEvent (CBV has no
"harvesting" step), with the plot, harvest date and variety as lot master data (ilmd)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.consensus.signatures import SIGNATURE_FIELD
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.lots.models import LOT_CODE_RE, Lot, Product
from traceability_api.lots.service import product_by_gtin
from traceability_api.parties.service import Principal
from traceability_api.places.service import get_place, place_uri
from traceability_api.privacy.models import Visibility
from traceability_api.privacy.visibility import VISIBILITY_KEY
from traceability_api.validation import DbId


class HarvestLot(BaseModel):
    """Register a harvest lot: recorded as an EPCIS commissioning ObjectEvent."""

    gtin: str = Field(pattern=r"^\d{14}$")
    lot_code: str = Field(pattern=LOT_CODE_RE)
    quantity: float = Field(gt=0, le=1e9)
    uom: str | None = None
    plot_id: DbId | None = None
    harvest_date: date | None = None
    variety: str | None = Field(default=None, max_length=100)
    event_time: str | None = Field(default=None, description="ISO 8601 with zone; default now")
    visibility: Visibility = Field(
        default=Visibility.public,
        description="public; partners (custody chain, authorities); private (yours, authorities')",
    )
    phi_override_reason: str | None = Field(
        default=None, max_length=300, description="admin only: harvest inside a pre-harvest interval, flagged"
    )


def harvest_event(session: Session, p: Principal, data: HarvestLot, settings: Settings) -> dict[str, Any]:
    event = object_event(
        "commissioning", settings.zone, when=data.event_time, action="ADD", disposition="active",
        lot=lot_uri(data.gtin, data.lot_code), quantity=data.quantity, uom=data.uom,
    )  # fmt: skip
    ilmd: dict[str, Any] = {}
    if data.plot_id is not None:
        plot = get_place(session, p, data.plot_id)
        ilmd[f"{voc.AGRI_PREFIX}:plot"] = place_uri(plot)
        event["bizLocation"] = {"id": place_uri(plot)}
    if data.harvest_date:
        ilmd[f"{voc.AGRI_PREFIX}:harvestDate"] = data.harvest_date.isoformat()
    if data.variety:
        ilmd[f"{voc.AGRI_PREFIX}:variety"] = data.variety
    if data.phi_override_reason:
        # who approved it is in the write log; the event (public in proof bundles) holds no personal data
        ilmd[f"{voc.AGRI_PREFIX}:phiOverride"] = {"reason": data.phi_override_reason}
    if ilmd:
        event["ilmd"] = ilmd
    if data.visibility != Visibility.public:
        event[VISIBILITY_KEY] = data.visibility.value
    return event


def record_harvest(
    session: Session, p: Principal, data: HarvestLot, settings: Settings, *, checks: Sequence[EventCheck],
    signature: dict[str, Any] | None = None,
) -> tuple[Lot, Product]:  # fmt: skip
    """Capture the harvest's commissioning event (which creates the lot) and return the lot.
    ``signature``: the event's envelope, made by its author beforehand (capture verifies it)."""
    event = harvest_event(session, p, data, settings)
    if signature is not None:
        event[SIGNATURE_FIELD] = signature
    capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks)
    product = product_by_gtin(session, data.gtin)
    assert product is not None
    lot = session.exec(select(Lot).where(Lot.product_id == product.id, Lot.lot_code == data.lot_code)).one()
    return lot, product
