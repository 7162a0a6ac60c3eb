"""event signatures: the signature envelope of an event, the key registry mirror, custodial keys

Revision ID: 0010_sig
Revises: 0009
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import traceability_api.timeutil

revision: str = "0010_sig"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.JSON(), nullable=True))
    op.create_table(
        "signing_org",
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organisation.id"), primary_key=True),
        sa.Column("ref", sa.String(length=200), nullable=False, unique=True),
        sa.Column("registered_at", traceability_api.timeutil.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "signing_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False, unique=True),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("custodial", sa.Boolean(), nullable=False),
        sa.Column("keystore", sa.Text(), nullable=True),
        sa.Column("attestation", sa.Text(), nullable=True),
        sa.Column("created_at", traceability_api.timeutil.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signing_key_org_id", "signing_key", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_signing_key_org_id", table_name="signing_key")
    op.drop_table("signing_key")
    op.drop_table("signing_org")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("signature")
