"""Console: the registered planting-area and packing-house codes.  A filtered list, the register
form, and suspend / reinstate / revoke buttons; each write goes through ``registries.codes`` (the
JSON API's own path) and each refusal is shown next to its field."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.console.web import Console, ConsoleDep, ConsolePostDep, render
from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError
from traceability_api.registries import codes
from traceability_api.registries.codes import CodeCreate
from traceability_api.registries.models import CodeKind
from traceability_api.registries.router import today
from traceability_api.registries.views import STATUSES, CodeFilter, code_places, code_rows, organisations
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.web import see_other

router = APIRouter(prefix="/app/console", include_in_schema=False)
Opt = Annotated[str, Form(max_length=500)]
ACTIONS = ("suspend", "reinstate", "revoke")
_ID = re.compile(r"^\d{1,11}$")


def _filter(q: dict[str, str], ct: dict[str, str]) -> tuple[CodeFilter, Errors]:
    """The list's filters from the query string, each checked (a bad one is named, not ignored)."""
    errors: Errors = {}
    kind = q.get("kind", "")
    if kind and kind not in CodeKind.__members__:
        errors["f_kind"] = ct["bad_filter"]
    status = q.get("status", "")
    if status and status not in STATUSES:
        errors["f_status"] = ct["bad_filter"]
    market = q.get("market", "").strip().upper()
    if market and not codes.MARKET_RE.fullmatch(market):
        errors["market"] = ct["bad_market"]
    org = q.get("org", "")
    if org and not _ID.fullmatch(org):
        errors["f_org"] = ct["bad_filter"]
    commune = q.get("commune", "").strip()
    if len(commune) > 100:
        errors["commune"] = ct["bad_filter"]
    if errors:
        return CodeFilter(), errors
    return CodeFilter(kind=CodeKind(kind) if kind else None, status=status or None, market=market or None,
                      org_id=int(org) if org else None, commune=commune or None), {}  # fmt: skip


PAGE = 100  # codes per page: each card carries its own form


def _page_number(raw: str) -> int:
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 else 1


def _page_of(rows: list[Any], raw: str) -> list[Any]:
    n = _page_number(raw)
    return rows[(n - 1) * PAGE : n * PAGE]


def _paging(q: dict[str, str], total: int) -> dict[str, str]:
    """Links to the previous and next pages (same filters), when there are any."""
    n, out = _page_number(q.get("page", "")), {}
    for key, target in (("prev", n - 1), ("next", n + 1)):
        if 0 < target and (target - 1) * PAGE < total:
            out[key] = "/app/console/codes?" + urlencode({k: v for k, v in q.items() if v} | {"page": str(target)})
    return out


def _page(request: Request, console: Console, session: Session, v: dict[str, Any], errors: Errors,
          status: int = 200, q: dict[str, str] | None = None) -> Response:  # fmt: skip
    q = q if q is not None else {}
    f, ferrors = _filter(q, console.ct)
    rows = code_rows(session, console.page.user.principal, f, today(console.page.settings))
    shown = _page_of(rows, q.get("page", ""))
    done = request.query_params.get("done", "")[:40]
    notice = f"{console.ct['saved']}: {done}" if done and request.method == "GET" else None
    return render(request, "console_codes.html", console, status if not ferrors else 422, rows=shown, q=q,
                  total=len(rows), paging=_paging(q, len(rows)),
                  v=v, errors=errors | ferrors, orgs=organisations(session), places=code_places(session),
                  statuses=STATUSES, notice=notice)  # fmt: skip


@router.get("/codes")
def list_codes(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    q = {k: request.query_params.get(k, "")[:200] for k in ("kind", "status", "market", "org", "commune", "page")}
    return _page(request, console, session, {"kind": "planting_area"}, {}, q=q)


def _markets(text: str) -> list[str]:
    return [m for m in re.split(r"[\s,;]+", text.strip()) if m]


@router.post("/codes")
def register_code(
    request: Request, console: ConsolePostDep, session: SessionDep, kind: Opt = "", code: Opt = "",
    org_id: Opt = "", place_id: Opt = "", issuer: Opt = "", markets: Opt = "", valid_from: Opt = "",
    valid_until: Opt = "",
) -> Response:  # fmt: skip
    v = {"kind": kind, "code": code, "org_id": org_id, "place_id": place_id, "issuer": issuer, "markets": markets,
         "valid_from": valid_from, "valid_until": valid_until}  # fmt: skip
    ct, p = console.ct, console.page.user.principal
    if place_id.strip() and not _ID.fullmatch(place_id.strip()):
        return _page(request, console, session, v, {"place_id": ct["bad_filter"]}, 422)
    raw = {"kind": kind, "code": code.strip(), "org_id": org_id.strip(), "issuer": issuer.strip(),
           "markets": _markets(markets), "valid_from": valid_from, "valid_until": valid_until or None}  # fmt: skip
    try:
        data = CodeCreate.model_validate({k: x for k, x in raw.items() if x not in ("", None)})
    except ValidationError as exc:
        return _page(request, console, session, v, from_validation(exc, console.page.lang), 422)
    try:
        row = codes.register(session, p, data)
        if place_id.strip():
            codes.link_place(session, p, row, int(place_id))
        session.commit()
    except DomainError as exc:
        session.rollback()
        errors = from_domain(exc, console.page.lang, "code")
        return _page(request, console, session, v, errors, exc.status_code)
    return see_other(f"/app/console/codes?done={quote(row.code)}")


@router.post("/codes/{code}/{action}")
def change_status(
    code: str, action: str, request: Request, console: ConsolePostDep, session: SessionDep, reason: Opt = ""
) -> Response:
    if action not in ACTIONS or len(code) > 40:
        return render(request, "message.html", console, 404, message=console.page.t["not_found"])
    try:
        codes.change_status(session, console.page.user.principal, code, action, reason)
        session.commit()
    except DomainError as exc:
        session.rollback()
        errors = {f"{k}:{code}": m for k, m in from_domain(exc, console.page.lang, "reason").items()}
        return _page(request, console, session, {"kind": "planting_area", "reason": {code: reason}}, errors,
                     exc.status_code)  # fmt: skip
    return see_other(f"/app/console/codes?done={quote(code)}#{quote(code)}")
