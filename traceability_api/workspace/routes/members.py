"""Members: the admin invites a person with a role by a one-time link (shown once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import select

from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError, Invalid
from traceability_api.parties.kinds import Role
from traceability_api.parties.models import Member
from traceability_api.parties.service import deactivate_member, set_role
from traceability_api.validation import DbId
from traceability_api.workspace.invites import invite_by_admin, invite_url
from traceability_api.workspace.messages import Errors, from_domain
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)


def _page(request: Request, page: Page, session: SessionDep, status: int = 200, link: str | None = None,
          errors: Errors | None = None) -> Response:  # fmt: skip
    q = select(Member).where(Member.org_id == page.user.principal.org_id).order_by(Member.id)  # type: ignore[arg-type]
    members = session.exec(q).all()
    return render(request, "members.html", status, page=page, members=members, roles=[r.value for r in Role],
                  link=link, errors=errors or {})  # fmt: skip


@router.get("/members")
def members(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _page(request, page, session)


@router.post("/members/{member_id}")
def change_member(
    member_id: DbId, request: Request, page: PostDep, session: SessionDep,
    role: Annotated[str, Form(max_length=20)] = "", action: Annotated[str, Form(max_length=20)] = "role",
) -> Response:  # fmt: skip
    """Set a member's role, or deactivate them (their API keys revoked, their sign-in refused at once)."""
    p = page.user.principal
    try:
        if action == "deactivate":
            deactivate_member(session, p, member_id)
        else:
            if role not in {r.value for r in Role}:
                raise Invalid(f"unknown role {role!r}")
            set_role(session, p, member_id, Role(role))
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _page(request, page, session, exc.status_code, errors=from_domain(exc, page.lang))
    return see_other("/app/members")


@router.post("/members")
def invite(
    request: Request, page: PostDep, session: SessionDep, name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "recorder",
) -> Response:  # fmt: skip
    if not name.strip():
        return _page(request, page, session, 422, errors={"name": page.t["required"]})
    try:
        token = invite_by_admin(session, page.settings, page.user.principal, name, role)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _page(request, page, session, exc.status_code, errors=from_domain(exc, page.lang))
    return _page(request, page, session, link=invite_url(page.settings, token))
