from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class Recall(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    member_id: int = Field(foreign_key="member.id")
    reason: str = Field(max_length=500)
    scope: str = Field(max_length=20)
    root_lot_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    affected: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class WriteLogEntry(SQLModel, table=True):
    """Append-only record of every write (database triggers refuse UPDATE and DELETE); each
    entry's digest is anchored like an event."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    org_id: int | None = None
    member_id: int | None = None
    method: str = Field(max_length=8)
    path: str = Field(max_length=300)
    status: int
    digest: str = Field(max_length=64)
