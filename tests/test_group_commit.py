"""One commit per write request, group commit of concurrent single-event captures, and a pool that
survives a killed database backend without pinging on every checkout."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func
from sqlmodel import Session, select

from tests.conftest import TEST_DB
from tests.world import World, make_world, obj_event, setup_rice
from traceability_api.authority.models import WriteLogEntry
from traceability_api.errors import Conflict, Forbidden
from traceability_api.events.capture import DEFAULT_CONTEXT, Captured, prepare_events
from traceability_api.events.group_commit import GroupCommit
from traceability_api.events.models import Event
from traceability_api.outbox import AnchorItem, ItemKind
from traceability_api.parties.service import Principal, authenticate
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def count(runtime: Runtime, model: Any, *where: Any) -> int:
    with Session(runtime.engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def commits_during(runtime: Runtime, fn: Any) -> tuple[int, Any]:
    seen: list[int] = []

    def on_commit(_conn: Any) -> None:
        seen.append(1)

    event.listen(runtime.engine, "commit", on_commit)
    try:
        out = fn()
    finally:
        event.remove(runtime.engine, "commit", on_commit)
    return len(seen), out


def principal(runtime: Runtime, key: str) -> Principal:
    with Session(runtime.engine) as s:
        return authenticate(s, key)


def test_one_commit_per_write_request_with_its_log_entry(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    entries = count(runtime, WriteLogEntry)
    ev = obj_event(rice["uri"], 5, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")
    n, r = commits_during(runtime, lambda: w.post(w.coop, "/api/v1/events", ev, role="recorder"))
    assert r.status_code == 201, r.text
    assert n == 1  # the event, its outbox row and the write-log entry with its outbox row: one transaction
    n, r = commits_during(runtime, lambda: w.post(w.coop, "/api/v1/events", ev, role="recorder"))
    assert r.status_code == 200 and r.json()["duplicate"] is True and n == 1
    doc = {"@context": DEFAULT_CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2025-03-01T00:00:00Z", "epcisBody": {"eventList": [
               obj_event(rice["uri"], 1, "inspecting", eventID=f"urn:{uuid.uuid4()}") for _ in range(3)]}}  # fmt: skip
    n, r = commits_during(runtime, lambda: w.post(w.coop, "/api/v1/capture", doc, role="recorder"))
    assert r.status_code == 201 and n == 1
    with Session(runtime.engine) as s:
        new = s.exec(select(WriteLogEntry).order_by(WriteLogEntry.id).offset(entries)).all()  # type: ignore[arg-type]
        assert [(e.method, e.path, e.status) for e in new] == [
            ("POST", "/api/v1/events", 201), ("POST", "/api/v1/events", 200),
            ("POST", "/api/v1/capture", 201)]  # fmt: skip
        audit = s.exec(select(AnchorItem).where(AnchorItem.kind == ItemKind.audit)).all()
        assert {a.ref_id for a in audit} >= {e.id for e in new}  # each entry is anchored
    # a refused write commits nothing and logs nothing
    bad = obj_event(rice["uri"], 5, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")
    n, r = commits_during(runtime, lambda: w.post(w.mill, "/api/v1/events", bad, role="recorder"))
    assert r.status_code == 403 and n == 0
    assert count(runtime, WriteLogEntry) == entries + 3


def run_group(group: GroupCommit, jobs: list[tuple[Principal, dict[str, Any]]]) -> list[Captured | BaseException]:
    """All jobs from their own threads at once; the group's wait lets all of them join."""
    out: list[Captured | BaseException] = [RuntimeError("not run")] * len(jobs)
    start = threading.Barrier(len(jobs))

    def go(i: int) -> None:
        p, ev = jobs[i]
        (pe,) = prepare_events([ev], DEFAULT_CONTEXT, group.settings)
        start.wait()
        try:
            out[i] = group.capture(p, pe)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            out[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_group_commit_stores_each_event_once_and_isolates_failures(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    coop = principal(runtime, w.coop.keys["recorder"])
    coop_admin = principal(runtime, w.coop.keys["admin"])
    mill = principal(runtime, w.mill.keys["recorder"])
    earlier = obj_event(rice["uri"], 3, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")
    first = w.post(w.coop, "/api/v1/events", earlier, role="recorder").json()
    ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(6)]
    good = [
        (coop if i % 2 else coop_admin, obj_event(rice["uri"], i + 1, "inspecting", eventID=ids[i])) for i in range(6)
    ]
    jobs = [
        *good,
        (mill, obj_event(rice["uri"], 1, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")),  # not the mill's lot
        (coop, obj_event(rice["uri"], 99, "storing", eventID=earlier["eventID"])),  # its eventID for another event
        (coop_admin, earlier),  # a true repeat
    ]
    group = GroupCommit(runtime.engine, runtime.settings, runtime.capture_checks, wait_s=5.0, max_group=len(jobs))
    events_before = count(runtime, Event)
    out = run_group(group, jobs)
    assert group.groups >= 1
    stored = out[:6]
    assert all(isinstance(o, Captured) and not o.duplicate for o in stored), out
    assert isinstance(out[6], Forbidden)
    assert isinstance(out[7], Conflict)
    repeat = out[8]
    assert isinstance(repeat, Captured) and repeat.duplicate and repeat.id == first["id"]
    assert count(runtime, Event) == events_before + 6
    with Session(runtime.engine) as s:
        for eid in ids:
            e = s.exec(select(Event).where(Event.client_event_id == eid)).one()
            outbox = s.exec(
                select(AnchorItem).where(AnchorItem.kind == ItemKind.event, AnchorItem.ref_id == e.id)
            ).all()
            assert len(outbox) == 1  # anchored exactly once


def test_group_commit_one_transaction_for_concurrent_events(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    coop = principal(runtime, w.coop.keys["recorder"])
    n = 8
    jobs = [(coop, obj_event(rice["uri"], 1, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")) for _ in range(n)]
    group = GroupCommit(runtime.engine, runtime.settings, runtime.capture_checks, wait_s=5.0, max_group=n)
    commits, out = commits_during(runtime, lambda: run_group(group, jobs))
    assert all(isinstance(o, Captured) and not o.duplicate for o in out), out
    assert (group.groups, commits) == (1, 1)
    assert len({o.id for o in out}) == n  # type: ignore[union-attr]


def test_concurrent_http_single_events(w: World, runtime: Runtime, app_client: TestClient) -> None:
    rice = setup_rice(w)
    assert runtime.capture_group is not None
    entries = count(runtime, WriteLogEntry)
    results: list[int] = []

    def post(i: int) -> None:
        ev = obj_event(rice["uri"], 1, "sampling", eventID=f"urn:uuid:{uuid.uuid4()}")
        results.append(w.post(w.coop, "/api/v1/events", ev, role="recorder").status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 12
    assert count(runtime, WriteLogEntry) == entries + 12


@pytest.mark.skipif(TEST_DB != "postgresql", reason="terminates a PostgreSQL backend")
def test_request_after_backend_killed_succeeds(w: World, runtime: Runtime, database_url: str) -> None:
    rice = setup_rice(w)
    assert not runtime.engine.pool._pre_ping  # type: ignore[attr-defined]
    pool_queue = runtime.engine.pool._pool.queue  # type: ignore[attr-defined]
    pids = [rec.dbapi_connection.info.backend_pid for rec in list(pool_queue) if rec.dbapi_connection is not None]
    assert pids, "the pool keeps the request connections"
    dsn = database_url.split("?", 1)[0]
    with psycopg.connect(dsn, autocommit=True) as admin:
        for pid in pids:
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)
    for i in range(3):  # every pooled connection is dead: each request must still succeed
        ev = obj_event(rice["uri"], 1, "inspecting", eventID=f"urn:uuid:{uuid.uuid4()}")
        r = w.post(w.coop, "/api/v1/events", ev, role="recorder")
        assert r.status_code == 201, (i, r.text)
        assert w.get(w.coop, f"/api/v1/lots/{rice['lot']['id']}").status_code == 200
