"""Ship a lot we hold to a partner chosen from the list: a shipping ObjectEvent naming the partner
as possessing party, through ``capture_events`` (custody checks holder and quantity).  Part of a
lot is split off into a new lot first (``events/split.py``), in the same transaction; the page
after says so and links to the new lot's label."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.events.custody import is_part
from traceability_api.events.split import split_child, split_event, split_shipped
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import party_uri
from traceability_api.privacy.models import Visibility
from traceability_api.privacy.visibility import VISIBILITY_KEY
from traceability_api.validation import DbId, db_id_of
from traceability_api.workspace import i18n, signing, views
from traceability_api.workspace.messages import Errors, from_domain
from traceability_api.workspace.numbers import parse_quantity
from traceability_api.workspace.web import Page, PageDep, PostDep, not_found, render, see_other

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


def _events(
    request: Request, page: Page, session: SessionDep, runtime: RuntimeDep, v: dict[str, str], when: str
) -> tuple[list[dict[str, Any]], Response | None]:  # fmt: skip
    """The events of the form (at ``when``), the shipment last, or the form again with what is wrong.
    Less than the lot's remaining quantity: first the split of that part into a new lot
    (``events/split.py``), then the shipment of the new lot (a shipment moves a whole lot)."""
    p = page.user.principal
    lot_id, partner = v["lot_id"], v["partner"]
    lot = session.get(Lot, i) if (i := db_id_of(lot_id)) is not None else None
    if lot is None or lot.holder_org_id != p.org_id:
        return [], _form(request, page, session, v, {"lot": page.t["required"]}, 422)
    dest = session.get(Organisation, i) if (i := db_id_of(partner)) is not None else None
    if dest is None:
        return [], _form(request, page, session, v, {"partner": page.t["required"]}, 422)
    qty, err = parse_quantity(v["quantity"], page.lang, default=lot.quantity_remaining)
    if err:
        return [], _form(request, page, session, v, {"quantity": err}, 422)
    if v["visibility"] not in {x.value for x in Visibility}:
        return [], _form(request, page, session, v, {"visibility": page.t["required"]}, 422)
    product = session.get(Product, lot.product_id)
    me = session.get(Organisation, p.org_id)
    assert product is not None and me is not None
    private: dict[str, Any] = {}
    if v["visibility"] != Visibility.public:
        private = {VISIBILITY_KEY: v["visibility"]}
    events, code = [], lot.lot_code
    if is_part(qty, lot):
        code, split = split_event(session, lot, product, qty, runtime.settings.zone, when=when, **private)
        events.append(split)
    event = object_event(
        "shipping", runtime.settings.zone, when=when, lot=lot_uri(product.gtin, code), quantity=qty,
        uom=lot.uom, sourceList=[{"type": "possessing_party", "source": party_uri(me)}],
        destinationList=[{"type": "possessing_party", "destination": party_uri(dest)}],
    )  # fmt: skip
    if private:  # the public may learn the buyer's kind, never who it is
        event |= private | {"agri:buyer": {"kind": dest.kind.value}}
    return [*events, event], None


@router.post("/ship/prepare")
async def ship_prepare(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values
) -> Response:
    """What the phone signs for this shipment (``workspace/signing.py``): the shipping event (of the
    new lot, for part of a lot; its split is signed by the organisation's custodial key, if any);
    nothing is stored."""
    form = await request.form()
    events, _ = _events(request, page, session, runtime, v, signing.event_time(form, runtime.settings.zone))
    if not events:
        return signing.refused({"_form": ""})
    return signing.prepared(runtime, page.user.principal, events[-1], form, page.t)  # type: ignore[no-any-return]


@router.post("/ship")
async def ship(request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values) -> Response:
    form = await request.form()
    events, refused = _events(request, page, session, runtime, v, signing.event_time(form, runtime.settings.zone))
    if not events:
        assert refused is not None
        return refused
    p = page.user.principal
    try:
        events[-1] = signing.attach(runtime, p, events[-1], form)
        stored = capture_events(session, p, events, DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    if len(events) == 1:
        return see_other("/app?done=shipped")
    return see_other(f"/app/ship/split/{split_child(session, stored[0])}")


@router.get("/ship/split/{lot_id}")
def split_done(lot_id: DbId, request: Request, page: PageDep, session: SessionDep) -> Response:
    """After shipping part of a lot: what was split off, to whom it went, what the lot keeps; the
    new lot's label one tap away."""
    found = split_shipped(session, page.user.principal, lot_id)
    if found is None:
        return not_found(request, page)
    child, parent, partner = found
    lang = page.lang
    said = page.t["split_done"].format(
        qty=i18n.quantity(child.quantity, child.uom, lang), child=child.lot_code, partner=partner,
        parent=parent.lot_code, left=i18n.quantity(parent.quantity_remaining, parent.uom, lang),
    )  # fmt: skip
    return render(request, "ship_split.html", page=page, said=said, child=child, parent=parent)
