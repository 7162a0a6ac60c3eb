from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.places.geo import validate_geometry
from traceability_api.timeutil import UTCDateTime, utcnow
from traceability_api.validation import MAX_DB_ID, check_code, check_gln


class PlaceKind(StrEnum):
    farm = "farm"
    plot = "plot"
    packhouse = "packhouse"
    mill = "mill"
    warehouse = "warehouse"
    store = "store"
    vehicle = "vehicle"
    other = "other"
    # livestock, poultry and aquaculture (issue 17)
    barn = "barn"
    flock_house = "flock_house"
    pond = "pond"
    cage = "cage"
    hatchery = "hatchery"


# places where something is grown or raised: lots harvested there name them as their origin (ilmd agri:plot)
PRODUCTION_KINDS = frozenset({PlaceKind.farm, PlaceKind.plot, PlaceKind.barn, PlaceKind.flock_house, PlaceKind.pond,
                              PlaceKind.cage, PlaceKind.hatchery})  # fmt: skip


class PlaceBase(SQLModel):
    kind: PlaceKind
    name: str = Field(min_length=1, max_length=200)
    internal_id: str | None = Field(default=None, max_length=64)
    gln: str | None = Field(default=None)
    gln_extension: str | None = Field(default=None, max_length=20)
    planting_area_code: str | None = Field(default=None, max_length=40, description="mã số vùng trồng")
    packhouse_code: str | None = Field(
        default=None, max_length=40, description="mã số cơ sở đóng gói (a packhouse's registered code)"
    )
    sector_code: str | None = Field(
        default=None, max_length=40,
        description="the sector's code: aquaculture zone / pond (mã vùng nuôi), livestock farm (mã cơ sở)",
    )  # fmt: skip
    address: str | None = Field(default=None, max_length=500)
    commune: str | None = Field(
        default=None, max_length=100, index=True, description="xã / phường (the console map and figures)"
    )
    district: str | None = Field(default=None, max_length=100, description="huyện / thành phố")
    province: str | None = Field(default=None, max_length=100, description="tỉnh")
    area_ha: float | None = Field(default=None, gt=0, le=100_000)
    parent_id: int | None = Field(default=None, foreign_key="place.id", ge=0, le=MAX_DB_ID)
    geo: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PlaceCreate(PlaceBase):
    _gln = field_validator("gln")(check_gln)
    _codes = field_validator("internal_id", "gln_extension", "planting_area_code", "sector_code", "packhouse_code")(
        check_code("identifier")
    )

    @model_validator(mode="after")
    def _packhouse_code(self) -> PlaceCreate:
        if self.packhouse_code and self.kind != PlaceKind.packhouse:
            raise ValueError("packhouse_code (mã số cơ sở đóng gói) belongs to a place of kind 'packhouse'")
        return self

    @field_validator("geo")
    @classmethod
    def _geo(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else validate_geometry(v)


class Place(PlaceBase, table=True):
    __table_args__ = (UniqueConstraint("org_id", "internal_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PlacePublic(PlaceBase):
    id: int
    org_id: int
    uri: str
