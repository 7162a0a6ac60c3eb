"""Certifications as records: the certified organisation records its certificate (scheme, number,
issuer, scope of products and places, validity, the document as a hash-addressed attachment); only
an authority member, or the certifier organisation the certificate names, marks it verified or
revokes it.  Its status on a day (active, expired, not_yet_valid, revoked) is derived, never stored."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, col, or_, select

from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.evidence.attachments import check_digest, require_own
from traceability_api.lots.models import Product
from traceability_api.parties.models import Organisation, OrgKind
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place
from traceability_api.registries.models import Certificate, CertScheme, scheme_of
from traceability_api.timeutil import utcnow
from traceability_api.validation import MAX_DB_ID, DbId, check_validity

MAX_SCOPE = 200
SCHEME_LABEL = {CertScheme.vietgap: "VietGAP", CertScheme.globalgap: "GlobalGAP",
                CertScheme.organic: "Hữu cơ / Organic", CertScheme.ocop: "OCOP", CertScheme.other: ""}  # fmt: skip


class CertificateCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # spaces alone are no number, issuer or reason

    scheme: CertScheme
    scheme_name: str | None = Field(default=None, max_length=100, description="required when scheme is 'other'")
    ocop_stars: int | None = Field(default=None, ge=3, le=5, description="OCOP rating, 3-5 stars (OCOP only)")
    number: str = Field(min_length=1, max_length=100, description="the certificate's number")
    issuer: str = Field(min_length=2, max_length=200, description="issuing body")
    certifier_org_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID, description="the certifier on AgriTrace")
    org_id: int | None = Field(default=None, ge=1, le=MAX_DB_ID, description="certified organisation (authority only)")
    product_ids: list[DbId] = Field(default_factory=list, max_length=MAX_SCOPE)
    place_ids: list[DbId] = Field(default_factory=list, max_length=MAX_SCOPE)
    valid_from: date
    valid_until: date
    document_sha256: str | None = Field(default=None, max_length=64, description="an uploaded attachment (PDF/photo)")
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> CertificateCreate:
        check_validity(self.valid_from, self.valid_until)
        if (self.scheme == CertScheme.ocop) != (self.ocop_stars is not None):
            raise ValueError("ocop_stars (3-5) is given for an OCOP certificate, and only for one")
        if self.scheme == CertScheme.other and not (self.scheme_name and self.scheme_name.strip()):
            raise ValueError("scheme_name names the scheme when scheme is 'other'")
        if not self.product_ids and not self.place_ids:
            raise ValueError("a certificate covers at least one product or place (product_ids, place_ids)")
        return self


class Revocation(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # spaces alone are no number, issuer or reason

    reason: str = Field(min_length=3, max_length=500)


class CertificatePublic(BaseModel):
    id: int
    org_id: int
    scheme: CertScheme
    label: str
    ocop_stars: int | None
    number: str | None
    issuer: str | None
    certifier_org_id: int | None
    product_ids: list[int]
    place_ids: list[int]
    valid_from: date | None
    valid_until: date | None
    document_sha256: str | None
    status: str = Field(description="active, expired, not_yet_valid or revoked, on today's date")
    verified: bool
    verified_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str | None


def label(c: Certificate) -> str:
    if c.scheme == CertScheme.ocop:
        return f"OCOP {c.ocop_stars or ''}★".strip()
    return c.scheme_name or SCHEME_LABEL[CertScheme(c.scheme)] or str(c.scheme)


def status_on(c: Certificate, day: date) -> str:
    if c.revoked_at is not None:
        return "revoked"
    if c.valid_until is not None and day > c.valid_until:
        return "expired"
    if c.valid_from is not None and day < c.valid_from:
        return "not_yet_valid"
    return "active"


def to_public(c: Certificate, day: date) -> CertificatePublic:
    assert c.id is not None
    return CertificatePublic(
        id=c.id, org_id=c.org_id, scheme=CertScheme(c.scheme), label=label(c), ocop_stars=c.ocop_stars,
        number=c.number, issuer=c.issuer, certifier_org_id=c.certifier_org_id, product_ids=list(c.product_ids),
        place_ids=list(c.place_ids), valid_from=c.valid_from, valid_until=c.valid_until,
        document_sha256=c.document_sha256, status=status_on(c, day), verified=c.verified_at is not None,
        verified_at=c.verified_at, revoked_at=c.revoked_at, revoke_reason=c.revoke_reason,
    )  # fmt: skip


def _check_scope(session: Session, org_id: int, product_ids: list[int], place_ids: list[int]) -> None:
    if product_ids:
        own = set(session.exec(select(Product.id).where(col(Product.id).in_(product_ids), Product.org_id == org_id)))
        for pid in product_ids:
            if pid not in own:
                raise Invalid(f"product {pid} is not a product of organisation {org_id}")
    if place_ids:
        own = set(session.exec(select(Place.id).where(col(Place.id).in_(place_ids), Place.org_id == org_id)))
        for pid in place_ids:
            if pid not in own:
                raise Invalid(f"place {pid} is not a place of organisation {org_id}")


def create(session: Session, p: Principal, data: CertificateCreate) -> Certificate:
    p.require_write()
    org_id = p.org_id
    if data.org_id is not None and data.org_id != p.org_id:
        if not p.is_authority:
            raise Forbidden("only the authority records a certificate for another organisation")
        if session.get(Organisation, data.org_id) is None:
            raise Invalid(f"organisation {data.org_id} does not exist")
        org_id = data.org_id
    _check_scope(session, org_id, sorted(set(data.product_ids)), sorted(set(data.place_ids)))
    if data.certifier_org_id is not None:
        certifier = session.get(Organisation, data.certifier_org_id)
        if certifier is None or certifier.kind != OrgKind.certifier:
            raise Invalid(f"organisation {data.certifier_org_id} is not a certifier")
        if data.certifier_org_id == org_id:  # its verification would be the holder's own word
            raise Invalid("a certificate's certifier is another organisation than the one it certifies")
    digest = None
    if data.document_sha256:
        digest = check_digest(data.document_sha256)
        require_own(session, p, [digest])
    row = Certificate(
        org_id=org_id, scheme=data.scheme, scheme_name=(data.scheme_name or "").strip() or None,
        ocop_stars=data.ocop_stars, number=data.number.strip(), issuer=data.issuer.strip(),
        certifier_org_id=data.certifier_org_id, product_ids=sorted(set(data.product_ids)),
        place_ids=sorted(set(data.place_ids)), valid_from=data.valid_from, valid_until=data.valid_until,
        document_sha256=digest, note=data.note,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def visible(p: Principal) -> object:
    """Who reads a certificate record: its organisation, the certifier it names, the authority.
    (The public sees a product's certificates on its consumer pages.)"""
    return or_(Certificate.org_id == p.org_id, Certificate.certifier_org_id == p.org_id)


def get(session: Session, p: Principal, cert_id: int, *, for_update: bool = False) -> Certificate:
    q = select(Certificate).where(Certificate.id == cert_id)
    if not p.reads_everything:
        q = q.where(visible(p))  # type: ignore[arg-type]
    row = session.exec(q.with_for_update() if for_update else q).first()
    if row is None:
        raise NotFound(f"no certificate {cert_id}")
    return row


def list_for(session: Session, p: Principal) -> list[Certificate]:
    q = select(Certificate).order_by(col(Certificate.id))
    if not p.reads_everything:
        q = q.where(visible(p))  # type: ignore[arg-type]
    return list(session.exec(q.limit(5000)).all())


def _require_vouching(p: Principal, c: Certificate) -> None:
    named = p.org_kind == OrgKind.certifier and c.certifier_org_id == p.org_id and c.org_id != p.org_id
    if not (p.is_authority or named):  # a certifier never vouches for its own certificate
        raise Forbidden("only an authority member, or the certifier that issued it, verifies or revokes a certificate")
    p.require_write()


def verify(session: Session, p: Principal, cert_id: int) -> Certificate:
    c = get(session, p, cert_id, for_update=True)
    _require_vouching(p, c)
    if c.revoked_at is not None:
        raise Conflict(f"certificate {cert_id} is revoked: it cannot be verified")
    if c.verified_at is None:
        c.verified_at, c.verified_by_org_id = utcnow(), p.org_id
        session.add(c)
        session.flush()
    return c


def revoke(session: Session, p: Principal, cert_id: int, reason: str) -> Certificate:
    c = get(session, p, cert_id, for_update=True)
    _require_vouching(p, c)
    if c.revoked_at is not None:
        raise Conflict(f"certificate {cert_id} is already revoked")
    c.revoked_at, c.revoked_by_org_id, c.revoke_reason = utcnow(), p.org_id, reason.strip()
    session.add(c)
    session.flush()
    return c


def for_product(session: Session, product: Product, places: list[Place]) -> list[Certificate]:
    """Certificates covering the product (its organisation's) or one of ``places`` (its origin plots,
    whoever holds them): what the consumer page shows, whatever their status."""
    orgs = {product.org_id} | {pl.org_id for pl in places}
    place_ids = {pl.id for pl in places}
    q = select(Certificate).where(col(Certificate.org_id).in_(orgs)).order_by(col(Certificate.id))
    return [c for c in session.exec(q) if (c.org_id == product.org_id and product.id in c.product_ids)
            or place_ids & set(c.place_ids)]  # fmt: skip


def records_from_free_text(session: Session) -> int:
    """Turn every product's free-text ``certifications`` into unverified certificate records covering
    it and empty the lists (what migration 0014 did to existing data; the demo uses it too)."""
    n = 0
    for product in session.exec(select(Product).order_by(col(Product.id))).all():  # JSON: no portable "!= []"
        for text in product.certifications:
            scheme, stars, name = scheme_of(str(text))
            stars = (stars or product.ocop_stars) if scheme == CertScheme.ocop else None
            note = f"moved from the free-text list: {text[:300]}"
            session.add(Certificate(org_id=product.org_id, scheme=scheme, scheme_name=name, ocop_stars=stars,
                                    product_ids=[product.id or 0], note=note))  # fmt: skip
            n += 1
        if product.certifications:
            product.certifications = []
            session.add(product)
    session.flush()
    return n
