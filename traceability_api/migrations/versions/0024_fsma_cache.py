"""FSMA 204 records kept on write (issue 20): the spreadsheet's rows, one per CTE, pre-rendered as
CSV lines (``fsma_row``), rebuilt lot by lot when what they read changes (``fsma.cache``).

What marks a lot stale is written here as triggers, so that every writer (capture, imports, demo
loaders, SQL) marks it, not only the code paths that remember to:

- an event_lot row inserted, changed or deleted: its lot;
- an event's columns the rows read changed (its time, step, place, document, visibility ...): its lots;
- a lot's columns the rows read changed, or the lot deleted: the lot;
- a lot_link row (a lot made from another): the child lot (the refresh adds every descendant of a
  stale lot, whose rows read their inputs' coolings and codes);
- an organisation, place or product the rows describe (names, addresses, codes, GLNs): everything,
  by raising ``fsma_state.generation`` (rows built at an older generation are stale; the refresh
  loop rebuilds them in the background).

``fsma_stale_lot.seq`` changes on every mark, so a refresh that read a lot's mark deletes it only if
no write marked the lot again meanwhile (PostgreSQL: a sequence; SQLite takes one writer at a time).

SQLite: ``batch_alter_table`` on event, event_lot, lot, lot_link, organisation, place or product
recreates the table and loses its triggers: a later migration doing that must create them again
(``tests/test_fsma_cache.py`` checks that capture still marks lots).

Revision ID: 0024_fsma_cache
Revises: 0023_merkletree
Create Date: 2026-12-07 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traceability_api.timeutil import UTCDateTime

revision: str = "0024_fsma_cache"
down_revision: str | None = "0023_merkletree"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_COLUMNS = "org_id, event_type, biz_step, event_time, place_id, document, visibility, hash_id"
LOT_COLUMNS = "product_id, lot_code, owner_org_id, uom, origin_place_id, harvest_date"
ORG_COLUMNS = "name, address, phone, gln"
PLACE_COLUMNS = "org_id, kind, name, address, geo, gln, planting_area_code, sector_code"
PRODUCT_COLUMNS = "gtin, name, name_en, description, ftl_category"
TRIGGERS = {  # name: table (dropped by downgrade)
    "fsma_event_lot_ins": "event_lot",
    "fsma_event_lot_upd": "event_lot",
    "fsma_event_lot_del": "event_lot",
    "fsma_event_upd": "event",
    "fsma_lot_upd": "lot",
    "fsma_lot_del": "lot",
    "fsma_lot_link_ins": "lot_link",
    "fsma_lot_link_del": "lot_link",
    "fsma_org_change": "organisation",
    "fsma_org_ins": "organisation",
    "fsma_place_change": "place",
    "fsma_place_ins": "place",
    "fsma_product_change": "product",
}


def upgrade() -> None:
    op.create_table(
        "fsma_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("generation", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO fsma_state (id, generation) VALUES (1, 1)")
    op.create_table(
        "fsma_stale_lot",
        sa.Column("lot_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "fsma_lot",
        sa.Column("lot_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger(), nullable=False, index=True),
    )
    op.create_table(
        "fsma_row",
        sa.Column("pair_id", sa.Integer(), primary_key=True, autoincrement=False),  # event_lot.id
        sa.Column("lot_id", sa.Integer(), nullable=False, index=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("lot_code", sa.String(20), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("ftl", sa.Boolean(), nullable=False),
        # ",3,7,": the organisations whose non-public events the row draws on ("" when none)
        sa.Column("private_owners", sa.String(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),  # the CSV line, without its line break
    )
    op.create_index("ix_fsma_row_order", "fsma_row", ["gtin", "event_time", "event_id", "pair_id"])
    op.create_index(
        "ix_fsma_row_private",
        "fsma_row",
        ["gtin", "event_time"],
        postgresql_where=sa.text("private_owners <> ''"),
        sqlite_where=sa.text("private_owners <> ''"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    # every lot with events is stale until the first refresh builds its rows
    seq = "nextval('fsma_stale_seq')" if op.get_bind().dialect.name == "postgresql" else "1"
    op.execute(
        f"INSERT INTO fsma_stale_lot (lot_id, seq) SELECT lot_id, {seq} FROM (SELECT DISTINCT lot_id FROM event_lot) s"
    )


def _postgresql_triggers() -> None:
    op.execute("CREATE SEQUENCE fsma_stale_seq")
    upsert = "ON CONFLICT (lot_id) DO UPDATE SET seq = excluded.seq"
    op.execute(f"""
        CREATE FUNCTION fsma_mark_new_pairs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO fsma_stale_lot (lot_id, seq)
          SELECT lot_id, nextval('fsma_stale_seq') FROM (SELECT DISTINCT lot_id FROM new_pairs ORDER BY lot_id) s
          {upsert};
          RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION fsma_mark_lot() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          target integer;
        BEGIN
          -- TG_ARGV[0]: the column naming the lot ('lot_id', 'id' or 'child_lot_id')
          FOR target IN SELECT DISTINCT v FROM unnest(ARRAY[
              CASE WHEN TG_OP <> 'INSERT' THEN (to_jsonb(OLD) ->> TG_ARGV[0])::integer END,
              CASE WHEN TG_OP <> 'DELETE' THEN (to_jsonb(NEW) ->> TG_ARGV[0])::integer END]) AS v
            WHERE v IS NOT NULL ORDER BY v
          LOOP
            INSERT INTO fsma_stale_lot (lot_id, seq) VALUES (target, nextval('fsma_stale_seq')) {upsert};
          END LOOP;
          RETURN NULL;
        END $$""")
    op.execute(f"""
        CREATE FUNCTION fsma_mark_event_lots() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO fsma_stale_lot (lot_id, seq)
          SELECT lot_id, nextval('fsma_stale_seq')
          FROM (SELECT DISTINCT lot_id FROM event_lot WHERE event_id = NEW.id ORDER BY lot_id) s
          {upsert};
          RETURN NULL;
        END $$""")
    op.execute("""
        CREATE FUNCTION fsma_new_generation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE fsma_state SET generation = generation + 1 WHERE id = 1;
          RETURN NULL;
        END $$""")
    op.execute(
        "CREATE TRIGGER fsma_event_lot_ins AFTER INSERT ON event_lot REFERENCING NEW TABLE AS new_pairs "
        "FOR EACH STATEMENT EXECUTE FUNCTION fsma_mark_new_pairs()"
    )
    op.execute(
        "CREATE TRIGGER fsma_event_lot_upd AFTER UPDATE ON event_lot FOR EACH ROW EXECUTE FUNCTION fsma_mark_lot('lot_id')"
    )
    op.execute(
        "CREATE TRIGGER fsma_event_lot_del AFTER DELETE ON event_lot FOR EACH ROW EXECUTE FUNCTION fsma_mark_lot('lot_id')"
    )
    op.execute(
        f"CREATE TRIGGER fsma_event_upd AFTER UPDATE OF {EVENT_COLUMNS} ON event FOR EACH ROW "
        "EXECUTE FUNCTION fsma_mark_event_lots()"
    )
    op.execute(
        f"CREATE TRIGGER fsma_lot_upd AFTER UPDATE OF {LOT_COLUMNS} ON lot FOR EACH ROW EXECUTE FUNCTION fsma_mark_lot('id')"
    )
    op.execute("CREATE TRIGGER fsma_lot_del AFTER DELETE ON lot FOR EACH ROW EXECUTE FUNCTION fsma_mark_lot('id')")
    op.execute(
        "CREATE TRIGGER fsma_lot_link_ins AFTER INSERT OR UPDATE ON lot_link FOR EACH ROW "
        "EXECUTE FUNCTION fsma_mark_lot('child_lot_id')"
    )
    op.execute(
        "CREATE TRIGGER fsma_lot_link_del AFTER DELETE ON lot_link FOR EACH ROW EXECUTE FUNCTION fsma_mark_lot('child_lot_id')"
    )
    for name, table, columns in (
        ("fsma_org_change", "organisation", ORG_COLUMNS),
        ("fsma_place_change", "place", PLACE_COLUMNS),
        ("fsma_product_change", "product", PRODUCT_COLUMNS),
    ):
        op.execute(
            f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} OR DELETE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION fsma_new_generation()"
        )
    # a new organisation may be a party that documents already name; a new place with a GLN a TLC source
    op.execute(
        "CREATE TRIGGER fsma_org_ins AFTER INSERT ON organisation FOR EACH STATEMENT EXECUTE FUNCTION fsma_new_generation()"
    )
    op.execute(
        "CREATE TRIGGER fsma_place_ins AFTER INSERT ON place FOR EACH ROW WHEN (NEW.gln IS NOT NULL) "
        "EXECUTE FUNCTION fsma_new_generation()"
    )


def _sqlite_triggers() -> None:
    def mark(lot: str) -> str:
        return (
            f"INSERT INTO fsma_stale_lot (lot_id, seq) VALUES ({lot}, 1) "
            "ON CONFLICT (lot_id) DO UPDATE SET seq = fsma_stale_lot.seq + 1;"
        )

    bump = "UPDATE fsma_state SET generation = generation + 1 WHERE id = 1;"
    event_lots = (
        "INSERT INTO fsma_stale_lot (lot_id, seq) SELECT DISTINCT lot_id, 1 FROM event_lot WHERE event_id = NEW.id "
        "ON CONFLICT (lot_id) DO UPDATE SET seq = fsma_stale_lot.seq + 1;"
    )
    for name, when, body in (
        ("fsma_event_lot_ins", "AFTER INSERT ON event_lot", mark("NEW.lot_id")),
        ("fsma_event_lot_upd", "AFTER UPDATE ON event_lot", mark("OLD.lot_id") + mark("NEW.lot_id")),
        ("fsma_event_lot_del", "AFTER DELETE ON event_lot", mark("OLD.lot_id")),
        ("fsma_event_upd", f"AFTER UPDATE OF {EVENT_COLUMNS} ON event", event_lots),
        ("fsma_lot_upd", f"AFTER UPDATE OF {LOT_COLUMNS} ON lot", mark("NEW.id")),
        ("fsma_lot_del", "AFTER DELETE ON lot", mark("OLD.id")),
        ("fsma_lot_link_ins", "AFTER INSERT ON lot_link", mark("NEW.child_lot_id")),
        ("fsma_lot_link_del", "AFTER DELETE ON lot_link", mark("OLD.child_lot_id")),
        ("fsma_org_change", f"AFTER UPDATE OF {ORG_COLUMNS} ON organisation", bump),
        ("fsma_org_ins", "AFTER INSERT ON organisation", bump),
        ("fsma_place_change", f"AFTER UPDATE OF {PLACE_COLUMNS} ON place", bump),
        ("fsma_place_ins", "AFTER INSERT ON place", bump),
        ("fsma_product_change", f"AFTER UPDATE OF {PRODUCT_COLUMNS} ON product", bump),
    ):
        only = " WHEN NEW.gln IS NOT NULL" if name == "fsma_place_ins" else ""
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW{only} BEGIN {body} END")
    for name, table in (("fsma_org_del", "organisation"), ("fsma_place_del", "place"), ("fsma_product_del", "product")):
        op.execute(f"CREATE TRIGGER {name} AFTER DELETE ON {table} FOR EACH ROW BEGIN {bump} END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    names = dict(TRIGGERS)
    if not postgresql:
        names |= {"fsma_org_del": "organisation", "fsma_place_del": "place", "fsma_product_del": "product"}
    for name, table in names.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgresql else f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        for fn in ("fsma_mark_new_pairs", "fsma_mark_lot", "fsma_mark_event_lots", "fsma_new_generation"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
        op.execute("DROP SEQUENCE IF EXISTS fsma_stale_seq")
    op.drop_index("ix_fsma_row_private", table_name="fsma_row")
    op.drop_index("ix_fsma_row_order", table_name="fsma_row")
    for table in ("fsma_row", "fsma_lot", "fsma_stale_lot", "fsma_state"):
        op.drop_table(table)
