"""The registries' JSON API: registered codes (the authority keeps them) and certificates."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, status
from fastapi.responses import Response

from traceability_api.config import Settings
from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.errors import Invalid, NotFound
from traceability_api.evidence.attachments import path_of
from traceability_api.evidence.models import Attachment
from traceability_api.parties.deps import PrincipalDep
from traceability_api.registries import certificates as certs
from traceability_api.registries import codes
from traceability_api.registries.certificates import CertificateCreate, CertificatePublic, Revocation
from traceability_api.registries.codes import CodeCreate, CodePublic, StatusChange
from traceability_api.registries.models import CodeKind
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["registries"])


def today(settings: Settings) -> date:
    """The province's date: validity windows are days in its time zone."""
    return datetime.now(ZoneInfo(settings.time_zone)).date()


@router.post("/registry/codes", status_code=status.HTTP_201_CREATED, response_model=CodePublic)
def register_code(data: CodeCreate, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> CodePublic:
    """Register a planting-area code (mã số vùng trồng) or packing-house code (mã số cơ sở đóng gói)
    for an organisation and the importing markets it is registered for (authority only)."""
    row = codes.register(session, p, data)
    session.commit()
    return codes.to_public(session, row, today(settings))


@router.get("/registry/codes", response_model=list[CodePublic])
def list_codes(
    p: PrincipalDep, session: SessionDep, settings: SettingsDep, kind: CodeKind | None = None, market: str | None = None
) -> list[CodePublic]:
    """The authority sees every code; an organisation sees the codes issued to it."""
    if market is not None and len(market) > 2:
        raise Invalid("market is an ISO 3166-1 alpha-2 code (or EU)")
    day = today(settings)
    return codes.to_public_many(session, codes.list_codes(session, p, kind, market), day)


@router.get("/registry/codes/{code}", response_model=CodePublic)
def read_code(code: str, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> CodePublic:
    return codes.to_public(session, codes.get_code(session, p, code), today(settings))


def _move(action: str, code: str, body: StatusChange, p: PrincipalDep, session: SessionDep, day: date) -> CodePublic:
    row = codes.change_status(session, p, code, action, body.reason)
    session.commit()
    return codes.to_public(session, row, day)


@router.post("/registry/codes/{code}/suspend", response_model=CodePublic)
def suspend_code(
    code: str, body: StatusChange, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> CodePublic:
    """Suspend a code (reason required): no new harvests on its area, no new export shipments."""
    return _move("suspend", code, body, p, session, today(settings))


@router.post("/registry/codes/{code}/reinstate", response_model=CodePublic)
def reinstate_code(
    code: str, body: StatusChange, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> CodePublic:
    return _move("reinstate", code, body, p, session, today(settings))


@router.post("/registry/codes/{code}/revoke", response_model=CodePublic)
def revoke_code(
    code: str, body: StatusChange, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> CodePublic:
    """Revoke a code for good (reason required)."""
    return _move("revoke", code, body, p, session, today(settings))


@router.post("/certificates", status_code=status.HTTP_201_CREATED, response_model=CertificatePublic)
def add_certificate(
    data: CertificateCreate, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> CertificatePublic:
    """Record a certificate (VietGAP, GlobalGAP, organic, OCOP 3-5 stars, other) of your organisation,
    with its scope, validity and document (upload it first: POST /api/v1/attachments)."""
    row = certs.create(session, p, data)
    session.commit()
    return certs.to_public(row, today(settings))


@router.get("/certificates", response_model=list[CertificatePublic])
def list_certificates(p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> list[CertificatePublic]:
    day = today(settings)
    return [certs.to_public(c, day) for c in certs.list_for(session, p)]


@router.get("/certificates/{cert_id}", response_model=CertificatePublic)
def read_certificate(cert_id: DbId, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> CertificatePublic:
    return certs.to_public(certs.get(session, p, cert_id), today(settings))


@router.get("/certificates/{cert_id}/document")
def certificate_document(cert_id: DbId, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> Response:
    """The certificate's document, for whoever may read the certificate (its verifier included)."""
    c = certs.get(session, p, cert_id)
    row = session.get(Attachment, c.document_sha256) if c.document_sha256 else None
    if row is None:
        raise NotFound(f"certificate {cert_id} has no document")
    data = path_of(settings, row.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise Invalid(f"attachment {row.sha256} on disk does not match its hash (changed or corrupted)")
    return Response(data, media_type=row.media_type)


@router.post("/certificates/{cert_id}/verify", response_model=CertificatePublic)
def verify_certificate(cert_id: DbId, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> CertificatePublic:
    """Mark a certificate verified (an authority member, or the certifier it names)."""
    row = certs.verify(session, p, cert_id)
    session.commit()
    return certs.to_public(row, today(settings))


@router.post("/certificates/{cert_id}/revoke", response_model=CertificatePublic)
def revoke_certificate(
    cert_id: DbId, body: Revocation, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> CertificatePublic:
    """Revoke a certificate (an authority member, or the certifier it names); consumer pages show it revoked."""
    row = certs.revoke(session, p, cert_id, body.reason)
    session.commit()
    return certs.to_public(row, today(settings))
