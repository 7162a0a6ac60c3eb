"""Sign-in (double-submit CSRF cookie), sign-out, accepting an invitation, the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.errors import DomainError, NotFound
from traceability_api.workspace import i18n
from traceability_api.workspace.auth import SignInFailed, check_password, end_session, same_token, start_session
from traceability_api.workspace.invites import accept_invite, open_invite
from traceability_api.workspace.messages import from_domain
from traceability_api.workspace.web import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PostDep,
    lang_of,
    render,
    see_other,
    set_cookie,
)

router = APIRouter(prefix="/app", include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]


def _safe_next(raw: str | None) -> str:
    """Only our own pages: no open redirect, and nothing a Location header cannot carry (a CR/LF
    broke the response mid-headers: uvicorn refuses the value after the status was chosen)."""
    if raw and raw.startswith("/app") and not raw.startswith("//") and "\\" not in raw:
        if raw.isascii() and raw.isprintable():
            return raw
    return "/app"


def _form_page(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, template, status, csrf=token, **ctx)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query parameter
    return _form_page(request, "login.html", next=_safe_next(next), username="", errors={})


@router.post("/login")
def login(
    request: Request, session: SessionDep, settings: SettingsDep, username: Text, password: Text,
    csrf: Annotated[str, Form(max_length=100)] = "", next: Annotated[str, Form(max_length=500)] = "/app",  # noqa: A002
) -> Response:  # fmt: skip
    t = i18n.T[lang_of(request)]
    if not same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _form_page(request, "login.html", 403, next=_safe_next(next), username=username,
                          errors={"_form": t["csrf"]})  # fmt: skip
    try:
        login_row = check_password(session, settings, username, password)
    except SignInFailed as exc:
        message = t["locked"] if exc.locked else t["wrong_login"]
        return _form_page(request, "login.html", 401, next=_safe_next(next), username=username,
                          errors={"_form": message})  # fmt: skip
    token = start_session(session, settings, login_row.member_id, request.cookies.get(SESSION_COOKIE))
    response = see_other(_safe_next(next))
    set_cookie(response, request, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/app")
    return response


@router.post("/logout")
def logout(request: Request, page: PostDep, session: SessionDep) -> Response:
    end_session(session, request.cookies.get(SESSION_COOKIE) or "")
    session.commit()
    response = see_other("/app/login")
    response.delete_cookie(SESSION_COOKIE, path="/app")
    return response


@router.get("/invite/{token}")
def invite_form(token: str, request: Request, session: SessionDep) -> Response:
    try:
        inv = open_invite(session, token)
    except NotFound:
        return render(request, "message.html", 404, message=i18n.T[lang_of(request)]["invite_gone"])
    return _form_page(request, "invite.html", invite=inv, token=token, username="", errors={})


@router.post("/invite/{token}")
def invite_accept(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, username: Text, password: Text,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:  # fmt: skip
    lang = lang_of(request)
    try:
        inv = open_invite(session, token)
    except NotFound:
        return render(request, "message.html", 404, message=i18n.T[lang]["invite_gone"])
    if not same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _form_page(request, "invite.html", 403, invite=inv, token=token, username=username,
                          errors={"_form": i18n.T[lang]["csrf"]})  # fmt: skip
    try:
        member_id = accept_invite(session, token, username, password)
    except DomainError as exc:
        session.rollback()
        return _form_page(request, "invite.html", exc.status_code, invite=inv, token=token, username=username,
                          errors=from_domain(exc, lang))  # fmt: skip
    response = see_other("/app")
    set_cookie(response, request, SESSION_COOKIE, start_session(session, settings, member_id, None))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/app")
    return response


@router.get("/lang")
def switch_language(request: Request, to: str = "vi", next: str | None = None) -> Response:  # noqa: A002
    response = see_other(_safe_next(next))
    set_cookie(response, request, LANG_COOKIE, i18n.lang_of(to), max_age=365 * 86400)
    return response
