"""The Merkle proof of a published file's SHA-256: what a reuser needs to check a download
against the chain (format ``agritrace-opendata-proof``, version 1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from traceability_api.anchoring.models import BatchStatus, ItemKind
from traceability_api.anchoring.proofs import anchor_rows
from traceability_api.errors import NotFound
from traceability_api.opendata.models import OpenDataFile

FORMAT = "agritrace-opendata-proof"
VERSION = 1
CONVENTIONS = {
    "sha256": "SHA-256 of the file's exact bytes as downloaded (the catalogue's spdx:checksum)",
    "leaf": "keccak256(keccak256(sha256)): OpenZeppelin StandardMerkleTree leaf of a bytes32",
    "tree": "OpenZeppelin MerkleProof: sorted-pair keccak256; anchored root: the contract's anchorOf(root)",
}


def file_proof(session: Session, sha256: str) -> dict[str, Any]:
    """Proof of the earliest anchored file with this digest (else the earliest one, pending)."""
    q = select(OpenDataFile).where(OpenDataFile.sha256 == sha256).options(defer(OpenDataFile.content))  # type: ignore[arg-type]
    files = session.exec(q.order_by(col(OpenDataFile.id))).all()
    if not files:
        raise NotFound(f"no published open-data file has SHA-256 {sha256}")
    rows = anchor_rows(session, [f.id for f in files if f.id is not None], ItemKind.opendata)
    anchored = [f for f in files if (r := rows.get(f.id)) is not None and r.status == BatchStatus.anchored]  # type: ignore[arg-type]
    f = (anchored or files)[0]
    row = rows.get(f.id)  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "sha256": sha256,
        "file": {
            "id": f.id,
            "dataset": f.dataset,
            "format": f.fmt,
            "size": f.size,
            "published": f.created_at.isoformat(),
        },
        "status": "anchored" if anchored else "pending",
        "leaf": "0x" + row.leaf if row is not None and row.leaf else None,
        "proof": [],
        "conventions": CONVENTIONS,
    }
    if anchored and row is not None:
        body |= {
            "proof": ["0x" + p for p in row.proof or []],
            "root": "0x" + row.root,
            "txHash": row.tx_hash,
            "blockNumber": row.block_number,
            "blockTimestamp": row.block_timestamp,
            "chainId": row.chain_id,
            "contractAddress": row.contract_address,
        }
    return body
