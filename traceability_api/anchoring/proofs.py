"""Event proofs and lot proof bundles (a versioned, self-contained JSON format), and the live
verification status of a lot's records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from chain.client import AnchorContract
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, ItemKind
from traceability_api.anchoring.signed_by import org_names, signature_json, signature_problem
from traceability_api.consensus.proofs import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    CONVENTIONS,
    hash_of_serialised,
    leaf_of_hash_id,
    proof_leads_to,
    recompute_hash,
)
from traceability_api.consensus.records import event_digest
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.events.service import declaration_of
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.privacy.commitments import public_views
from traceability_api.timeutil import utcnow


def _hex(h: str | None) -> str | None:
    return None if h is None else "0x" + h


def _anchored(row: Any) -> bool:
    return row is not None and row.batch_id is not None and row.status == BatchStatus.anchored


def _item_json(row: Any) -> dict[str, Any]:
    """Proof part of a record, from its outbox row joined with its batch (see anchor_rows)."""
    anchored = _anchored(row)
    return {
        "status": "anchored" if anchored else "pending",
        "leaf": _hex(row.leaf) if row is not None else None,
        "proof": [_hex(p) for p in (row.proof or [])] if anchored else [],
        "batch": row.batch_id if anchored else None,
    }


def hidden_entries(session: Session, events: Sequence[Event], batches: dict[int, Any]) -> dict[int, dict[str, Any]]:
    """The bundle content of each non-public event: no event, but who recorded it, its
    visibility and its disclosure commitment with the fields the public sees (salts and proofs)
    and the commitment's own anchoring; their batches join ``batches``."""
    views = public_views(session, events)
    if not views:
        return {}
    rows = anchor_rows(session, list(views), ItemKind.disclosure)
    org_ids = list({e.org_id for e in events})
    q = select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))  # type: ignore[union-attr]
    names: dict[int | None, str] = dict(session.exec(q).all())
    out = {}
    for ev in events:
        view = views.get(ev.id or -1)
        if view is None:
            continue
        row: Any = rows.get(ev.id or -1)
        if _anchored(row):
            batches[row.batch_id] = row
        disclosure = {"root": view.root, "digest": view.digest, "revealed": view.revealed, **_item_json(row)}
        out[ev.id or -1] = {"visibility": ev.visibility, "recordedBy": names.get(ev.org_id, "?"),
                            "disclosure": disclosure}  # fmt: skip
    return out


def _batch_json(b: Any) -> dict[str, Any]:
    return {
        "root": "0x" + b.root,
        "txHash": b.tx_hash,
        "blockNumber": b.block_number,
        "blockTimestamp": b.block_timestamp,
        "leafCount": b.leaf_count,
        "chainId": b.chain_id,
        "contractAddress": b.contract_address,
    }


def event_proof(session: Session, event: Event, contract: AnchorContract | None) -> dict[str, Any]:
    assert event.id is not None
    row: Any = anchor_rows(session, [event.id]).get(event.id)
    body = {
        "format": "agritrace-event-proof",
        "version": BUNDLE_VERSION,
        "eventId": event.id,
        "event": event.document,
        "hashId": event.hash_id,
        "hashRule": event.hash_rule,
        **signature_json(event, org_names(session, [event])),
        **_item_json(row),
        "chain": _chain(row, contract),
    }
    if _anchored(row):
        body |= {"root": "0x" + row.root, "txHash": row.tx_hash, "blockNumber": row.block_number,
                 "blockTimestamp": row.block_timestamp}  # fmt: skip
    return body


def _chain(row: Any, contract: AnchorContract | None) -> dict[str, Any]:
    if row is not None and row.batch_id is not None:
        return {"chainId": row.chain_id, "contractAddress": row.contract_address}
    if contract is not None:
        return {"chainId": contract.chain_id(), "contractAddress": contract.address}
    return {}


def lot_bundle(session: Session, lot: Lot, product: Product, contract: AnchorContract | None) -> dict[str, Any]:
    assert lot.id is not None
    lot_ids = upstream(session, lot.id)
    rows = session.exec(
        select(EventLot.lot_id, Event)
        .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
        .where(EventLot.lot_id.in_(lot_ids))  # type: ignore[attr-defined]
        .order_by(Event.event_time, Event.id)  # type: ignore[arg-type]
    ).all()
    lots = {
        x.id: lot_uri(p.gtin, x.lot_code)
        for x, p in session.exec(
            select(Lot, Product).join(Product, Product.id == Lot.product_id).where(Lot.id.in_(lot_ids))  # type: ignore[arg-type, union-attr]
        ).all()
    }
    events: dict[int, tuple[Event, set[str]]] = {}
    for lid, ev in rows:
        assert ev.id is not None
        events.setdefault(ev.id, (ev, set()))[1].add(lots[lid])
    items = anchor_rows(session, list(events))
    corrections = session.exec(select(EventCorrection).where(EventCorrection.event_id.in_(list(events)))).all()  # type: ignore[attr-defined]
    citems = anchor_rows(session, [c.id for c in corrections if c.id is not None], ItemKind.correction)
    batches: dict[int, Any] = {}
    out_events = []
    names = org_names(session, (e for e, _ in events.values()))
    hidden = hidden_entries(session, [e for e, _ in events.values()], batches)
    for eid, (ev, uris) in events.items():
        row: Any = items.get(eid)
        if _anchored(row):
            batches[row.batch_id] = row
        content = hidden[eid] if eid in hidden else {"event": ev.document}
        out_events.append({"lots": sorted(uris), **content, "hashId": ev.hash_id, "hashRule": ev.hash_rule,
                           **signature_json(ev, names), **_item_json(row)})  # fmt: skip
    out_corr = []
    by_id = {e.id: e for e, _ in events.values()}
    for c in corrections:
        row = citems.get(c.id or -1)
        if _anchored(row):
            batches[row.batch_id] = row
        out_corr.append({"eventHashId": by_id[c.event_id].hash_id, "errorDeclaration": declaration_of(c),
                         "digest": "0x" + c.record_hash, **_item_json(row)})  # fmt: skip
    any_batch = next(iter(batches.values()), None)
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "generatedAt": utcnow().isoformat(timespec="seconds"),
        "lot": {"uri": lot_uri(product.gtin, lot.lot_code), "gtin": product.gtin, "lotCode": lot.lot_code},
        "upstreamLots": [lots[i] for i in lot_ids[1:]],
        "chain": _chain(any_batch, contract),
        "conventions": CONVENTIONS,
        "batches": {str(k): _batch_json(b) for k, b in sorted(batches.items())},
        "events": out_events,
        "corrections": out_corr,
    }


@dataclass
class Verification:
    status: str  # verified | pending | not_verified
    checked: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)
    latest_batch: dict[str, Any] | None = None


def anchor_rows(session: Session, ids: list[int], kind: ItemKind = ItemKind.event) -> dict[int, Any]:
    """Outbox rows of records (events by default) joined with their batch, as light rows (no ORM
    objects: consumer pages call this on every view).  ``batch_id`` is None while pending."""
    if not ids:
        return {}
    q = (
        select(  # type: ignore[call-overload, misc]
            AnchorItem.ref_id, AnchorItem.digest, AnchorItem.leaf, AnchorItem.proof, AnchorBatch.id.label("batch_id"),  # type: ignore[union-attr]
            AnchorBatch.root, AnchorBatch.status, AnchorBatch.block_number, AnchorBatch.block_timestamp,
            AnchorBatch.tx_hash, AnchorBatch.leaf_count, AnchorBatch.chain_id, AnchorBatch.contract_address,
        )
        .join(AnchorBatch, AnchorBatch.id == AnchorItem.batch_id, isouter=True)  # type: ignore[arg-type]
        .where(AnchorItem.kind == kind, AnchorItem.ref_id.in_(ids))  # type: ignore[attr-defined]
    )  # fmt: skip
    return {row.ref_id: row for row in session.execute(q)}


def verify_events(
    session: Session, events: Sequence[Any], contract: AnchorContract | None, root_cache: dict[str, bool] | None = None
) -> Verification:
    """Recompute each event's hash and proof and check the root is anchored on chain.
    ``events`` are Event rows or any records with ``id``, ``hash_id``, ``hash_rule`` and
    ``document`` (or the stored JSON text as ``document_text``)."""
    v = Verification(status="verified")
    roots = root_cache if root_cache is not None else {}
    rows = anchor_rows(session, [e.id for e in events if e.id is not None])
    for ev in events:
        assert ev.id is not None
        v.checked += 1
        text, rule = getattr(ev, "document_text", None), ev.hash_rule
        try:
            recomputed = hash_of_serialised(text, rule) if text is not None else recompute_hash(ev.document, rule)
        except RecursionError:  # stored before the capture limits, or behind the service's back
            v.problems.append(f"event {ev.id}: stored content nests too deep to recompute its hash")
            continue
        if recomputed != ev.hash_id:
            v.problems.append(f"event {ev.id}: stored content does not match its hash")
            continue
        item = batch = rows.get(ev.id)
        if item is None:
            v.problems.append(f"event {ev.id}: has no anchoring record")
            continue
        if item.digest != event_digest(ev.hash_id):
            v.problems.append(f"event {ev.id}: hash differs from the anchored digest")
            continue
        if batch.batch_id is None or batch.status != BatchStatus.anchored:  # type: ignore[union-attr]
            v.pending += 1
            continue
        leaf = leaf_of_hash_id(ev.hash_id)
        if item.leaf != leaf.hex() or not proof_leads_to(leaf, item.proof or [], batch.root):  # type: ignore[union-attr]
            v.problems.append(f"event {ev.id}: Merkle proof does not lead to the anchored root")
            continue
        if contract is not None:
            if batch.root not in roots:  # type: ignore[union-attr]
                roots[batch.root] = contract.anchor_of(bytes.fromhex(batch.root)) is not None  # type: ignore[union-attr]
            if not roots[batch.root]:  # type: ignore[union-attr]
                v.problems.append(f"event {ev.id}: root of batch {batch.batch_id} is not on chain")  # type: ignore[union-attr]
                continue
            signed = getattr(ev, "signature", None)
            problem = signature_problem(signed, ev.hash_id, batch.block_timestamp, contract) if signed else None  # type: ignore[union-attr]
            if problem:
                v.problems.append(f"event {ev.id}: {problem}")
                continue
        if v.latest_batch is None or (batch.block_number or 0) > v.latest_batch["blockNumber"]:  # type: ignore[union-attr]
            v.latest_batch = _batch_json(batch)  # type: ignore[arg-type]
    if v.problems:
        v.status = "not_verified"
    elif v.pending:
        v.status = "pending"
    return v
