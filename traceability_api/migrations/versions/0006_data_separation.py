"""data separation: attachment owners, sensor batch sequence numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment_owner",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["attachment.sha256"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("sha256", "org_id"),
    )
    op.execute("INSERT INTO attachment_owner (sha256, org_id) SELECT sha256, org_id FROM attachment")
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("seq_window", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.drop_column("seq_window")
        batch.drop_column("last_seq")
    op.drop_table("attachment_owner")
