"""Workspace home (issue 14): indexes for the incoming shipments (lot.in_transit_to_org_id) and for
an organisation's sprayings / drug events of a window, place by place (event place, step, time)

Revision ID: 0022_wsperf
Revises: 0021_readlog
Create Date: 2026-12-07 00:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_wsperf"
down_revision: str | None = "0021_readlog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lot") as b:
        b.create_index(b.f("ix_lot_in_transit_to_org_id"), ["in_transit_to_org_id"], unique=False)
    with op.batch_alter_table("event") as b:
        b.create_index("ix_event_place_step_time", ["place_id", "biz_step", "event_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event") as b:
        b.drop_index("ix_event_place_step_time")
    with op.batch_alter_table("lot") as b:
        b.drop_index(b.f("ix_lot_in_transit_to_org_id"))
