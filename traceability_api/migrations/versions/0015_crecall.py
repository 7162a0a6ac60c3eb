"""recall.status / closed_at, recall_notice: each holder's notice of a recall (delivery, retries,
hashed one-time acknowledgement tokens, acknowledgement)

Revision ID: 0015_crecall
Revises: 0013_wsoffline
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability_api.timeutil

revision: str = "0015_crecall"
down_revision: str | None = "0014_registries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = traceability_api.timeutil.UTCDateTime
Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", Str(length=10), nullable=False, server_default="open"))
        batch_op.add_column(sa.Column("closed_at", UTC(timezone=True), nullable=True))
    op.create_table(
        "recall_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("state", Str(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTC(timezone=True), nullable=True),
        sa.Column("done_channels", sa.JSON(), nullable=False),
        sa.Column("token_hashes", sa.JSON(), nullable=False),
        sa.Column("last_result", Str(length=500), nullable=False),
        sa.Column("notified_at", UTC(timezone=True), nullable=True),
        sa.Column("acknowledged_at", UTC(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["recall_id"], ["recall.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recall_notice_recall_id", "recall_notice", ["recall_id"])
    op.create_index("ix_recall_notice_org_id", "recall_notice", ["org_id"])
    op.create_index("ix_recall_notice_next_try_at", "recall_notice", ["next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_recall_notice_next_try_at", table_name="recall_notice")
    op.drop_index("ix_recall_notice_org_id", table_name="recall_notice")
    op.drop_index("ix_recall_notice_recall_id", table_name="recall_notice")
    op.drop_table("recall_notice")
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("status")
