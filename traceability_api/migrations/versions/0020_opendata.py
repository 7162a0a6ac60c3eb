"""opendata_file: published open-data files with their SHA-256; anchor item kind 'opendata'

Revision ID: 0020_opendata
Revises: 0019_cmap
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability_api.timeutil

revision: str = "0020_opendata"
down_revision: str | None = "0019_cmap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = traceability_api.timeutil.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "opendata_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("fmt", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_opendata_file_current", "opendata_file", ["dataset", "fmt", "id"])
    op.create_index("ix_opendata_file_sha256", "opendata_file", ["sha256"])
    if op.get_bind().dialect.name == "postgresql":
        # a native enum on PostgreSQL (SQLite stores the kind as text); usable once this migration commits
        op.execute("ALTER TYPE itemkind ADD VALUE IF NOT EXISTS 'opendata'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; an unused 'opendata' label is harmless
    op.drop_index("ix_opendata_file_sha256", table_name="opendata_file")
    op.drop_index("ix_opendata_file_current", table_name="opendata_file")
    op.drop_table("opendata_file")
