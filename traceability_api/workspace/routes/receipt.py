"""One-tap receipt of a shipment on its way to us: a receiving ObjectEvent through
``capture_events`` (custody decides whether we may)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import party_uri
from traceability_api.validation import DbId
from traceability_api.workspace import views
from traceability_api.workspace.i18n import T
from traceability_api.workspace.messages import from_domain
from traceability_api.workspace.web import PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)


@router.post("/receive/{lot_id}")
def receive(lot_id: DbId, request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    p = page.user.principal
    lot = session.get(Lot, lot_id)
    product = session.get(Product, lot.product_id) if lot else None
    me = session.get(Organisation, p.org_id)
    if lot is None or product is None or me is None or lot.in_transit_to_org_id != p.org_id:
        return render(request, "message.html", 404, page=page, message=T[page.lang]["not_found"])
    event = object_event(
        "receiving", runtime.settings.zone, lot=lot_uri(product.gtin, lot.lot_code),
        destinationList=[{"type": "owning_party", "destination": party_uri(me)}],
    )  # fmt: skip
    try:
        capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
        session.commit()
    except DomainError as exc:
        session.rollback()
        h = views.home(session, p)
        return render(request, "home.html", exc.status_code, page=page, home=h, phi=[],
                      errors=from_domain(exc, page.lang))  # fmt: skip
    return see_other("/app?done=receipt_done")
