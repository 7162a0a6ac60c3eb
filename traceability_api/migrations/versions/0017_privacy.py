"""privacy: event visibility, disclosure commitments (salts, root), sharing grants of lots

Revision ID: 0017_privacy
Revises: 0016_fsma (re-chained at the merge of main: was 0013_wsoffline)
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability_api.timeutil

revision: str = "0017_privacy"
down_revision: str | None = "0016_fsma"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = traceability_api.timeutil.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="public")
        )
        batch_op.create_index(batch_op.f("ix_event_visibility"), ["visibility"], unique=False)
    op.create_table(
        "event_disclosure",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("salts", sa.JSON(), nullable=False),
        sa.Column("root", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "sharing_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("grantee_org_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["grantee_org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sharing_grant_org_id", "sharing_grant", ["org_id"])
    op.create_index("ix_sharing_grant_grantee", "sharing_grant", ["grantee_org_id", "lot_id"])
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE itemkind ADD VALUE IF NOT EXISTS 'disclosure'")


def downgrade() -> None:
    op.drop_index("ix_sharing_grant_grantee", table_name="sharing_grant")
    op.drop_index("ix_sharing_grant_org_id", table_name="sharing_grant")
    op.drop_table("sharing_grant")
    op.drop_table("event_disclosure")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_visibility"))
        batch_op.drop_column("visibility")
