from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
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
    status: str = Field(default="open", max_length=10)  # open | closed
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


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


class RecallNotice(SQLModel, table=True):
    """One holder's notice of a recall: delivered to the holder's alert channels (webhook, e-mail)
    by ``recall_notify.py`` after the recall commits, retried with back-off; acknowledged once,
    through a one-time link (only the SHA-256 of each link's token is kept) or the workspace."""

    __tablename__ = "recall_notice"
    id: int | None = Field(default=None, primary_key=True)
    recall_id: int = Field(foreign_key="recall.id", index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    state: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = 0
    next_try_at: datetime | None = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    done_channels: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    token_hashes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_result: str = Field(default="", max_length=500)
    notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_by: int | None = Field(default=None, foreign_key="member.id")


class ReadOwner(SQLModel, table=True):
    """An organisation whose non-public data a logged read (an ``audit_log`` entry with method GET)
    showed, written in the entry's transaction; append-only like the entry (database triggers).
    Lets an owner find who read its data."""

    __tablename__ = "audit_read_owner"
    __table_args__ = (Index("ix_audit_read_owner_org_entry", "org_id", "entry_id"),)  # an owner's reads, in order
    entry_id: int = Field(foreign_key="audit_log.id", primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
