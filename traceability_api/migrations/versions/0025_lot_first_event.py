"""Each lot keeps the time of its first event (``lot.first_event_at``), kept by triggers.

Capture refuses an event dated before the first event of a lot it touches (``events.chronology``).
It read that time as ``min(event_time)`` over every event of the lot, on each capture: a cost that
grew with the lot's history (PostgreSQL, one lot, same machine: 10 events 1.6 ms, 1,000 events
28 ms, 100,000 events 71 ms per capture).  The column is read with the lot instead.

Triggers keep it, so every writer (capture, imports, demo loaders, SQL) does:

- an event_lot row inserted: the lot's time becomes the event's if the lot had none or a later one
  (capture never dates an event before it, so after the first event this writes nothing);
- an event_lot row changed or deleted, or an event's time changed: the lots concerned get their
  minimum again (no code path does these; they are here so the column cannot go wrong).

SQLite: as for 0024's triggers, a later ``batch_alter_table`` on event or event_lot recreates the
table and loses these triggers (``tests/test_lot_first_event.py`` would fail).

Revision ID: 0025_lot_first_event
Revises: 0024_fsma_cache
Create Date: 2026-12-07 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traceability_api.timeutil import UTCDateTime

revision: str = "0025_lot_first_event"
down_revision: str | None = "0024_fsma_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {  # name: table (dropped by downgrade)
    "lot_first_event_ins": "event_lot",
    "lot_first_event_upd": "event_lot",
    "lot_first_event_del": "event_lot",
    "lot_first_event_time": "event",
}


def _minimum(lot: str) -> str:
    return f"(SELECT min(e.event_time) FROM event_lot l JOIN event e ON e.id = l.event_id WHERE l.lot_id = {lot})"


def upgrade() -> None:
    op.add_column(
        "lot", sa.Column("first_event_at", UTCDateTime(), nullable=True)
    )  # ADD COLUMN: SQLite keeps its triggers
    op.execute(f"UPDATE lot SET first_event_at = {_minimum('lot.id')}")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION lot_first_event_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE lot SET first_event_at = m.t FROM (SELECT n.lot_id, min(e.event_time) AS t FROM new_links n "
        "JOIN event e ON e.id = n.event_id GROUP BY n.lot_id) m "
        "WHERE lot.id = m.lot_id AND (lot.first_event_at IS NULL OR lot.first_event_at > m.t); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION lot_first_event_again() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_TABLE_NAME = 'event' THEN "
        f"UPDATE lot SET first_event_at = {_minimum('lot.id')} "
        "WHERE lot.id IN (SELECT lot_id FROM event_lot WHERE event_id = NEW.id); "
        "ELSE "
        f"UPDATE lot SET first_event_at = {_minimum('lot.id')} WHERE lot.id = OLD.lot_id; "
        f"IF TG_OP = 'UPDATE' THEN UPDATE lot SET first_event_at = {_minimum('lot.id')} WHERE lot.id = NEW.lot_id; END IF; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER lot_first_event_ins AFTER INSERT ON event_lot REFERENCING NEW TABLE AS new_links "
        "FOR EACH STATEMENT EXECUTE FUNCTION lot_first_event_add()"
    )
    op.execute(
        "CREATE TRIGGER lot_first_event_upd AFTER UPDATE OF lot_id, event_id ON event_lot FOR EACH ROW "
        "EXECUTE FUNCTION lot_first_event_again()"
    )
    op.execute(
        "CREATE TRIGGER lot_first_event_del AFTER DELETE ON event_lot FOR EACH ROW EXECUTE FUNCTION lot_first_event_again()"
    )
    op.execute(
        "CREATE TRIGGER lot_first_event_time AFTER UPDATE OF event_time ON event FOR EACH ROW "
        "WHEN (OLD.event_time IS DISTINCT FROM NEW.event_time) EXECUTE FUNCTION lot_first_event_again()"
    )


def _sqlite_triggers() -> None:
    time_of_new = "(SELECT event_time FROM event WHERE id = NEW.event_id)"
    again = f"UPDATE lot SET first_event_at = {_minimum('lot.id')} WHERE id = "
    for name, when, body in (
        (
            "lot_first_event_ins",
            "AFTER INSERT ON event_lot",
            f"UPDATE lot SET first_event_at = {time_of_new} WHERE id = NEW.lot_id "
            f"AND (first_event_at IS NULL OR first_event_at > {time_of_new});",
        ),
        (
            "lot_first_event_upd",
            "AFTER UPDATE OF lot_id, event_id ON event_lot",
            f"{again}OLD.lot_id; {again}NEW.lot_id;",
        ),
        ("lot_first_event_del", "AFTER DELETE ON event_lot", f"{again}OLD.lot_id;"),
        (
            "lot_first_event_time",
            "AFTER UPDATE OF event_time ON event",
            f"UPDATE lot SET first_event_at = {_minimum('lot.id')} "
            "WHERE id IN (SELECT lot_id FROM event_lot WHERE event_id = NEW.id);",
        ),
    ):
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN {body} END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgresql else f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS lot_first_event_add()")
        op.execute("DROP FUNCTION IF EXISTS lot_first_event_again()")
    op.drop_column("lot", "first_event_at")  # SQLite 3.35+: DROP COLUMN, the table's other triggers stay
