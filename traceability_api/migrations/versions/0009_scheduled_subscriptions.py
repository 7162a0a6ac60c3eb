"""scheduled subscriptions: the next fire time of a scheduled EPCIS query subscription

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import traceability_api.timeutil

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("query_subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_fire_at", traceability_api.timeutil.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("query_subscription", schema=None) as batch_op:
        batch_op.drop_column("next_fire_at")
