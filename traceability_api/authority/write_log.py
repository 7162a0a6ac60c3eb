"""The append-only write log (served at /api/v1/audit-log; "audit" alone names the tamper audit in
``traceability_api.audit``): one row per successful write request (who, when, what), its
digest anchored on chain like an event.

The entry is written in the same transaction as the write it records (one commit per write
request): a request's session carries its ``WriteRequest`` in ``session.info`` (put there by
``deps.get_session``, or by the capture group commit for each request of a group) and a
``before_commit`` hook installed here adds the entries and their outbox rows just before the
commit.  A write request that committed through no such session (e.g. a route opening its own
sessions) is logged afterwards by the middleware, in a transaction of its own, as before."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability_api.authority.models import ReadOwner, WriteLogEntry
from traceability_api.consensus.records import write_log_digest
from traceability_api.outbox import (
    LOGGED,
    PRIVATE_READ,
    READ_OWNERS,
    ItemKind,
    Pending,
    WriteRequest,
    enqueue,
    take_write_requests,
)
from traceability_api.timeutil import utcnow

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def entry_digest(entry: WriteLogEntry) -> str:
    return write_log_digest(entry.at, entry.org_id, entry.member_id, entry.method, entry.path, entry.status)


def _row(principal: Any, method: str, path: str, status: int) -> dict[str, Any]:
    """The columns of one entry, its digest included (a plain row: no ORM object to build)."""
    at, org_id, member_id = utcnow(), getattr(principal, "org_id", None), getattr(principal, "member_id", None)
    path = path[:300]
    digest = write_log_digest(at, org_id, member_id, method, path, status)
    return {"at": at, "org_id": org_id, "member_id": member_id, "method": method, "path": path, "status": status,
            "digest": digest}  # fmt: skip


_INSERT_ENTRIES = WriteLogEntry.__table__.insert().returning(  # type: ignore[attr-defined]
    WriteLogEntry.__table__.c.id,  # type: ignore[attr-defined]
    sort_by_parameter_order=True,
)


def write_entries(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Entries and their outbox rows in the caller's transaction (two multi-row inserts); their ids."""
    if not rows:
        return []
    ids = session.execute(_INSERT_ENTRIES, rows).scalars().all()  # a Core insert: no ORM bulk machinery
    enqueue(session, [Pending(ItemKind.audit, i, r["digest"]) for i, r in zip(ids, rows, strict=True)])
    return list(ids)


def record(engine: Engine, principal: Any, method: str, path: str, status: int, owners: Iterable[int] = ()) -> None:
    """An entry in a transaction of its own (a write that committed outside a request session, or a
    read of other organisations' non-public data with ``owners``, those organisations, in the same
    transaction so that each can find it)."""
    with Session(engine) as s:
        (entry_id,) = write_entries(s, [_row(principal, method, path, status)])
        owner_rows = [{"entry_id": entry_id, "org_id": o} for o in sorted(set(owners))]
        if owner_rows:
            s.execute(insert(ReadOwner), owner_rows)
        s.commit()


def _before_commit(session: Any) -> None:
    requests: list[WriteRequest] = take_write_requests(session.info)
    rows = []
    for w in requests:
        if w.state.get(LOGGED):
            continue
        w.state[LOGGED] = True
        route = w.scope.get("route") if w.scope is not None else None
        status = w.status or getattr(route, "status_code", None) or 200
        rows.append(_row(w.state.get("principal"), w.method, w.path, status))
    if rows:
        write_entries(session, rows)


def install() -> None:
    """Write the entries of a session's write requests in its transaction (idempotent)."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)


class WriteLogMiddleware:
    """Pure ASGI; after a successful write that no request transaction logged, it records the
    entry; after a successful read marked as a read of another organisation's non-public data
    (``outbox.note_private_read``: an authority, or a grant), it records that read too."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        install()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        state = scope.get("state", {})
        if scope["method"] not in WRITES:
            if status < 400 and state.get(PRIVATE_READ):
                owners = state.get(READ_OWNERS) or ()
                await run_in_threadpool(
                    record, self.engine, state.get("principal"), scope["method"], scope["path"], status, owners
                )
            return
        if status < 400 and not state.get(LOGGED):
            principal = state.get("principal")
            await run_in_threadpool(record, self.engine, principal, scope["method"], scope["path"], status)
