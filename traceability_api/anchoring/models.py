from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.timeutil import UTCDateTime, utcnow

__all__ = ["AnchorBatch", "AnchorItem", "AnchorTree", "BatchStatus", "ChainDeployment", "ItemKind", "WorkerLease"]


class BatchStatus(StrEnum):
    prepared = "prepared"  # tree built, proofs stored, transaction signed, not known to be sent
    sent = "sent"  # broadcast at least once
    anchored = "anchored"  # receipt with enough confirmations
    failed = "failed"  # reverted for a reason other than "already anchored"; items re-queued


class AnchorBatch(SQLModel, table=True):
    __tablename__ = "anchor_batch"
    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(max_length=64, unique=True)
    leaf_count: int
    status: BatchStatus = BatchStatus.prepared
    chain_id: int
    contract_address: str = Field(max_length=42)
    tx_hash: str | None = Field(default=None, max_length=66)
    raw_tx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    nonce: int | None = None
    block_number: int | None = None
    block_timestamp: int | None = None
    gas_used: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    anchored_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class AnchorTree(SQLModel, table=True):
    """A batch's Merkle tree: its ``2n-1`` nodes of 32 bytes concatenated, in OpenZeppelin's array
    layout (``chain.merkle``).  An item's proof is read from it on demand (``AnchorItem.node``, the
    leaf's index, gives the ~log2(n) sibling indices), instead of a proof stored per item: one
    write of 64 bytes per leaf at anchoring, no list of proofs built.  Batches anchored before
    migration 0023 have none; their items keep ``AnchorItem.proof``."""

    __tablename__ = "anchor_tree"
    batch_id: int = Field(primary_key=True, foreign_key="anchor_batch.id")
    nodes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ChainDeployment(SQLModel, table=True):
    """The anchor contract the service uses on a given chain."""

    __tablename__ = "chain_deployment"
    id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(index=True)
    genesis_hash: str = Field(max_length=66)
    address: str = Field(max_length=42)
    block_number: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class WorkerLease(SQLModel, table=True):
    """Exactly one active anchoring worker: the holder of the unexpired lease."""

    __tablename__ = "worker_lease"
    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=80)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
