from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.consensus.event_hash import HASH_RULE
from traceability_api.timeutil import UTCDateTime, utcnow


class Event(SQLModel, table=True):
    """One captured EPCIS event; never updated or deleted (corrections are new rows)."""

    __table_args__ = (
        UniqueConstraint("org_id", "client_event_id"),
        Index("ix_event_time", "event_time"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    client_event_id: str = Field(max_length=200)
    hash_id: str = Field(max_length=120, index=True)
    event_type: str = Field(max_length=32)
    biz_step: str | None = Field(default=None, max_length=200, index=True)
    action: str | None = Field(default=None, max_length=8)
    disposition: str | None = Field(default=None, max_length=200)
    event_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    place_id: int | None = Field(
        default=None, foreign_key="place.id", index=True, description="our bizLocation/readPoint"
    )
    record_time: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    hash_rule: int = Field(
        default=HASH_RULE,
        sa_column_kwargs={"server_default": "1"},
        description="event hash rule hash_id was computed with (consensus.event_hash; rows before rule 2 are 1)",
    )
    signature: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON(none_as_null=True), nullable=True),
        description="agri:signature envelope (never hashed)",
    )
    visibility: str = Field(
        default="public",
        max_length=8,
        index=True,
        sa_column_kwargs={"server_default": "public"},
        description="public | partners | private (privacy.models.Visibility; the event's agri:visibility)",
    )


class EventLot(SQLModel, table=True):
    """Which lots an event touches, in which role (epc, input, output, parent, child)."""

    __tablename__ = "event_lot"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    lot_id: int = Field(foreign_key="lot.id", index=True)
    role: str = Field(max_length=12)
    quantity: float | None = None
    uom: str | None = Field(default=None, max_length=3)


class EventCorrection(SQLModel, table=True):
    """An EPCIS errorDeclaration on a stored event (the event itself stays as it was)."""

    __tablename__ = "event_correction"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    org_id: int = Field(foreign_key="organisation.id")
    member_id: int = Field(foreign_key="member.id")
    declaration_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str | None = Field(default=None, max_length=200)
    corrective_event_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    record_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
