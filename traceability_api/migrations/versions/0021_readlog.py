"""readlog: the organisations whose data a logged read showed (audit_read_owner), append-only

Revision ID: 0021_readlog
Revises: 0020_opendata
Create Date: 2026-12-07 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_readlog"
down_revision: str | None = "0020_opendata"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_read_owner",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["audit_log.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("entry_id", "org_id"),
    )
    op.create_index("ix_audit_read_owner_org_entry", "audit_read_owner", ["org_id", "entry_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_read_owner_append_only BEFORE UPDATE OR DELETE ON audit_read_owner "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_read_owner_no_{verb.lower()} BEFORE {verb} ON audit_read_owner "
                "BEGIN SELECT RAISE(ABORT, 'audit_read_owner is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_read_owner_append_only ON audit_read_owner")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_read_owner_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_read_owner_no_delete")
    op.drop_index("ix_audit_read_owner_org_entry", table_name="audit_read_owner")
    op.drop_table("audit_read_owner")
