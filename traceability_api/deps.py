"""Annotated dependency aliases shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from traceability_api.config import Settings
from traceability_api.outbox import REQUEST_STATE, WriteRequest, add_write_request
from traceability_api.runtime import Runtime

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_runtime(request: Request) -> Runtime:  # async: no thread hop for an attribute read
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_app_settings(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Settings:
    return runtime.settings


async def get_session(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[Session]:
    """The request's session; on a write request its first commit also writes the request's
    write-log entry (one transaction, see ``authority.write_log``); a read request's session
    carries the request's state, so a read of private data can be marked for the log.

    Async, with no I/O of its own on the event loop: making a session touches no database, so it
    costs no hop to a worker thread (a sync generator dependency costs two, on entry and exit);
    only a session still holding a connection at the end is closed in a worker thread (its
    rollback is a round trip to the database)."""
    session = Session(runtime.engine, expire_on_commit=False)
    try:
        if request.method in WRITE_METHODS:
            scope = request.scope
            write = WriteRequest(scope.setdefault("state", {}), scope["method"], scope["path"], scope=scope)
            add_write_request(session.info, write)
        else:  # a read of another organisation's non-public data marks it, for the write log
            session.info[REQUEST_STATE] = request.scope.setdefault("state", {})
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
