"""sectors: barns, flock houses, ponds, cages and hatcheries with their sector codes; dissolved oxygen
and ammonia sensors; the banned-substance list as data; tagged animals and their placements; per-place
thresholds, alert channels and sensor alerts

Revision ID: 0012_sectors
Revises: 0011_workspace
Create Date: 2026-12-06 20:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import traceability_api.timeutil

revision: str = "0012_sectors"
down_revision: str | None = "0011_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_PLACE_KINDS = ("barn", "flock_house", "pond", "cage", "hatchery")
NEW_SENSOR_KINDS = ("dissolved_oxygen", "ammonia")
UTC = traceability_api.timeutil.UTCDateTime


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for v in NEW_PLACE_KINDS:
                op.execute(f"ALTER TYPE placekind ADD VALUE IF NOT EXISTS '{v}'")
            for v in NEW_SENSOR_KINDS:
                op.execute(f"ALTER TYPE sensorkind ADD VALUE IF NOT EXISTS '{v}'")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector_code", sa.String(length=40), nullable=True))

    banned = op.create_table(
        "banned_substance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sector", sa.String(), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("added_by_org_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("removed_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["added_by_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_banned_substance_name", "banned_substance", ["name"])
    from datetime import UTC as _UTC
    from datetime import datetime

    from traceability_api.evidence.banned import DEFAULT_LIST

    now = datetime.now(_UTC)
    op.bulk_insert(
        banned,
        [{"name": n, "sector": s, "legal_basis": b, "active": True, "created_at": now} for n, s, b in DEFAULT_LIST],
    )

    op.create_table(
        "animal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("species", sa.String(length=100), nullable=False),
        sa.Column("giai", sa.String(length=30), nullable=True),
        sa.Column("chip", sa.String(length=30), nullable=True),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("giai"),
        sa.UniqueConstraint("chip"),
    )
    op.create_index("ix_animal_org_id", "animal", ["org_id"])
    op.create_table(
        "animal_placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("animal_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("moved_in_at", UTC(timezone=True), nullable=False),
        sa.Column("moved_out_at", UTC(timezone=True), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["animal_id"], ["animal.id"]),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_animal_placement_animal_id", "animal_placement", ["animal_id"])
    op.create_index("ix_animal_placement_place_id", "animal_placement", ["place_id"])
    op.create_table(
        "place_threshold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("sustain_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("place_id", "kind", name="uq_threshold_place_kind"),
    )
    op.create_index("ix_place_threshold_place_id", "place_threshold", ["place_id"])
    op.create_table(
        "alert_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_channel_org_id", "alert_channel", ["org_id"])
    op.create_table(
        "sensor_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("bound", sa.String(length=4), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("peak", sa.Float(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(timezone=True), nullable=False),
        sa.Column("last_at", UTC(timezone=True), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("sustained_event_id", sa.Integer(), nullable=True),
        sa.Column("notified_at", UTC(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"]),
        sa.ForeignKeyConstraint(["sustained_event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sensor_alert_org_id", "sensor_alert", ["org_id"])
    op.create_index("ix_sensor_alert_device_id", "sensor_alert", ["device_id"])
    op.create_table(
        "alert_cursor",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"]),
        sa.PrimaryKeyConstraint("device_id"),
    )


def downgrade() -> None:
    for table in (
        "alert_cursor",
        "sensor_alert",
        "alert_channel",
        "place_threshold",
        "animal_placement",
        "animal",
        "banned_substance",
    ):
        op.drop_table(table)
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_column("sector_code")
    # PostgreSQL cannot drop enum values; the new place and sensor kinds stay defined (unused)
