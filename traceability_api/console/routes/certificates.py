"""Console: the certificates of every organisation with their status (active, expired, revoked,
unverified), and the authority's verify / revoke buttons, through ``registries.certificates``."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from traceability_api.console.web import ConsoleDep, ConsolePostDep, render
from traceability_api.deps import SessionDep
from traceability_api.registries.router import today
from traceability_api.registries.views import cert_rows
from traceability_api.validation import DbId
from traceability_api.workspace.messages import Errors
from traceability_api.workspace.routes.certificates import vouch

router = APIRouter(prefix="/app/console", include_in_schema=False)


def _page(request: Request, console: ConsoleDep, session: SessionDep, errors: Errors, status: int = 200,
          reasons: dict[str, str] | None = None) -> Response:  # fmt: skip
    rows = cert_rows(session, console.page.user.principal, today(console.page.settings))
    return render(request, "console_certificates.html", console, status, rows=rows, errors=errors,
                  reasons=reasons or {})  # fmt: skip


@router.get("/certificates")
def list_certificates(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    return _page(request, console, session, {})


@router.post("/certificates/{cert_id}/verify")
def verify(cert_id: DbId, request: Request, console: ConsolePostDep, session: SessionDep) -> Response:
    return vouch(session, console.page, cert_id, "/app/console/certificates", partial(_page, request, console, session))


@router.post("/certificates/{cert_id}/revoke")
def revoke(
    cert_id: DbId, request: Request, console: ConsolePostDep, session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    screen = partial(_page, request, console, session)
    return vouch(session, console.page, cert_id, "/app/console/certificates", screen, reason)
