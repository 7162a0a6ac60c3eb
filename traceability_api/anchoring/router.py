from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import func, select

from traceability_api.anchoring.models import AnchorBatch, BatchStatus
from traceability_api.anchoring.proofs import event_proof, lot_bundle, verify_events
from traceability_api.anchoring.worker import pending_count
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.events.service import events_of_lot, get_event
from traceability_api.json_response import StoredJSONResponse
from traceability_api.lots.service import lot_by_key
from traceability_api.parties.deps import PrincipalDep
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["proofs"])


def _contract(runtime: RuntimeDep) -> Any:
    return runtime.chain.contract if runtime.chain is not None else None


@router.get("/events/{event_id}/proof")
def proof_of_event(event_id: DbId, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> StoredJSONResponse:
    """The event, its hash, Merkle leaf and proof, the anchored root, transaction and block."""
    return StoredJSONResponse(event_proof(session, get_event(session, p, event_id), _contract(runtime)))


@router.get("/proofs/lots/{gtin}/{lot_code}", summary="Public proof bundle of a lot (and its upstream lots)")
def bundle(gtin: str, lot_code: str, session: SessionDep, runtime: RuntimeDep) -> StoredJSONResponse:
    """Everything needed to verify the lot's records against the chain without AgriTrace:
    ``agritrace verify bundle.json --rpc <url>``."""
    lot, product = lot_by_key(session, gtin, lot_code)
    return StoredJSONResponse(lot_bundle(session, lot, product, _contract(runtime)))


@router.get("/proofs/lots/{gtin}/{lot_code}/status", summary="Public verification status of a lot's records")
def lot_status(gtin: str, lot_code: str, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    lot, _ = lot_by_key(session, gtin, lot_code)
    assert lot.id is not None
    v = verify_events(session, events_of_lot(session, lot.id), _contract(runtime))
    return {"status": v.status, "checked": v.checked, "pending": v.pending, "problems": len(v.problems),
            "anchor": v.latest_batch}  # fmt: skip


@router.get("/anchoring/status")
def anchoring_status(p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    last = session.exec(
        select(AnchorBatch).where(AnchorBatch.status == BatchStatus.anchored).order_by(AnchorBatch.id.desc())  # type: ignore[union-attr]
    ).first()
    batches = session.exec(select(func.count()).select_from(AnchorBatch)).one()
    return {
        "pending": pending_count(runtime.engine),
        "batches": batches,
        "lastBatch": None if last is None else {"id": last.id, "root": "0x" + last.root, "txHash": last.tx_hash,
                                                  "blockNumber": last.block_number, "leafCount": last.leaf_count},
    }  # fmt: skip
