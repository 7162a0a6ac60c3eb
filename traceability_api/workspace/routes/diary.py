"""Farm diary (nhật ký canh tác): plot, activity, inputs with dose and pre-harvest interval, and a
photo from the phone's camera.  Stored by the API's own path: ``attachments.store``, then
``diary_event`` and ``capture_events`` with the runtime's capture checks (banned substances...)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.evidence import attachments
from traceability_api.evidence.diary import DiaryEntry, diary_event
from traceability_api.validation import db_id_of
from traceability_api.workspace import signing, views
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.numbers import plain
from traceability_api.workspace.web import Page, PostDep, form_idempotency_key, page_view, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
FIELDS = ("activity", "time", "season", "product", "active_ingredient", "dose", "dose_unit", "phi_days",
          "supplier_lot", "area_ha", "note", "visibility")  # fmt: skip
Opt = Annotated[str, Form(max_length=1000)]
DECIMALS = ("dose", "area_ha")  # typed as a Vietnamese phone writes them ("1,5"): ``numbers.plain``


def _form(request: Request, page: Page, session: SessionDep, values: dict[str, Any], errors: Errors,
          status: int = 200) -> Response:  # fmt: skip
    plots = views.plots(session, page.user.principal)
    return render(request, "diary.html", status, page=page, plots=plots, v=values, errors=errors)


@router.get("/diary")
async def diary_form(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await page_view(request, session, settings, partial(_new_entry, request, session))


def _new_entry(request: Request, session: Session, page: Page) -> Response:
    now = datetime.now(page.settings.zone).strftime("%Y-%m-%dT%H:%M")
    return _form(request, page, session, {"time": now, "idem": secrets.token_urlsafe(16)}, {})


@dataclass
class Posted:
    """The fields both posts (prepare and save) declare; the others are read from the form by ``FIELDS``."""

    photo: UploadFile | None
    plot_id: str
    idem: str


def _posted(photo: Annotated[UploadFile | None, File()] = None, plot_id: Opt = "", idem: Opt = "") -> Posted:
    return Posted(photo, plot_id, idem)


PostedDep = Annotated[Posted, Depends(_posted)]


async def _event(
    request: Request, page: Page, session: SessionDep, runtime: RuntimeDep, posted: Posted
) -> tuple[dict[str, Any], dict[str, Any] | None, Errors, int]:  # fmt: skip
    """The form's values and its event (or the errors and status), in the caller's transaction."""
    photo, plot_id, idem = posted.photo, posted.plot_id, posted.idem
    form = await request.form()
    values = {f: str(form.get(f) or "").strip() for f in FIELDS} | {"plot_id": plot_id, "idem": idem}
    p = page.user.principal
    typed = {k: plain(v, page.lang) if k in DECIMALS else v for k, v in values.items() if v and k != "plot_id"}
    try:
        entry = DiaryEntry.model_validate(typed)
    except ValidationError as exc:
        return values, None, from_validation(exc, page.lang), 422
    if (place_id := db_id_of(plot_id)) is None:
        return values, None, {"plot_id": page.t["required"]}, 422
    try:
        if photo is not None and photo.filename:
            data = await photo.read(runtime.settings.attachment_max_bytes + 1)
            row = attachments.store(session, p, runtime.settings, data)
            entry = entry.model_copy(update={"attachments": [row.sha256]})
        return values, diary_event(session, p, place_id, entry, runtime.settings.zone), {}, 200
    except DomainError as exc:
        session.rollback()
        field = "photo" if "attachment" in exc.message or "file" in exc.message else "_form"
        return values, None, from_domain(exc, page.lang, field), exc.status_code


@router.post("/diary/prepare")
async def diary_prepare(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, posted: PostedDep
) -> Response:
    """What the phone signs for this entry (``workspace/signing.py``); nothing is stored."""
    _, event, errors, _ = await _event(request, page, session, runtime, posted)
    session.rollback()
    if event is None:
        return signing.refused(errors)
    return signing.prepared(runtime, page.user.principal, event, await request.form(), page.t)  # type: ignore[no-any-return]


@router.post("/diary")
async def diary_save(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, posted: PostedDep
) -> Response:
    values, event, errors, status = await _event(request, page, session, runtime, posted)
    if event is None:
        return _form(request, page, session, values, errors, status)
    photo = posted.photo.filename if posted.photo is not None else None
    key = form_idempotency_key("diary", posted.idem, values | {"photo": photo})
    p = page.user.principal
    try:
        event = signing.attach(runtime, p, event, await request.form())
        capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks,
                       idempotency_key=key)  # fmt: skip
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, values, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app?done=saved")
