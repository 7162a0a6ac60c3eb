"""FSMA 204 rows: a product's change marks its own lots stale, not every row (0024 raised the
generation, so every lot of every product was rebuilt: 187 s of the refresh loop at 1,000,000
events, during which exports of stale lots built their rows from the events, ~24x slower).

A row names a product through a lot: its own lot's, or an input lot's for a packing or
transformation row, and an input lot's rows are rebuilt with its descendants (``fsma.cache``
``refresh``).  So marking the lots of the product covers every row that names it.  A product's
deletion still raises the generation (it has no lots left to mark: the foreign key).

Organisations and places still raise the generation: documents name them by GLN and party URIs
no column indexes.

Revision ID: 0026_fsma_product_lots
Revises: 0025_lot_first_event
Create Date: 2026-12-07 17:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026_fsma_product_lots"
down_revision: str | None = "0025_lot_first_event"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRODUCT_COLUMNS = "gtin, name, name_en, description, ftl_category"  # as 0024


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION fsma_mark_product_lots() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO fsma_stale_lot (lot_id, seq)
              SELECT id, nextval('fsma_stale_seq') FROM (SELECT id FROM lot WHERE product_id = NEW.id ORDER BY id) s
              ON CONFLICT (lot_id) DO UPDATE SET seq = excluded.seq;
              RETURN NULL;
            END $$""")
        op.execute("DROP TRIGGER fsma_product_change ON product")
        op.execute(
            f"CREATE TRIGGER fsma_product_change AFTER UPDATE OF {PRODUCT_COLUMNS} ON product FOR EACH ROW "
            "EXECUTE FUNCTION fsma_mark_product_lots()"
        )
        op.execute(
            "CREATE TRIGGER fsma_product_del AFTER DELETE ON product FOR EACH STATEMENT "
            "EXECUTE FUNCTION fsma_new_generation()"
        )
        return
    op.execute("DROP TRIGGER fsma_product_change")
    op.execute(
        f"CREATE TRIGGER fsma_product_change AFTER UPDATE OF {PRODUCT_COLUMNS} ON product FOR EACH ROW BEGIN "
        "INSERT INTO fsma_stale_lot (lot_id, seq) SELECT id, 1 FROM lot WHERE product_id = NEW.id "
        "ON CONFLICT (lot_id) DO UPDATE SET seq = fsma_stale_lot.seq + 1; END"
    )


def downgrade() -> None:
    bump = "UPDATE fsma_state SET generation = generation + 1 WHERE id = 1;"
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER fsma_product_del ON product")
        op.execute("DROP TRIGGER fsma_product_change ON product")
        op.execute("DROP FUNCTION fsma_mark_product_lots()")
        op.execute(
            f"CREATE TRIGGER fsma_product_change AFTER UPDATE OF {PRODUCT_COLUMNS} OR DELETE ON product "
            "FOR EACH STATEMENT EXECUTE FUNCTION fsma_new_generation()"
        )
        return
    op.execute("DROP TRIGGER fsma_product_change")
    op.execute(
        f"CREATE TRIGGER fsma_product_change AFTER UPDATE OF {PRODUCT_COLUMNS} ON product FOR EACH ROW BEGIN {bump} END"
    )
