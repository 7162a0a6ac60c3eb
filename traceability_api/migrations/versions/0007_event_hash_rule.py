"""event hash rule: which version of the event hash rule each stored hash ID was computed with

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # events stored before this revision were hashed with rule 1 (see consensus/event_hash.py)
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash_rule", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("hash_rule")
