from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class ScanLog(SQLModel, table=True):
    """One resolution of a lot / serial code by a browser.  The client address is kept only as a
    keyed hash (to count distinct scanners), the location only as coarse as ~10 km."""

    __tablename__ = "scan_log"
    __table_args__ = (Index("ix_scan_log_lot_serial", "lot_id", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lot.id")
    serial: str | None = Field(default=None, max_length=20)
    scanned_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    client_hash: str = Field(max_length=32)
    coarse_location: str | None = Field(default=None, max_length=20)
    user_agent: str | None = Field(default=None, max_length=200)
    token_ok: bool | None = None


class CounterfeitReport(SQLModel, table=True):
    """A shopper's report of a code that is not registered: seen by the brand owner of the GTIN (when
    it is ours) and by the authorities.  No personal data beyond a keyed hash of the address."""

    __tablename__ = "counterfeit_report"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=200, description="the Digital Link path that was scanned")
    gtin: str = Field(max_length=14, index=True)
    lot_code: str | None = Field(default=None, max_length=20)
    serial: str | None = Field(default=None, max_length=20)
    brand_org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    place: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    client_hash: str = Field(max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
