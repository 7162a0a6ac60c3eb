from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.consensus.gs1_uri import GTIN_DIGITS, gs1_check_digit, valid_gtin
from traceability_api.errors import Invalid
from traceability_api.lots.standards import check_standards
from traceability_api.timeutil import UTCDateTime, utcnow

UOMS = ("KGM", "TNE", "GRM", "LTR", "H87", "XBX", "XCS", "EA", "NAR", "XPT")  # UN/CEFACT codes used in EPCIS
# H87 eggs (quả), NAR animals counted by head (con), XPT pots (chậu, UN/ECE Rec 21 "PT" pot)
LOT_CODE_RE = r"^[A-Za-z0-9._-]{1,20}$"  # GS1 AI (10): up to 20 characters; we keep URL-safe ones


def check_lot_code(code: str, what: str = "lot code") -> None:
    """The one rule for lot codes (and serial numbers, GS1 AI 21), however a lot is created."""
    if not re.fullmatch(LOT_CODE_RE, code):
        raise Invalid(f"{what} {code[:40]!r} must be 1-20 letters, digits and . _ - (GS1 AI 10/21)")


class LotStatus(StrEnum):
    active = "active"
    in_transit = "in_transit"
    consumed = "consumed"
    recalled = "recalled"


class ProductBase(SQLModel):
    gtin: str = Field(description="GTIN-14 with a valid check digit")
    name: str = Field(min_length=1, max_length=200, description="name in Vietnamese")
    name_en: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    unit: str = Field(default="KGM", max_length=3)
    image_url: str | None = Field(default=None, max_length=500)
    ocop_stars: int | None = Field(default=None, ge=3, le=5)
    shelf_life_days: int | None = Field(default=None, ge=1, le=3650)
    max_yield: float = Field(
        default=1.0, gt=0, le=1000, description="most output per unit of input when made by transformation"
    )
    certifications: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    standards: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="standards applied: [{kind: TCVN|QCVN|TCCS, number, title}] (Circular 02/2024/TT-BKHCN)",
    )
    ftl_category: str | None = Field(
        default=None, max_length=100,
        description="US FDA Food Traceability List category (FSMA 204), e.g. 'Tropical tree fruits', 'Finfish'",
    )  # fmt: skip


def usable_image(url: str | None) -> bool:
    """An image a public page may show: https, or a path on this service (no http, no data: URIs;
    no backslash: a browser reads ``/\\host`` as ``//host``, another host)."""
    u = url or ""
    return "\\" not in u and (u.startswith("https://") or (u.startswith("/") and not u.startswith("//")))


def _check_image(v: str | None) -> str | None:
    if v is not None and (not usable_image(v) or any(c.isspace() or ord(c) < 32 for c in v)):
        raise ValueError("image_url must be an https:// URL or a path on this service (/...), without spaces")
    return v


class ProductCreate(ProductBase):
    _standards = field_validator("standards", mode="before")(check_standards)
    _image = field_validator("image_url")(_check_image)

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str) -> str:
        if not GTIN_DIGITS.fullmatch(v):
            raise ValueError(f"GTIN must be 8, 12, 13 or 14 digits 0-9 (got {len(v)} characters)")
        if not valid_gtin(v):
            raise ValueError(f"GTIN {v} has a wrong check digit: expected {gs1_check_digit(v[:-1])}, not {v[-1]}")
        return v.zfill(14)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in UOMS:
            raise ValueError(f"unit must be one of {', '.join(UOMS)}")
        return v


class Product(ProductBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    gtin: str = Field(max_length=14, unique=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ProductPublic(ProductBase):
    id: int
    org_id: int


class ProductUpdate(SQLModel):
    """What a producer completes later for the national record (omitted fields stay as they are).
    Texts are stripped before their length is checked: a brand of spaces is refused, not stored."""

    name_en: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, min_length=1, max_length=200)
    image_url: str | None = Field(default=None, max_length=500)
    shelf_life_days: int | None = Field(default=None, ge=1, le=3650)
    standards: list[dict[str, Any]] | None = Field(default=None, description="replaces the list")
    _standards = field_validator("standards", mode="before")(lambda v: None if v is None else check_standards(v))
    _image = field_validator("image_url")(_check_image)

    @field_validator("name_en", "brand", "image_url", mode="before")
    @classmethod
    def _stripped(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v


class Lot(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("product_id", "lot_code"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    lot_code: str = Field(max_length=20)
    owner_org_id: int = Field(foreign_key="organisation.id", index=True)
    holder_org_id: int = Field(foreign_key="organisation.id", index=True)
    in_transit_to_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)  # home: incoming
    quantity: float = Field(ge=0)
    quantity_remaining: float = Field(ge=0)
    uom: str = Field(max_length=3)
    status: LotStatus = LotStatus.active
    origin_place_id: int | None = Field(default=None, foreign_key="place.id")
    harvest_date: date | None = None
    ilmd: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # the time of the lot's first event, written by the database's triggers (migration 0025), never
    # by this code: read it as a column in a query (a loaded Lot may hold an older value)
    first_event_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LotPublic(SQLModel):
    id: int
    gtin: str
    lot_code: str
    product_name: str
    owner_org_id: int
    holder_org_id: int
    in_transit_to_org_id: int | None
    quantity: float
    quantity_remaining: float
    uom: str
    status: LotStatus
    origin_place_id: int | None
    harvest_date: date | None
    uri: str


class LotLink(SQLModel, table=True):
    """Lineage: ``child`` was made from ``parent`` by a transformation (paddy -> rice)."""

    __tablename__ = "lot_link"
    id: int | None = Field(default=None, primary_key=True)
    parent_lot_id: int = Field(foreign_key="lot.id", index=True)
    child_lot_id: int = Field(foreign_key="lot.id", index=True)
    event_id: int = Field(foreign_key="event.id")
    quantity: float | None = None


class SerialUnit(SQLModel, table=True):
    __tablename__ = "serial_unit"
    __table_args__ = (UniqueConstraint("product_id", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    lot_id: int = Field(foreign_key="lot.id", index=True)
    serial: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
