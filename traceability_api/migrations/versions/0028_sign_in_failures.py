"""Failed sign-ins of usernames nobody has (``sign_in_failure``), counted in the database as a
member's are in ``workspace_login``: they were counted per worker process, so a run of tries spread
over the workers (or across a restart) locked a real username sooner than an unknown one, which
told an attacker which usernames exist.

Revision ID: 0028_sign_in_failures
Revises: 0027_invite_issuer
Create Date: 2026-12-07 20:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from traceability_api.timeutil import UTCDateTime

revision: str = "0028_sign_in_failures"
down_revision: str | None = "0027_invite_issuer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("name_hash", sa.String(length=64), primary_key=True),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_failure_last_at", "sign_in_failure", ["last_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_last_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
