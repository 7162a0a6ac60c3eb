"""cmap: places name their commune, district and province (the console's map labels and the
figures by commune)

Revision ID: 0019_cmap
Revises: 0018_natrecord
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_cmap"
down_revision: str | None = "0018_natrecord"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("commune", "district", "province")


def upgrade() -> None:
    with op.batch_alter_table("place", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=True))
    op.create_index("ix_place_commune", "place", ["commune"])


def downgrade() -> None:
    op.drop_index("ix_place_commune", table_name="place")
    with op.batch_alter_table("place", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
