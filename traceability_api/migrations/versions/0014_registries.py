"""registries: registered planting-area and packing-house codes (with importing markets, validity,
status), certificates as records (the free-text product.certifications moved into them), the
packhouse code of a place, and the certifier organisation kind

Revision ID: 0014_registries
Revises: 0013_wsoffline
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability_api.timeutil

revision: str = "0014_registries"
down_revision: str | None = "0013_wsoffline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = traceability_api.timeutil.UTCDateTime
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE orgkind ADD VALUE IF NOT EXISTS 'certifier'")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packhouse_code", S(length=40), nullable=True))

    op.create_table(
        "registered_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=16), nullable=False),
        sa.Column("code", S(length=40), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("issuer", S(length=200), nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", S(length=12), nullable=False),
        sa.Column("status_reason", S(length=500), nullable=True),
        sa.Column("status_changed_at", UTC(timezone=True), nullable=True),
        sa.Column("registered_by_org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["registered_by_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_registered_code_code"),
    )
    op.create_index("ix_registered_code_org_id", "registered_code", ["org_id"])

    cert = op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("scheme", S(length=12), nullable=False),
        sa.Column("scheme_name", S(length=100), nullable=True),
        sa.Column("ocop_stars", sa.Integer(), nullable=True),
        sa.Column("number", S(length=100), nullable=True),
        sa.Column("issuer", S(length=200), nullable=True),
        sa.Column("certifier_org_id", sa.Integer(), nullable=True),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("place_ids", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("document_sha256", S(length=64), nullable=True),
        sa.Column("verified_at", UTC(timezone=True), nullable=True),
        sa.Column("verified_by_org_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.Column("revoked_by_org_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", S(length=500), nullable=True),
        sa.Column("note", S(length=500), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["certifier_org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["verified_by_org_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["revoked_by_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_certificate_org_id", "certificate", ["org_id"])
    op.create_index("ix_certificate_certifier_org_id", "certificate", ["certifier_org_id"])
    _move_free_text(cert)


def _move_free_text(cert: sa.Table) -> None:
    """Each string of product.certifications becomes an unverified certificate record covering the
    product (number, issuer and validity unknown: the cooperative completes it); the list is emptied."""
    from datetime import UTC as _UTC
    from datetime import datetime

    from traceability_api.limits import loads_stored
    from traceability_api.registries.models import scheme_of

    bind = op.get_bind()
    product = sa.table("product", sa.column("id", sa.Integer), sa.column("org_id", sa.Integer),
                       sa.column("ocop_stars", sa.Integer), sa.column("certifications", sa.JSON))  # fmt: skip
    now = datetime.now(_UTC)
    rows = []
    for pid, org_id, stars, certs in bind.execute(sa.select(product.c.id, product.c.org_id, product.c.ocop_stars,
                                                            product.c.certifications)).all():  # fmt: skip
        items = loads_stored(certs) if isinstance(certs, str) else certs
        for text in items or []:
            scheme, ocop, name = scheme_of(str(text))
            if scheme == "ocop":
                ocop = ocop or stars
            rows.append({"org_id": org_id, "scheme": scheme.value, "scheme_name": name, "ocop_stars": ocop,
                         "product_ids": [pid], "place_ids": [], "created_at": now,
                         "note": f"moved from the free-text list: {str(text)[:300]}"})  # fmt: skip
    if rows:
        op.bulk_insert(cert, rows)
        bind.execute(product.update().values(certifications=[]))


def downgrade() -> None:
    op.drop_index("ix_certificate_certifier_org_id", table_name="certificate")
    op.drop_index("ix_certificate_org_id", table_name="certificate")
    op.drop_table("certificate")
    op.drop_index("ix_registered_code_org_id", table_name="registered_code")
    op.drop_table("registered_code")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_column("packhouse_code")
