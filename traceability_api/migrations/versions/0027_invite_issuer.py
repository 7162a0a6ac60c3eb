"""Workspace invitations keep who issued them (``workspace_invite.issued_by``): an invitation is
live only while its issuer is an active admin of the organisation.  An admin demoted or deactivated
(someone leaving, a key revoked) left invitations that still made new members, admins included,
until they expired.  Invitations made before this migration (and create-org's first admin's, which
no member issued) have none and are checked as before.

Revision ID: 0027_invite_issuer
Revises: 0026_fsma_product_lots
Create Date: 2026-12-07 18:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_invite_issuer"
down_revision: str | None = "0026_fsma_product_lots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspace_invite", sa.Column("issued_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("workspace_invite", "issued_by")
