"""The key's life: ``begin`` inserts a pending row before the request runs (the unique index on
(organisation, key) makes concurrent replays wait their turn: one runs, the others see it pending
or done), ``finish`` stores the first response, ``abandon`` frees the key of a request that failed
on our side (5xx, a crash, a refusal of the credentials) so a retry runs it again.

Numbered steps, each safe to crash after:
1. begin: expired rows of the organisation are deleted and the pending row committed;
2. the request runs in its own transaction (a crash here leaves a pending row: after
   ``STALE_AFTER`` a replay takes it over, since nothing of the request was committed with it
   when it failed; if it had committed, the same client event id makes the capture a repeat);
3. finish: the response is stored; replays answer it until ``expires_at``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from traceability_api.idempotency.models import DONE, PENDING, IdempotentRequest
from traceability_api.timeutil import utcnow

STALE_AFTER = timedelta(minutes=2)  # a pending row older than this belongs to a request that died


@dataclass(frozen=True)
class Proceed:
    """Run the request; then ``finish`` or ``abandon`` row ``row_id``."""

    row_id: int


@dataclass(frozen=True)
class Replay:
    status_code: int
    content_type: str | None
    location: str | None
    body: bytes


@dataclass(frozen=True)
class Mismatch:
    """The key was used for a different request."""


@dataclass(frozen=True)
class InProgress:
    """The first request with this key is still running."""


Outcome = Proceed | Replay | Mismatch | InProgress


def begin(engine: Engine, org_id: int, key: str, request_hash: str, ttl: timedelta) -> Outcome:
    now = utcnow()
    for _ in range(3):  # an expired or abandoned row may vanish between our insert and our read
        with Session(engine) as s:
            s.exec(
                delete(IdempotentRequest).where(  # type: ignore[call-overload]
                    col(IdempotentRequest.org_id) == org_id, col(IdempotentRequest.expires_at) < now
                )
            )
            s.add(IdempotentRequest(org_id=org_id, key=key, request_hash=request_hash, expires_at=now + ttl))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
            else:
                row = s.exec(
                    select(IdempotentRequest.id).where(IdempotentRequest.org_id == org_id, IdempotentRequest.key == key)
                ).one()
                return Proceed(int(row or 0))
            existing = s.exec(
                select(IdempotentRequest).where(IdempotentRequest.org_id == org_id, IdempotentRequest.key == key)
            ).first()
            if existing is None:
                continue
            if existing.request_hash != request_hash:
                return Mismatch()
            if existing.state == DONE:
                e = existing
                return Replay(e.status_code or 200, e.content_type, e.location, e.body or b"")
            if existing.created_at < now - STALE_AFTER and _take_over(s, existing):
                return Proceed(existing.id or 0)
            return InProgress()
    return InProgress()


def _take_over(s: Session, row: IdempotentRequest) -> bool:
    taken = s.exec(
        update(IdempotentRequest)
        .where(  # type: ignore[call-overload]
            col(IdempotentRequest.id) == row.id,
            col(IdempotentRequest.state) == PENDING,
            col(IdempotentRequest.created_at) == row.created_at,
        )
        .values(created_at=utcnow())
    )
    s.commit()
    return bool(taken.rowcount == 1)


def finish(engine: Engine, row_id: int, status_code: int, content_type: str | None, location: str | None,
           body: bytes) -> None:  # fmt: skip
    with Session(engine) as s:
        s.exec(
            update(IdempotentRequest)
            .where(col(IdempotentRequest.id) == row_id)
            .values(  # type: ignore[call-overload]
                state=DONE, status_code=status_code, content_type=content_type, location=location, body=body
            )
        )
        s.commit()


def abandon(engine: Engine, row_id: int) -> None:
    with Session(engine) as s:
        s.exec(delete(IdempotentRequest).where(col(IdempotentRequest.id) == row_id))  # type: ignore[call-overload]
        s.commit()
