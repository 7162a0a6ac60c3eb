"""Tables of the husbandry domain: tagged animals and their placements (pond history), per-place
sensor thresholds, the organisation's alert channels, and the alerts themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import FiniteFloat
from sqlalchemy import BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow
from traceability_api.validation import MAX_DB_ID


class Animal(SQLModel, table=True):
    """An individually identified animal, e.g. pangasius broodstock (cá bố mẹ) with a chip."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    species: str = Field(max_length=100)
    giai: str | None = Field(default=None, max_length=30, unique=True, description="GS1 AI 8004")
    chip: str | None = Field(default=None, max_length=30, unique=True, description="ISO 11784 chip number")
    sex: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AnimalPlacement(SQLModel, table=True):
    """One stay of an animal in a place (pond, cage, hatchery, barn); the open one has no end."""

    __tablename__ = "animal_placement"
    id: int | None = Field(default=None, primary_key=True)
    animal_id: int = Field(foreign_key="animal.id", index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    moved_in_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    moved_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    event_id: int | None = Field(default=None, foreign_key="event.id", description="the anchored move event")


class ThresholdSet(SQLModel):
    kind: str = Field(max_length=20, description="sensor kind, e.g. dissolved_oxygen, salinity")
    low: FiniteFloat | None = None  # "nan" or 1e309 would store a threshold no reading ever crosses
    high: FiniteFloat | None = None
    sustain_minutes: int = Field(
        default=30,
        ge=1,
        le=7 * 24 * 60,
        description="a breach lasting this long is recorded as an anchored evidence event",
    )


class PlaceThreshold(SQLModel, table=True):
    __tablename__ = "place_threshold"
    __table_args__ = (UniqueConstraint("place_id", "kind", name="uq_threshold_place_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    low: float | None = None
    high: float | None = None
    sustain_minutes: int = 30


class AlertChannelCreate(SQLModel):
    kind: Literal["webhook", "email"]
    target: str = Field(min_length=3, max_length=500, description="https URL (webhook) or e-mail address")


class AlertChannel(SQLModel, table=True):
    __tablename__ = "alert_channel"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    target: str = Field(max_length=500)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SensorAlert(SQLModel, table=True):
    """A run of readings of one device outside its thresholds (open while the run lasts)."""

    __tablename__ = "sensor_alert"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    place_id: int | None = Field(default=None, foreign_key="place.id", ge=0, le=MAX_DB_ID)
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    bound: str = Field(sa_column=Column(String(4), nullable=False), description="low or high")
    threshold: float
    peak: float = Field(description="the worst value of the run")
    readings: int = 1
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    open: bool = True
    sustained_event_id: int | None = Field(default=None, foreign_key="event.id")
    notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    delivery: str | None = Field(default=None, max_length=500, description="what each channel answered")


class AlertCursor(SQLModel, table=True):
    """How far the alert watcher has read each device's readings."""

    __tablename__ = "alert_cursor"
    device_id: int = Field(foreign_key="device.id", primary_key=True)
    last_id: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False), description="last reading read")
