"""Console: the certificates of every organisation with their status (active, expired, revoked,
unverified), and the authority's verify / revoke buttons, through ``registries.certificates``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from traceability_api.console.web import ConsoleDep, ConsolePostDep, render
from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError
from traceability_api.registries import certificates as certs
from traceability_api.registries.certificates import Revocation
from traceability_api.registries.router import today
from traceability_api.registries.views import cert_rows
from traceability_api.validation import DbId
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.web import see_other

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
    try:
        certs.verify(session, console.page.user.principal, cert_id)
        session.commit()
    except DomainError as exc:
        session.rollback()
        msg = next(iter(from_domain(exc, console.page.lang).values()))
        return _page(request, console, session, {f"cert:{cert_id}": msg}, exc.status_code)
    return see_other(f"/app/console/certificates#cert-{cert_id}")


@router.post("/certificates/{cert_id}/revoke")
def revoke(
    cert_id: DbId, request: Request, console: ConsolePostDep, session: SessionDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    try:
        body = Revocation(reason=reason.strip())
        certs.revoke(session, console.page.user.principal, cert_id, body.reason)
        session.commit()
    except ValidationError as exc:
        msg = next(iter(from_validation(exc, console.page.lang).values()))
        return _page(request, console, session, {f"cert:{cert_id}": msg}, 422, {str(cert_id): reason})
    except DomainError as exc:
        session.rollback()
        msg = next(iter(from_domain(exc, console.page.lang).values()))
        return _page(request, console, session, {f"cert:{cert_id}": msg}, exc.status_code, {str(cert_id): reason})
    return see_other(f"/app/console/certificates#cert-{cert_id}")
