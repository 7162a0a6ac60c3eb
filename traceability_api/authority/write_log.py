"""The append-only write log (served at /api/v1/audit-log; "audit" alone names the tamper audit in
``traceability_api.audit``): one row per successful write request (who, when, what), its
digest anchored on chain like an event.  Written by one middleware for every router."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability_api.authority.models import WriteLogEntry
from traceability_api.consensus.records import write_log_digest
from traceability_api.outbox import ItemKind, Pending, enqueue
from traceability_api.timeutil import utcnow

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def entry_digest(entry: WriteLogEntry) -> str:
    return write_log_digest(entry.at, entry.org_id, entry.member_id, entry.method, entry.path, entry.status)


def record(engine: Engine, principal: Any, method: str, path: str, status: int) -> None:
    entry = WriteLogEntry(at=utcnow(), org_id=getattr(principal, "org_id", None),
                     member_id=getattr(principal, "member_id", None), method=method, path=path[:300], status=status,
                     digest="")  # fmt: skip
    entry.digest = entry_digest(entry)
    with Session(engine) as s:
        s.add(entry)
        s.flush()
        assert entry.id is not None
        enqueue(s, [Pending(ItemKind.audit, entry.id, entry.digest)])
        s.commit()


class WriteLogMiddleware:
    """Pure ASGI (reads pass straight through); after a successful write it records the entry."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status < 400:
            principal = scope.get("state", {}).get("principal")
            await run_in_threadpool(record, self.engine, principal, scope["method"], scope["path"], status)
