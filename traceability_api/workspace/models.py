"""Workspace tables: a member's sign-in (username, Argon2id hash, lock-out counters), server-side
sessions (only a SHA-256 of the session id is stored), and one-time invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class WorkspaceLogin(SQLModel, table=True):
    __tablename__ = "workspace_login"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=200)
    failed_count: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SignInFailure(SQLModel, table=True):
    """Failed sign-ins of a username nobody has, counted as ``WorkspaceLogin`` counts a member's:
    in the database, so every worker process (and a restart) gives the answers a real username
    would.  ``name_hash``: SHA-256 of the lower-cased name (what strangers type is not kept)."""

    __tablename__ = "sign_in_failure"
    name_hash: str = Field(max_length=64, primary_key=True)
    failed_count: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


class WorkspaceSession(SQLModel, table=True):
    __tablename__ = "workspace_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WorkspaceInvite(SQLModel, table=True):
    __tablename__ = "workspace_invite"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=12)  # a parties.kinds.Role value
    member_id: int | None = Field(default=None, foreign_key="member.id")  # an existing member (create-org's admin)
    issued_by: int | None = None  # the admin who issued it (migration 0027): live while they are an active admin
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
