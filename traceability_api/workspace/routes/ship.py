"""Ship a lot we hold to a partner chosen from the list: a shipping ObjectEvent naming the partner
as possessing party, through ``capture_events`` (custody checks holder and quantity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import party_uri
from traceability_api.privacy.models import Visibility
from traceability_api.privacy.visibility import VISIBILITY_KEY
from traceability_api.workspace import views
from traceability_api.workspace.messages import Errors, from_domain
from traceability_api.workspace.numbers import parse_quantity
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=100)]


def _form(request: Request, page: Page, session: SessionDep, v: dict[str, Any], errors: Errors,
          status: int = 200) -> Response:  # fmt: skip
    p = page.user.principal
    return render(request, "ship.html", status, page=page, v=v, errors=errors, lots=views.held_lots(session, p),
                  partners=views.partners(session, p))  # fmt: skip


@router.get("/ship")
def ship_form(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _form(request, page, session, {}, {})


@router.post("/ship")
def ship(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, lot_id: Opt = "", partner: Opt = "",
    quantity: Opt = "", visibility: Opt = "public",
) -> Response:  # fmt: skip
    v = {"lot_id": lot_id, "partner": partner, "quantity": quantity, "visibility": visibility}
    p = page.user.principal
    lot = session.get(Lot, int(lot_id)) if lot_id.isdigit() and len(lot_id) < 12 else None
    if lot is None or lot.holder_org_id != p.org_id:
        return _form(request, page, session, v, {"lot": page.t["required"]}, 422)
    dest = session.get(Organisation, int(partner)) if partner.isdigit() and len(partner) < 12 else None
    if dest is None:
        return _form(request, page, session, v, {"partner": page.t["required"]}, 422)
    qty, err = parse_quantity(quantity, page.lang, default=lot.quantity_remaining)
    if err:
        return _form(request, page, session, v, {"quantity": err}, 422)
    if visibility not in {x.value for x in Visibility}:
        return _form(request, page, session, v, {"visibility": page.t["required"]}, 422)
    product = session.get(Product, lot.product_id)
    me = session.get(Organisation, p.org_id)
    assert product is not None and me is not None
    event = object_event(
        "shipping", runtime.settings.zone, lot=lot_uri(product.gtin, lot.lot_code), quantity=qty, uom=lot.uom,
        sourceList=[{"type": "possessing_party", "source": party_uri(me)}],
        destinationList=[{"type": "possessing_party", "destination": party_uri(dest)}],
    )  # fmt: skip
    if visibility != Visibility.public:  # the public may learn the buyer's kind, never who it is
        event |= {VISIBILITY_KEY: visibility, "agri:buyer": {"kind": dest.kind.value}}
    try:
        capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app?done=shipped")
