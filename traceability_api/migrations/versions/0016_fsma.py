"""FSMA 204: organisation phone and point of contact, product's Food Traceability List category

Revision ID: 0016_fsma
Revises: 0015_crecall
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016_fsma"
down_revision: str | None = "0015_crecall"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation") as b:
        b.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        b.add_column(sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    with op.batch_alter_table("product") as b:
        b.add_column(sa.Column("ftl_category", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("product") as b:
        b.drop_column("ftl_category")
    with op.batch_alter_table("organisation") as b:
        b.drop_column("contact_name")
        b.drop_column("phone")
