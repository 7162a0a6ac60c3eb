"""Each lot keeps the time of its first event (``lot.first_event_at``, migration 0025), which the
chronology check of capture reads instead of the minimum over the lot's whole history: the
database's triggers keep it on every write, and the migration fills it for the lots already there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.world import World, make_world, obj_event, setup_rice
from traceability_api.runtime import Runtime

MINIMUM = "SELECT min(e.event_time) FROM event_lot l JOIN event e ON e.id = l.event_id WHERE l.lot_id = :lot"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def _kept(c: Connection, lot: int) -> datetime | None:
    value = c.execute(text("SELECT first_event_at FROM lot WHERE id = :lot"), {"lot": lot}).scalar()
    return _utc(value)


def _minimum(c: Connection, lot: int) -> datetime | None:
    return _utc(c.execute(text(MINIMUM), {"lot": lot}).scalar())


def _stored(runtime: Runtime, when: datetime) -> datetime:
    """A time as the service stores it (SQLite: naive UTC)."""
    return when.replace(tzinfo=None) if runtime.engine.dialect.name == "sqlite" else when


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def test_capture_and_every_other_write_keep_the_first_event_time(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)  # commissioned 2025-02-28 17:00 +07:00
    lot = rice["lot"]["id"]
    later = obj_event(rice["uri"], 1, "inspecting", time="2025-03-01T08:00:00+07:00")
    assert w.post(w.coop, "/api/v1/events", later).status_code == 201
    other = setup_rice(w, "L2")["lot"]["id"]  # commissioned 2025-02-28 17:00 +07:00 too
    with runtime.engine.begin() as c:
        assert _kept(c, lot) == _minimum(c, lot) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
        # written by SQL, not by capture: an earlier event linked to the lot moves the time back
        first_event = c.execute(text("SELECT min(event_id) FROM event_lot WHERE lot_id = :lot"), {"lot": lot}).scalar()
        early = _stored(runtime, datetime(2025, 2, 1, tzinfo=UTC))
        c.execute(text("UPDATE event SET event_time = :t WHERE id = :id"), {"t": early, "id": first_event})
        assert _kept(c, lot) == _minimum(c, lot) == datetime(2025, 2, 1, tzinfo=UTC)
        c.execute(text("DELETE FROM event_lot WHERE event_id = :id AND lot_id = :lot"), {"id": first_event, "lot": lot})
        assert _kept(c, lot) == _minimum(c, lot) == datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
        c.execute(text("DELETE FROM event_lot WHERE lot_id = :lot"), {"lot": lot})
        assert _kept(c, lot) is None
        c.execute(text("INSERT INTO event_lot (event_id, lot_id, role) VALUES (:id, :lot, 'epc')"),
                  {"id": first_event, "lot": lot})  # fmt: skip
        assert _kept(c, lot) == datetime(2025, 2, 1, tzinfo=UTC)
        c.execute(text("UPDATE event_lot SET lot_id = :other WHERE event_id = :id AND lot_id = :lot"),
                  {"other": other, "id": first_event, "lot": lot})  # fmt: skip
        assert _kept(c, other) == _minimum(c, other) == datetime(2025, 2, 1, tzinfo=UTC)
        assert _kept(c, lot) is None
        c.rollback()


def test_the_chronology_check_reads_the_kept_time(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    with runtime.engine.begin() as c:  # were the kept time wrong, capture would follow it
        late = _stored(runtime, datetime(2025, 3, 5, tzinfo=UTC))
        c.execute(text("UPDATE lot SET first_event_at = :t WHERE id = :lot"), {"t": late, "lot": rice["lot"]["id"]})
    r = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 1, "inspecting", time="2025-03-01T08:00:00+07:00"))
    assert r.status_code == 422 and "before lot L1 was commissioned (2025-03-05T07:00+07:00)" in r.json()["detail"], (
        r.text
    )


def test_the_migration_fills_in_the_lots_already_there(w: World, runtime: Runtime) -> None:
    from alembic import command

    from traceability_api.db import alembic_config

    rice = setup_rice(w)
    lot = rice["lot"]["id"]
    assert w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 1, "inspecting")).status_code == 201
    runtime.engine.dispose()
    command.downgrade(alembic_config(runtime.engine), "0024_fsma_cache")
    with runtime.engine.connect() as c:
        assert "first_event_at" not in c.execute(text("SELECT * FROM lot")).keys()
    command.upgrade(alembic_config(runtime.engine), "head")
    with runtime.engine.connect() as c:
        assert _kept(c, lot) == _minimum(c, lot) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
