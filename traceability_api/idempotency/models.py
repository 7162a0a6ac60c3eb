"""The one table: a request's key, its organisation, the hash of what was asked, and the first
response (status, the few headers worth replaying, body) once the request has finished."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow

PENDING = "pending"
DONE = "done"


class IdempotentRequest(SQLModel, table=True):
    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("org_id", "key", name="uq_idempotent_request_org_key"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    state: str = Field(default=PENDING, max_length=8)
    status_code: int | None = None
    content_type: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=2000)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
