"""Certificates in the workspace: the organisation records its certificate (scheme, number, issuer,
OCOP stars, scope, validity, the document uploaded through the attachment service) from the
products page; a certifier organisation's members verify or revoke the certificates naming it.
Every rule (who may vouch, scope, dates) is ``registries.certificates``'s."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError
from traceability_api.evidence import attachments
from traceability_api.parties.kinds import OrgKind
from traceability_api.registries import certificates as certs
from traceability_api.registries.certificates import CertificateCreate, Revocation
from traceability_api.registries.router import today
from traceability_api.registries.views import cert_rows
from traceability_api.validation import DbId
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.routes.products import products_page
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=500)]
FIELDS = ("scheme", "scheme_name", "ocop_stars", "number", "issuer", "certifier_org_id", "valid_from", "valid_until")


def _ids(values: list[Any]) -> list[str]:
    return [str(x) for x in values[: certs.MAX_SCOPE + 1] if str(x).strip()]


@router.post("/certificates")
async def add_certificate(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep,
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:  # fmt: skip
    form = await request.form()
    cv: dict[str, Any] = {f: str(form.get(f) or "").strip()[:200] for f in FIELDS}
    cv |= {"product_ids": _ids(form.getlist("product_ids")), "place_ids": _ids(form.getlist("place_ids"))}
    refused = _refused(request, page, session, cv)
    raw = {k: x for k, x in cv.items() if x not in ("", [])}
    try:
        data = CertificateCreate.model_validate(raw)
    except ValidationError as exc:
        return refused(from_validation(exc, page.lang), 422)
    p = page.user.principal
    try:
        if document is not None and document.filename:
            blob = await document.read(runtime.settings.attachment_max_bytes + 1)
            try:
                row = attachments.store(session, p, runtime.settings, blob)
            except DomainError as exc:
                session.rollback()
                kind_wrong = "must be JPEG" in exc.message
                msg = page.t["cert_bad_document"] if kind_wrong else next(iter(from_domain(exc, page.lang).values()))
                return refused({"document": msg}, exc.status_code)
            data = data.model_copy(update={"document_sha256": row.sha256})
        certs.create(session, p, data)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return refused(from_domain(exc, page.lang, "number"), exc.status_code)
    return see_other("/app/products?cert=saved#certificates")


def _refused(request: Request, page: Page, session: Session, cv: dict[str, Any]) -> Callable[[Errors, int], Response]:
    def show(errors: Errors, status: int) -> Response:
        return products_page(request, page, session, {"unit": "KGM", "max_yield": "1"}, errors, status, cv=cv)

    return show


def _screen(request: Request, page: Page, session: Session, errors: Errors, status: int = 200,
            reasons: dict[str, str] | None = None) -> Response:  # fmt: skip
    """A certifier's members: the certificates naming it, with verify / revoke; anyone else: their
    organisation's certificates, read only."""
    p = page.user.principal
    certifier = p.org_kind == OrgKind.certifier
    rows = cert_rows(session, p, today(page.settings), naming_me=certifier)
    return render(request, "certificates.html", status, page=page, rows=rows, errors=errors, reasons=reasons or {},
                  can_vouch=certifier and p.can_write, action_base="/app/certificates")  # fmt: skip


@router.get("/certificates")
def certificates(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _screen(request, page, session, {})


Screen = Callable[[Errors, int, dict[str, str] | None], Response]  # a page again, with refusals and reasons


def vouch(session: Session, page: Page, cert_id: int, done: str, screen: Screen, reason: str | None = None) -> Response:
    """Verify the certificate (``reason`` None) or revoke it for ``reason``; then back to ``done`` at
    the certificate, or ``screen`` again with the refusal beside it.  The workspace's buttons and the
    console's (``console/routes/certificates.py``)."""
    reasons = None if reason is None else {str(cert_id): reason}
    try:
        if reason is None:
            certs.verify(session, page.user.principal, cert_id)
        else:
            body = Revocation(reason=reason.strip())
            certs.revoke(session, page.user.principal, cert_id, body.reason)
        session.commit()
    except ValidationError as exc:
        return screen({f"cert:{cert_id}": next(iter(from_validation(exc, page.lang).values()))}, 422, reasons)
    except DomainError as exc:
        session.rollback()
        msg = next(iter(from_domain(exc, page.lang).values()))
        return screen({f"cert:{cert_id}": msg}, exc.status_code, reasons)
    return see_other(f"{done}#cert-{cert_id}")


@router.post("/certificates/{cert_id}/verify")
def verify(cert_id: DbId, request: Request, page: PostDep, session: SessionDep) -> Response:
    return vouch(session, page, cert_id, "/app/certificates", partial(_screen, request, page, session))


@router.post("/certificates/{cert_id}/revoke")
def revoke(cert_id: DbId, request: Request, page: PostDep, session: SessionDep, reason: Opt = "") -> Response:
    return vouch(session, page, cert_id, "/app/certificates", partial(_screen, request, page, session), reason)
