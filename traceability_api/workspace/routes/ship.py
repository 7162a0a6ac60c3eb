"""Ship a lot we hold to a partner chosen from the list: a shipping ObjectEvent naming the partner
as possessing party, through ``capture_events`` (custody checks holder and quantity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
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
from traceability_api.validation import db_id_of
from traceability_api.workspace import signing, views
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


def _values(lot_id: Opt = "", partner: Opt = "", quantity: Opt = "", visibility: Opt = "public") -> dict[str, str]:
    """The form's fields, declared once for its two posts (prepare and save)."""
    return {"lot_id": lot_id, "partner": partner, "quantity": quantity, "visibility": visibility}


Values = Annotated[dict[str, str], Depends(_values)]


@router.get("/ship")
def ship_form(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _form(request, page, session, {}, {})


def _event(
    request: Request, page: Page, session: SessionDep, runtime: RuntimeDep, v: dict[str, str], when: str
) -> tuple[dict[str, Any] | None, Response | None]:  # fmt: skip
    """The shipping event of the form (at ``when``), or the form again with what is wrong."""
    p = page.user.principal
    lot_id, partner = v["lot_id"], v["partner"]
    lot = session.get(Lot, i) if (i := db_id_of(lot_id)) is not None else None
    if lot is None or lot.holder_org_id != p.org_id:
        return None, _form(request, page, session, v, {"lot": page.t["required"]}, 422)
    dest = session.get(Organisation, i) if (i := db_id_of(partner)) is not None else None
    if dest is None:
        return None, _form(request, page, session, v, {"partner": page.t["required"]}, 422)
    qty, err = parse_quantity(v["quantity"], page.lang, default=lot.quantity_remaining)
    if err:
        return None, _form(request, page, session, v, {"quantity": err}, 422)
    if v["visibility"] not in {x.value for x in Visibility}:
        return None, _form(request, page, session, v, {"visibility": page.t["required"]}, 422)
    product = session.get(Product, lot.product_id)
    me = session.get(Organisation, p.org_id)
    assert product is not None and me is not None
    event = object_event(
        "shipping", runtime.settings.zone, when=when, lot=lot_uri(product.gtin, lot.lot_code), quantity=qty,
        uom=lot.uom, sourceList=[{"type": "possessing_party", "source": party_uri(me)}],
        destinationList=[{"type": "possessing_party", "destination": party_uri(dest)}],
    )  # fmt: skip
    if v["visibility"] != Visibility.public:  # the public may learn the buyer's kind, never who it is
        event |= {VISIBILITY_KEY: v["visibility"], "agri:buyer": {"kind": dest.kind.value}}
    return event, None


@router.post("/ship/prepare")
async def ship_prepare(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values
) -> Response:
    """What the phone signs for this shipment (``workspace/signing.py``); nothing is stored."""
    form = await request.form()
    event, _ = _event(request, page, session, runtime, v, signing.event_time(form, runtime.settings.zone))
    if event is None:
        return signing.refused({"_form": ""})
    return signing.prepared(runtime, page.user.principal, event, form, page.t)  # type: ignore[no-any-return]


@router.post("/ship")
async def ship(request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values) -> Response:
    form = await request.form()
    event, refused = _event(request, page, session, runtime, v, signing.event_time(form, runtime.settings.zone))
    if event is None:
        assert refused is not None
        return refused
    p = page.user.principal
    try:
        event = signing.attach(runtime, p, event, form)
        capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app?done=shipped")
