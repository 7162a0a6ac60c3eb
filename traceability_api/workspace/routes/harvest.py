"""Harvest: create the lot (lot code suggested) through ``record_harvest``, the API's own path,
with its pre-harvest-interval check; then the label preview and the PDF label sheet."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session, func, select

from labels import qr
from labels.digital_link import build
from traceability_api.consumer.labels_router import LabelRequest, label_fields, labels
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError
from traceability_api.events.harvest import HarvestLot, harvest_event, record_harvest
from traceability_api.events.lot_access import get_lot
from traceability_api.lots.models import UOMS, Lot
from traceability_api.parties.service import Principal
from traceability_api.validation import DbId
from traceability_api.workspace import signing, views
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.numbers import plain
from traceability_api.workspace.web import Page, PageDep, PostDep, not_found, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=300)]


def suggest_lot_code(session: Session, p: Principal, today: datetime) -> str:
    """``L<yymmdd>-<n>``: the day and the organisation's running count of lots (editable)."""
    n = session.exec(select(func.count()).select_from(Lot).where(Lot.owner_org_id == p.org_id)).one()
    return f"L{today:%y%m%d}-{int(n) + 1}"


def _form(request: Request, page: Page, session: Session, v: dict[str, Any], errors: Errors,
          status: int = 200) -> Response:  # fmt: skip
    p = page.user.principal
    return render(request, "harvest.html", status, page=page, v=v, errors=errors, uoms=UOMS,
                  plots=views.plots(session, p), products=views.products(session, p))  # fmt: skip


@router.get("/harvest")
def harvest_form(request: Request, page: PageDep, session: SessionDep) -> Response:
    today = datetime.now(page.settings.zone)
    v = {"lot_code": suggest_lot_code(session, page.user.principal, today), "harvest_date": f"{today:%Y-%m-%d}"}
    return _form(request, page, session, v, {})


def _data(
    request: Request, page: Page, session: Session, v: dict[str, str], when: str
) -> tuple[HarvestLot | None, Response | None]:  # fmt: skip
    try:
        typed = {k: plain(x, page.lang) if k == "quantity" else x for k, x in v.items() if x}
        return HarvestLot.model_validate(typed | {"event_time": when}), None
    except ValidationError as exc:
        return None, _form(request, page, session, v, from_validation(exc, page.lang), 422)


def _values(
    gtin: Opt = "", plot_id: Opt = "", lot_code: Opt = "", quantity: Opt = "", uom: Opt = "KGM", harvest_date: Opt = "",
    variety: Opt = "", phi_override_reason: Opt = "", visibility: Opt = "public",
) -> dict[str, str]:  # fmt: skip
    """The form's fields, declared once for its two posts (prepare and save)."""
    return {"gtin": gtin, "plot_id": plot_id, "lot_code": lot_code.strip(), "quantity": quantity.strip(),
            "uom": uom, "harvest_date": harvest_date, "variety": variety,
            "phi_override_reason": phi_override_reason, "visibility": visibility}  # fmt: skip


Values = Annotated[dict[str, str], Depends(_values)]


@router.post("/harvest/prepare")
async def harvest_prepare(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values
) -> Response:
    """What the phone signs for this harvest (``workspace/signing.py``); nothing is stored."""
    form = await request.form()
    data, _ = _data(request, page, session, v, signing.event_time(form, runtime.settings.zone))
    if data is None:
        return signing.refused({"_form": ""})
    try:
        event = harvest_event(session, page.user.principal, data, runtime.settings)
    except DomainError:
        session.rollback()
        return signing.refused({"_form": ""})  # the form's own post says what is wrong
    return signing.prepared(runtime, page.user.principal, event, form, page.t)  # type: ignore[no-any-return]


@router.post("/harvest")
async def harvest_save(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, v: Values
) -> Response:
    form = await request.form()
    data, refused = _data(request, page, session, v, signing.event_time(form, runtime.settings.zone))
    if data is None:
        assert refused is not None
        return refused
    p = page.user.principal
    try:
        envelope = signing.envelope(runtime, p, form)
        lot, _ = record_harvest(session, p, data, runtime.settings, checks=runtime.capture_checks, signature=envelope)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    return see_other(f"/app/lots/{lot.id}/label")


@router.get("/lots/{lot_id}/label")
def label_preview(lot_id: DbId, request: Request, page: PageDep, session: SessionDep) -> Response:
    try:
        lot, product = get_lot(session, page.user.principal, lot_id)
    except DomainError:
        return not_found(request, page)
    fields, _ = label_fields(session, lot, product)
    uri = build(product.gtin, lot.lot_code).uri(page.settings.public_base_url)
    qr_src = "data:image/svg+xml;base64," + base64.b64encode(qr.svg(uri).encode()).decode()
    return render(request, "label.html", page=page, lot=lot, f=fields, qr_src=qr_src, uri=uri)


@router.post("/lots/{lot_id}/label.pdf")
def label_pdf(
    lot_id: DbId, request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep,
    copies: Annotated[int, Form(ge=1, le=5000)] = 24,
) -> Response:  # fmt: skip
    try:
        return labels(lot_id, LabelRequest(copies=copies), page.user.principal, session, runtime)
    except DomainError as exc:
        session.rollback()
        message = from_domain(exc, page.lang).popitem()[1]
        return render(request, "message.html", exc.status_code, page=page, message=message)
