from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import FiniteFloat, field_validator
from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow
from traceability_api.validation import MAX_DB_ID


class SensorKind(StrEnum):
    temperature = "temperature"
    humidity = "humidity"
    water_level = "water_level"
    salinity = "salinity"
    ph = "ph"
    soil_moisture = "soil_moisture"
    pest_trap = "pest_trap"
    dissolved_oxygen = "dissolved_oxygen"  # ponds: oxy hòa tan
    ammonia = "ammonia"  # ponds: NH3/NH4+


# physical range, unit (UN/CEFACT), GS1 measurement type
KINDS: dict[SensorKind, tuple[float, float, str, str]] = {
    SensorKind.temperature: (-40.0, 85.0, "CEL", "Temperature"),
    SensorKind.humidity: (0.0, 100.0, "P1", "Humidity"),
    SensorKind.water_level: (-10.0, 30.0, "MTR", "Length"),
    SensorKind.salinity: (0.0, 60.0, "59", "Concentration"),  # ppt (parts per thousand ~ g/kg)
    SensorKind.ph: (0.0, 14.0, "C62", "Dimensionless"),
    SensorKind.soil_moisture: (0.0, 100.0, "P1", "MoistureContent"),
    SensorKind.pest_trap: (0.0, 100_000.0, "H87", "Count"),
    SensorKind.dissolved_oxygen: (0.0, 30.0, "M1", "Concentration"),  # mg/L
    SensorKind.ammonia: (0.0, 100.0, "M1", "Concentration"),  # mg/L (total ammonia nitrogen)
}


class DeviceCreate(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    kind: SensorKind
    place_id: int | None = Field(default=None, ge=0, le=MAX_DB_ID, description="plot, facility or vehicle it measures")
    threshold_low: FiniteFloat | None = None  # "nan" or 1e309 would store a threshold no reading crosses
    threshold_high: FiniteFloat | None = None


class Device(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=100)
    kind: SensorKind
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    threshold_low: float | None = None
    threshold_high: float | None = None
    secret_encrypted: str = Field(max_length=300, description="HMAC key, Fernet-encrypted with the master key")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_seq: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False, server_default="0"))
    seq_window: int = Field(
        default=0, sa_column=Column(BigInteger(), nullable=False, server_default="0"),
        description="bit i set: batch last_seq - i was received (anti-replay window, RFC 4303 style)",
    )  # fmt: skip


class SensorReading(SQLModel, table=True):
    __tablename__ = "sensor_reading"
    __table_args__ = (UniqueConstraint("device_id", "ts", name="uq_reading_device_ts"), Index("ix_reading_ts", "ts"))
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id")
    ts: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    value: float


class Attachment(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    org_id: int = Field(foreign_key="organisation.id", description="the first uploader")
    media_type: str = Field(max_length=60)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AttachmentOwner(SQLModel, table=True):
    """Every organisation that uploaded the file (the same bytes may come from several)."""

    __tablename__ = "attachment_owner"
    sha256: str = Field(foreign_key="attachment.sha256", primary_key=True, max_length=64)
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)


SECTORS = ("all", "crop", "livestock", "aquaculture")


class BannedSubstanceCreate(SQLModel):
    name: str = Field(min_length=2, max_length=100, description="active ingredient, matched case-insensitively")
    sector: str = Field(default="all", max_length=12, description="all, crop, livestock or aquaculture")
    legal_basis: str | None = Field(default=None, max_length=200, description="e.g. Thông tư 06/2016/TT-BNNPTNT")

    @field_validator("sector")
    @classmethod
    def _sector(cls, v: str) -> str:
        if v not in SECTORS:
            raise ValueError(f"sector must be one of {', '.join(SECTORS)}")
        return v


class BannedSubstance(BannedSubstanceCreate, table=True):
    """The banned-substance list as data: kept by authority members through the API (a removal
    deactivates the row, so the list's history stays readable)."""

    __tablename__ = "banned_substance"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    active: bool = True
    added_by_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    removed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
