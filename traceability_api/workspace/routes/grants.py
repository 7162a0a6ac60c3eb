"""Data sharing: the admin lets a partner or an inspector read the organisation's records of a lot
(its non-public steps included) until a date, and revokes a grant; through ``privacy.grants``,
the path ``/api/v1/grants`` takes too."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError
from traceability_api.privacy.grants import GrantCreate, create_grant, grant_json, grants_of, revoke_grant
from traceability_api.validation import DbId
from traceability_api.workspace import views
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=40)]


def _last_day(expires_at: datetime, page: Page) -> str:
    """The last day a grant covers, in the service's time zone: one ending at midnight covers the day before."""
    return (expires_at - timedelta(seconds=1)).astimezone(page.settings.zone).date().isoformat()


def _page(request: Request, page: Page, session: SessionDep, errors: Errors | None = None, status: int = 200,
          v: dict[str, str] | None = None) -> Response:  # fmt: skip
    p = page.user.principal
    given = grants_of(session, p)
    grants = [grant_json(g) | {"until": _last_day(g.expires_at, page)} for g in given]
    lots = [row for row, _ in views.my_lots(session, p)]
    ids = {int(g[k]) for g in grants for k in ("org_id", "grantee_org_id")}  # type: ignore[call-overload]
    names = {o.id: o.name for o in views.organisations(session, ids)}
    lot_names = views.lot_labels(session, {g.lot_id for g in given})
    return render(request, "grants.html", status, page=page, grants=grants, lots=lots, errors=errors or {},
                  v=v or {}, names=names, lot_names=lot_names, partners=views.partners(session, p))  # fmt: skip


@router.get("/grants")
def grants(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _page(request, page, session)


@router.post("/grants")
def add_grant(
    request: Request, page: PostDep, session: SessionDep, lot_id: Opt = "", grantee_org_id: Opt = "", until: Opt = ""
) -> Response:
    """``until`` is a day: the grant lasts to its end in the service's time zone.  Each refusal is
    said next to its field (the domain's ``expires_at`` is the form's ``until``)."""
    v = {"lot_id": lot_id, "grantee_org_id": grantee_org_id, "until": until}
    try:
        day = datetime.fromisoformat(until).date() if until else None
    except ValueError:
        return _page(request, page, session, {"until": page.t["bad_time"]}, 422, v)
    if day is None:
        return _page(request, page, session, {"until": page.t["required"]}, 422, v)
    expires = datetime.combine(day, time(23, 59, 59), page.settings.zone)
    try:
        data = GrantCreate.model_validate({"lot_id": lot_id, "grantee_org_id": grantee_org_id, "expires_at": expires})
    except ValidationError as exc:
        errors = from_validation(exc, page.lang)
        return _page(request, page, session, errors, 422, v)
    try:
        create_grant(session, page.user.principal, data)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _page(request, page, session, from_domain(exc, page.lang), exc.status_code, v)
    return see_other("/app/grants")


@router.post("/grants/{grant_id}/revoke")
def revoke(grant_id: DbId, request: Request, page: PostDep, session: SessionDep) -> Response:
    try:
        revoke_grant(session, page.user.principal, grant_id)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _page(request, page, session, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app/grants")
