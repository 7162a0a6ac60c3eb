from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class Visibility(StrEnum):
    """Who reads an event: everyone; its organisation, the organisations in the custody chain of a
    lot it names and authorities; its organisation and authorities (and holders of a grant)."""

    public = "public"
    partners = "partners"
    private = "private"


class EventDisclosure(SQLModel, table=True):
    """The salts of a non-public event's disclosure commitment (secret: never served but for the
    fields revealed) and its root; the anchored digest binds the root to the event's hash ID."""

    __tablename__ = "event_disclosure"
    event_id: int = Field(foreign_key="event.id", primary_key=True)
    salts: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    root: str = Field(max_length=64, description="hex Merkle root of the salted field digests")
    digest: str = Field(max_length=64, description="hex digest anchored (consensus.disclosure.commitment_digest)")


class SharingGrant(SQLModel, table=True):
    """An organisation lets another read its records of one lot, until ``expires_at``."""

    __tablename__ = "sharing_grant"
    __table_args__ = (Index("ix_sharing_grant_grantee", "grantee_org_id", "lot_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    grantee_org_id: int = Field(foreign_key="organisation.id")
    lot_id: int = Field(foreign_key="lot.id")
    member_id: int = Field(foreign_key="member.id")
    note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
