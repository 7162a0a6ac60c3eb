"""natrecord: the standards a product is made to (TCVN / QCVN / TCCS with numbers), for the national
traceability record (Circular 02/2024/TT-BKHCN)

Revision ID: 0018_natrecord
Revises: 0017_privacy
Create Date: 2026-12-06 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_natrecord"
down_revision: str | None = "0017_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing products get an empty list (a server default, so both dialects fill the rows). A plain
    # string, not sa.text(): an expression default makes Alembic's SQLite batch copy and drop the
    # table, which fails ("FOREIGN KEY constraint failed") once lots reference the products.
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("standards", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("standards")
