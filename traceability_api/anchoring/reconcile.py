"""Reconciliation: batches the database records as anchored are checked against the chain.

A root can go missing after it was anchored: the node's state was lost, an external chain
reorganised, or the service now uses another contract.  Such a batch is reopened (status
``prepared``, re-signed with a fresh nonce for the current contract), so the worker anchors it
again; its items keep their leaves and proofs (same root), and proofs then name the new
transaction and block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from chain.client import AnchorContract
from chain.errors import RootAlreadyAnchored
from traceability_api.anchoring.models import AnchorBatch, BatchStatus

log = logging.getLogger(__name__)


def reopen_missing(
    engine: Engine, contract: AnchorContract, resign: Callable[[AnchorBatch], object], limit: int | None
) -> list[int]:
    """Reopen anchored batches (the newest ``limit``, or all) whose root is not on the chain."""
    reopened = []
    with Session(engine) as s:
        query = select(AnchorBatch).where(AnchorBatch.status == BatchStatus.anchored).order_by(AnchorBatch.id.desc())  # type: ignore[union-attr]
        batches = s.exec(query.limit(limit) if limit is not None else query).all()
        for batch in reversed(batches):  # oldest first: nonces follow the original order
            same_contract = batch.contract_address.lower() == contract.address.lower()
            if same_contract and contract.anchor_of(bytes.fromhex(batch.root)) is not None:
                continue
            log.error("batch %s (root %s) is anchored in the DB but not on chain: anchoring it again", batch.id,
                      batch.root)  # fmt: skip
            batch.status = BatchStatus.prepared
            batch.contract_address = contract.address
            batch.chain_id = contract.chain_id()
            batch.block_number = batch.block_timestamp = batch.gas_used = batch.anchored_at = None
            try:
                resign(batch)
            except RootAlreadyAnchored:  # it came back meanwhile: finishing it finds its log
                pass
            s.add(batch)
            s.commit()
            assert batch.id is not None
            reopened.append(batch.id)
    return reopened
