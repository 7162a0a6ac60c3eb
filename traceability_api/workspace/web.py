"""The workspace's plumbing: cookies, the signed-in member of a request, CSRF, and rendering a
page with its security headers (strict CSP: scripts and styles only from our own files)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from traceability_api.config import Settings
from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.workspace import i18n
from traceability_api.workspace.auth import SignedIn, same_token, signed_in

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SESSION_COOKIE = "agt_ws"
LOGIN_CSRF_COOKIE = "agt_ws_csrf"
LANG_COOKIE = "agt_lang"
IDEM_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")  # the hidden ``idem`` of a form, one per form shown
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """No live session: the page redirects to the sign-in form."""


class CsrfRefused(Exception):
    """A POST without the session's (or the sign-in page's) CSRF token."""


class FormRefused(Exception):
    """A POSTed form field no screen may read: a text holding NUL (SQLite would store it, PostgreSQL
    refuse it), as the API refuses NUL in a JSON body."""


@dataclass(frozen=True)
class Page:
    """What every page handler gets: who is signed in, the language, the settings."""

    user: SignedIn
    lang: str
    settings: Settings

    @property
    def t(self) -> dict[str, str]:
        return i18n.T[self.lang]


def lang_of(request: Request) -> str:
    return i18n.lang_of(request.cookies.get(LANG_COOKIE))


def _page(request: Request, session: SessionDep, settings: SettingsDep) -> Page:
    user = signed_in(session, request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise SignInRequired()
    request.state.principal = user.principal  # for the write log, as with API keys
    return Page(user, lang_of(request), settings)


async def _posted(request: Request, page: Annotated[Page, Depends(_page)]) -> Page:
    form = await request.form()
    if not same_token(str(form.get("csrf") or ""), page.user.csrf):
        raise CsrfRefused()
    if any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items()):
        raise FormRefused()
    return page


PageDep = Annotated[Page, Depends(_page)]
PostDep = Annotated[Page, Depends(_posted)]  # a POST from a signed-in member, CSRF checked


async def page_view(
    request: Request, session: Session, settings: Settings, view: Callable[[Page], Response]
) -> Response:
    """A read page's whole work in one worker-thread hop: who is signed in, the page's queries and
    rendering, and the end of the session (its rollback).  As dependencies and a sync handler these
    were three hops (``_page``, the handler, closing the session), each a thread wake-up that waits
    for the GIL behind the event loop: under 20 concurrent users most of a page's time.  The pages
    only read, each query on its own (autocommit): no BEGIN and ROLLBACK round trips, which were a
    third of a home page's time waiting for PostgreSQL under load.  A part that needs a transaction
    (a server-side cursor) opens a session of its own."""

    def work() -> Response:
        try:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return view(_page(request, session, settings))
        finally:
            session.close()

    return await run_in_threadpool(work)


@lru_cache
def env() -> Environment:
    e = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    e.globals["asset"] = asset
    e.globals["activities"] = i18n.ACTIVITIES
    e.filters["num"] = i18n.number
    e.filters["unit"] = i18n.unit  # {{ code|unit(lang) }}: KGM -> kg
    e.filters["qty"] = i18n.quantity  # {{ n|qty(code, lang) }}: 28.000 kg
    e.filters["day"] = i18n.day  # {{ date|day(lang) }}: 05/02/2025
    return e


@lru_cache
def asset(name: str) -> str:
    """A static file's URL with its content hash (cached for a year, changed when it changes)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/app/static/{name}?v={digest}"


def tile_origin(settings: Settings) -> str | None:
    """The map tile server's origin (scheme://host[:port]), allowed as an image source, if one is set."""
    m = re.match(r"^https://[^/{}]+", settings.workspace_map_tiles)
    return m.group(0) if m else None


def render(
    request: Request, template: str, status: int = 200, page: Page | None = None,
    environment: Environment | None = None, **ctx: Any,
) -> HTMLResponse:  # fmt: skip
    """A page with the security headers; ``environment`` lets the console render its own templates
    (which extend the workspace's base) with the same headers and cookies."""
    lang = page.lang if page else lang_of(request)
    base = {"t": i18n.T[lang], "lang": lang, "user": page.user if page else None, "path": request.url.path}
    html = (environment or env()).get_template(template).render(base | ctx)
    headers = HEADERS
    origin = tile_origin(page.settings) if page else None
    if origin:
        headers = HEADERS | {"Content-Security-Policy": CSP.replace("img-src 'self'", f"img-src 'self' {origin}")}
    return HTMLResponse(html, status_code=status, headers=headers)


def from_a_person(request: Request) -> bool:
    """A person's browser on /app: a page asked for (``Accept: text/html``), or htmx's boosted
    form or link (it sends ``Accept: */*`` and ``HX-Request``, and swaps what comes back into the
    page: a JSON refusal replaced the whole screen, and what was typed, with English)."""
    if not request.url.path.startswith("/app"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request") == "true"


def bad_request_page(request: Request) -> HTMLResponse:
    """A malformed address or form reached a page (e.g. a letter where a number belongs): 422."""
    return render(request, "message.html", 422, message=i18n.T[lang_of(request)]["bad_request"])


def too_large_page(scope: MutableMapping[str, Any], limit: int) -> HTMLResponse | None:
    """The body-size refusal (413, before any route) for a person's browser on /app: a page in
    their language saying how large a file may be; None for anyone else (they get the JSON)."""
    request = Request(scope)
    if not from_a_person(request):
        return None
    mb = f"{limit / 2**20:.0f}"
    return render(request, "message.html", 413, message=i18n.T[lang_of(request)]["body_too_large"].format(mb=mb))


def not_found(request: Request, page: Page) -> HTMLResponse:
    """Another organisation's page, or none: one answer, no hint which."""
    return render(request, "message.html", 404, page=page, message=page.t["not_found"])


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/app", httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def form_idempotency_key(screen: str, idem: str, said: Mapping[str, object]) -> str | None:
    """The Idempotency-Key of a form's post (one per form shown, its hidden ``idem``, and what the
    form ``said``): a double tap on a slow network, or the browser resending, stores one entry.  The
    same form sent again saying something else is another entry: Back after a save shows the page
    again from htmx's history, with its ``idem``, and the next entry recorded there was refused
    ("eventID ... already used for a different event").  None for a malformed ``idem``."""
    if not IDEM_RE.fullmatch(idem):
        return None
    digest = hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"ws-{screen}-{idem}-{digest}"


def see_other(url: str) -> Response:
    return Response(status_code=303, headers={"Location": url, "Cache-Control": "no-store"})
