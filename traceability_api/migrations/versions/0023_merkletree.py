"""Merkle tree stored per batch (issue 13): anchor_tree holds a batch's node array (2n-1 x 32
bytes), anchor_item.node the item's leaf index in it; proofs are read from the tree on demand
instead of a proof JSON written per item.  Older batches keep their per-item proofs (node NULL).

Revision ID: 0023_merkletree
Revises: 0022_wsperf
Create Date: 2026-12-07 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_merkletree"
down_revision: str | None = "0022_wsperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anchor_tree",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["anchor_batch.id"]),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # hashes do not compress: kept out of line uncompressed, so substr() of a proof's ~20
        # nodes reads only their TOAST chunks, not the whole array
        op.execute("ALTER TABLE anchor_tree ALTER COLUMN nodes SET STORAGE EXTERNAL")
    with op.batch_alter_table("anchor_item") as b:
        b.add_column(sa.Column("node", sa.Integer(), nullable=True))


def downgrade() -> None:
    # write each tree-read proof back per item first, so no anchored item loses its proof
    from chain.merkle import proof_indices

    bind = op.get_bind()
    for batch_id, nodes in bind.execute(sa.text("SELECT batch_id, nodes FROM anchor_tree")).all():
        items = bind.execute(
            sa.text("SELECT id, node FROM anchor_item WHERE batch_id = :b AND node IS NOT NULL"), {"b": batch_id}
        ).all()
        rows = [
            {"id": i, "proof": [bytes(nodes[32 * j : 32 * j + 32]).hex() for j in proof_indices(n)]} for i, n in items
        ]
        if rows:
            update = sa.text("UPDATE anchor_item SET proof = :proof WHERE id = :id")
            bind.execute(update.bindparams(sa.bindparam("proof", type_=sa.JSON)), rows)
    with op.batch_alter_table("anchor_item") as b:
        b.drop_column("node")
    op.drop_table("anchor_tree")
