"""Capture jobs, named queries and query subscriptions of the EPCIS 2.0 REST binding."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class CaptureJob(SQLModel, table=True):
    """One ``POST /epcis/capture``: its outcome and errors (the events themselves live in ``event``)."""

    __tablename__ = "capture_job"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    running: bool = True
    success: bool = True
    error_behaviour: str = Field(default="rollback", max_length=10)
    event_count: int = 0
    captured: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NamedQuery(SQLModel, table=True):
    """A named query (a saved set of EPCIS query parameters) of one organisation."""

    __tablename__ = "named_query"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    name: str = Field(max_length=100)
    query: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Subscription(SQLModel, table=True):
    """A webhook subscription to a named query: matching new events are POSTed to ``dest``, as they
    arrive (``stream``) or at the times of ``schedule`` (the next one in ``next_fire_at``)."""

    __tablename__ = "query_subscription"
    id: int | None = Field(default=None, primary_key=True)
    query_id: int = Field(foreign_key="named_query.id", index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    dest: str = Field(max_length=2000)
    signature_token: str | None = Field(default=None, max_length=200)
    stream: bool = True
    schedule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    report_if_empty: bool = False
    initial_record_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_event_id: int = 0
    last_notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    next_fire_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))  # scheduled
    failures: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
