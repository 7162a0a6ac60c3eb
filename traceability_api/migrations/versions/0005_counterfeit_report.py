"""counterfeit reports from the unknown-code page

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability_api.timeutil

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counterfeit_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("gtin", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False),
        sa.Column("lot_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("brand_org_id", sa.Integer(), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("client_hash", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", traceability_api.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["brand_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_counterfeit_report_gtin", "counterfeit_report", ["gtin"])
    op.create_index("ix_counterfeit_report_brand_org_id", "counterfeit_report", ["brand_org_id"])
    op.create_index("ix_counterfeit_report_client_hash", "counterfeit_report", ["client_hash"])


def downgrade() -> None:
    op.drop_table("counterfeit_report")
