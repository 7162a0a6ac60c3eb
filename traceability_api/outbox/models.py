from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class ItemKind(StrEnum):
    event = "event"
    correction = "correction"
    audit = "audit"  # an entry of the write log
    disclosure = "disclosure"  # a non-public event's disclosure commitment (consensus.disclosure)
    opendata = "opendata"  # a published open-data file (its SHA-256)


class AnchorItem(SQLModel, table=True):
    """Outbox row, written in the same transaction as the record it anchors."""

    __tablename__ = "anchor_item"
    __table_args__ = (Index("ix_anchor_item_pending", "batch_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: ItemKind
    ref_id: int = Field(index=True)
    digest: str = Field(max_length=64, description="hex SHA-256 digest the leaf is made of")
    leaf: str | None = Field(default=None, max_length=64)
    batch_id: int | None = Field(default=None, foreign_key="anchor_batch.id")
    proof: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # batches before 0023
    node: int | None = Field(default=None, description="the leaf's index in its batch's stored tree (anchor_tree)")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
