"""Codes that are not registered: the 404 page that warns a shopper the product may be counterfeit,
the report form behind it, and the reports for the brand owner and the authorities."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, func, select
from starlette.concurrency import run_in_threadpool

from consumer_site import render
from consumer_site.i18n import LANGS
from consumer_site.viewmodel import UnknownCode
from labels.digital_link import DigitalLinkError, parse
from traceability_api.config import Settings
from traceability_api.consumer.models import CounterfeitReport
from traceability_api.consumer.scans import client_hash
from traceability_api.consumer.secrets import label_secret
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError, Forbidden, Invalid
from traceability_api.lots.service import product_by_gtin
from traceability_api.parties.deps import PrincipalDep
from traceability_api.timeutil import utcnow

router = APIRouter(tags=["resolver and consumer pages"])
REPORT_PATH = "/report-code"
MAX_BODY = 4096  # bytes of a report form; its fields are short
TOKEN_TTL_S = 3600
PER_CLIENT_PER_HOUR = 5
ALL_PER_HOUR = 500  # a flood from many addresses still cannot fill the table


class TooMany(DomainError):
    status_code = 429


class TooLarge(DomainError):
    status_code = 413


def _mac(secret: bytes, code: str, client: str, issued: int) -> str:
    msg = f"report-form:{code}:{client}:{issued}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:32]


def form_token(secret: bytes, code: str, client: str, now: float | None = None) -> str:
    """A token tied to the code, the client and the hour it was issued: a form posted from
    elsewhere (cross-site) or replayed later carries none that fits."""
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_mac(secret, code, client, issued)}"


def token_ok(secret: bytes, code: str, client: str, token: str) -> bool:
    issued_s, _, mac = token.partition(".")
    if not (issued_s.isascii() and issued_s.isdigit() and len(issued_s) < 20):  # '²'.isdigit(), int('²') fails
        return False
    if not 0 <= time.time() - int(issued_s) <= TOKEN_TTL_S:
        return False
    # as bytes: compare_digest raises TypeError on a str with a non-ASCII character (a forged "é": 500)
    return hmac.compare_digest(mac.encode(), _mac(secret, code, client, int(issued_s)).encode())


def _client(request: Request, settings: Settings) -> str:
    return client_hash(label_secret(settings), request.client.host if request.client else None)


def unknown_page(
    request: Request, settings: Settings, code: str, lang: str, reported: int | None = None
) -> HTMLResponse:
    """The 404 for a Digital Link whose GTIN, lot or serial is not registered."""
    base = settings.public_base_url
    vm = UnknownCode(
        lang=lang, code=code, report_url=f"{REPORT_PATH}?{urlencode({'code': code})}",  # relative: any host
        csrf=form_token(label_secret(settings), code, _client(request, settings)),
        alt_lang_url=f"{base}{code}?lang={'en' if lang == 'vi' else 'vi'}", reported_id=reported,
    )  # fmt: skip
    return HTMLResponse(render.unknown_code(vm), status_code=404 if reported is None else 201,
                        headers={"Cache-Control": "no-store"})  # fmt: skip


async def _read_form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise TooLarge(f"a report is at most {MAX_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge(f"a report is at most {MAX_BODY} bytes")
    try:
        fields = parse_qs(body.decode(), max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("the report must be a URL-encoded form in UTF-8") from exc
    return {k: v[0].strip() for k, v in fields.items()}


def _check_origin(request: Request, settings: Settings) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        allowed = {urlsplit(settings.public_base_url).netloc, request.headers.get("host", "")}
        if urlsplit(origin).netloc not in allowed:
            raise Forbidden("reports are accepted only from this site's own form")


def _store(session: Session, code: str, client: str, place: str, note: str) -> int:
    try:
        dl = parse("https://id.gs1.org" + code)
    except DigitalLinkError as exc:
        raise Invalid(f"code is not a Digital Link path: {exc}") from exc
    if dl.gtin is None:
        raise Invalid("code must be a GTIN Digital Link path (/01/...)")
    hour_ago = utcnow() - timedelta(hours=1)
    recent = select(func.count()).select_from(CounterfeitReport).where(col(CounterfeitReport.created_at) >= hour_ago)
    if session.exec(recent.where(CounterfeitReport.client_hash == client)).one() >= PER_CLIENT_PER_HOUR:
        raise TooMany(f"at most {PER_CLIENT_PER_HOUR} reports an hour from one address; thank you, try later")
    if session.exec(recent).one() >= ALL_PER_HOUR:
        raise TooMany("too many reports this hour; please try again later")
    product = product_by_gtin(session, dl.gtin)
    row = CounterfeitReport(
        code=code, gtin=dl.gtin, lot_code=dl.lot, serial=dl.serial, client_hash=client,
        brand_org_id=product.org_id if product else None, place=place or None, note=note or None,
    )  # fmt: skip
    session.add(row)
    session.commit()
    assert row.id is not None
    return row.id


@router.post(REPORT_PATH, response_class=HTMLResponse, summary="Report a code that is not registered")
async def report_code(request: Request, session: SessionDep, runtime: RuntimeDep, code: str) -> HTMLResponse:
    settings = runtime.settings
    _check_origin(request, settings)
    form = await _read_form(request)
    lang = form.get("lang") if form.get("lang") in LANGS else "vi"
    client = _client(request, settings)
    if len(code) > 200 or not code.startswith("/01/"):
        raise Invalid("code must be the Digital Link path that was scanned, such as /01/<GTIN>/10/<lot>")
    if not token_ok(label_secret(settings), code, client, form.get("csrf", "")):
        raise Forbidden("the form has expired or did not come from this site; reload the page")
    place, note = form.get("place", ""), form.get("note", "")
    if len(place) > 200 or len(note) > 1000:
        raise Invalid("place is at most 200 characters and note at most 1000")
    report_id = await run_in_threadpool(_store, session, code, client, place, note)
    return unknown_page(request, settings, code, lang or "vi", reported=report_id)


@router.get("/api/v1/counterfeit-reports", summary="Reports of unregistered codes (brand owner or authority)")
def list_reports(
    p: PrincipalDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CounterfeitReport]:
    q = select(CounterfeitReport).order_by(col(CounterfeitReport.id).desc()).limit(limit)
    if not p.is_authority:
        q = q.where(CounterfeitReport.brand_org_id == p.org_id)
    return list(session.exec(q).all())
