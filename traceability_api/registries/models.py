"""Tables of the registries: ``registered_code`` (planting-area and packing-house codes) and
``certificate`` (certifications as records).  Statuses that depend on the date (expired, not yet
valid) are derived when read, never stored."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class CodeKind(StrEnum):
    planting_area = "planting_area"  # mã số vùng trồng (PUC, production unit code)
    packhouse = "packhouse"  # mã số cơ sở đóng gói (PHC, pack house code)
    # aquaculture (issue 20): the pond / cage / hatchery and the fish processor, on place.sector_code
    aquaculture = "aquaculture"  # mã số nhận diện cơ sở / ao nuôi (AA-BB-CCCC-DDD, Nghị định 55/2017/NĐ-CP)
    establishment = "establishment"  # mã số cơ sở chế biến thủy sản xuất khẩu (DL 126 ..., Thông tư 48/2013)


# what plays the planting area and the packhouse for each kind of origin
ORIGIN_KINDS = frozenset({CodeKind.planting_area, CodeKind.aquaculture})
HOUSE_KINDS = frozenset({CodeKind.packhouse, CodeKind.establishment})


class CodeStatus(StrEnum):
    """Stored status; ``expired`` / ``not_yet_valid`` are derived from the dates on top of ``active``."""

    active = "active"
    suspended = "suspended"
    revoked = "revoked"


class RegisteredCode(SQLModel, table=True):
    __tablename__ = "registered_code"
    __table_args__ = (UniqueConstraint("code", name="uq_registered_code_code"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    code: str = Field(max_length=40)
    org_id: int = Field(foreign_key="organisation.id", index=True, description="the holder: who grows or packs")
    issuer: str = Field(max_length=200)
    markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date
    valid_until: date | None = None
    status: str = Field(default=CodeStatus.active, max_length=12)
    status_reason: str | None = Field(default=None, max_length=500)
    status_changed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    registered_by_org_id: int = Field(foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CertScheme(StrEnum):
    vietgap = "vietgap"
    globalgap = "globalgap"
    organic = "organic"
    ocop = "ocop"
    other = "other"


class Certificate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True, description="the certified organisation")
    scheme: str = Field(max_length=12)
    scheme_name: str | None = Field(default=None, max_length=100, description="the scheme's name when 'other'")
    ocop_stars: int | None = None
    number: str | None = Field(default=None, max_length=100)
    issuer: str | None = Field(default=None, max_length=200)
    certifier_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    product_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    place_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date | None = None
    valid_until: date | None = None
    document_sha256: str | None = Field(default=None, max_length=64)
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    verified_by_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_by_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    revoke_reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def scheme_of(text: str) -> tuple[CertScheme, int | None, str | None]:
    """A free-text certification (the old ``product.certifications`` list: "VietGAP", "OCOP 4 sao",
    "Hữu cơ") as (scheme, OCOP stars, scheme name when 'other')."""
    t = " ".join(text.split()).lower()
    if "ocop" in t:
        stars = next((int(ch) for ch in t if ch in "345"), None)
        return CertScheme.ocop, stars, None
    for key, scheme in (("vietgap", CertScheme.vietgap), ("globalgap", CertScheme.globalgap),
                        ("global gap", CertScheme.globalgap), ("organic", CertScheme.organic),
                        ("hữu cơ", CertScheme.organic)):  # fmt: skip
        if key in t:
            return scheme, None, None
    return CertScheme.other, None, " ".join(text.split())[:100] or "?"
