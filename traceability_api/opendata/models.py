from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class OpenDataFile(SQLModel, table=True):
    """One published file of a dataset, kept with its SHA-256 (anchored through the outbox, kind
    ``opendata``).  A rebuild that yields the same bytes keeps the existing row, so a file's
    ``created_at`` is when its content last changed (``dct:modified``).  Older versions stay so
    that an earlier download can still be checked by its digest; beyond the newest
    ``AGRITRACE_OPENDATA_KEEP_FILES`` of a dataset and format only their bytes are dropped."""

    __tablename__ = "opendata_file"
    __table_args__ = (Index("ix_opendata_file_current", "dataset", "fmt", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=40)
    fmt: str = Field(max_length=8, description="csv or json")
    media_type: str = Field(max_length=80)
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(ge=0)
    rows: int = Field(ge=0)
    content: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary(), nullable=True),
        description="the bytes; None once pruned (AGRITRACE_OPENDATA_KEEP_FILES): digest and proof remain",
    )  # fmt: skip
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
