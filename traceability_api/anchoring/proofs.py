"""Event proofs and lot proof bundles (a versioned, self-contained JSON format), and the live
verification status of a lot's records."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import LargeBinary
from sqlmodel import Session, func, select

from chain import merkle
from chain.client import AnchorContract
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, AnchorTree, BatchStatus, ItemKind
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
    objects: consumer pages call this on every view).  ``batch_id`` is None while pending.
    ``proof`` is the item's proof (hex, leaf upwards), read from its batch's stored tree, or the
    one stored with the item in batches anchored before the trees were."""
    if not ids:
        return {}
    q = (
        select(  # type: ignore[call-overload, misc]
            AnchorItem.ref_id, AnchorItem.digest, AnchorItem.leaf, AnchorItem.proof, AnchorItem.node,
            AnchorBatch.id.label("batch_id"),  # type: ignore[union-attr]
            AnchorBatch.root, AnchorBatch.status, AnchorBatch.block_number, AnchorBatch.block_timestamp,
            AnchorBatch.tx_hash, AnchorBatch.leaf_count, AnchorBatch.chain_id, AnchorBatch.contract_address,
        )
        .join(AnchorBatch, AnchorBatch.id == AnchorItem.batch_id, isouter=True)  # type: ignore[arg-type]
        .where(AnchorItem.kind == kind, AnchorItem.ref_id.in_(ids))  # type: ignore[attr-defined]
    )  # fmt: skip
    rows: dict[int, Any] = {row.ref_id: row for row in session.execute(q)}
    in_trees = [r for r in rows.values() if r.proof is None and r.node is not None and r.batch_id is not None]
    if in_trees:
        proofs = tree_proofs(session, [(r.batch_id, r.node) for r in in_trees])
        for r in in_trees:
            rows[r.ref_id] = SimpleNamespace(**{**r._mapping, "proof": proofs[r.batch_id, r.node]})
    return rows


TREE_READS_PER_QUERY = 200  # nodes read by one SELECT of substr() columns (PostgreSQL)


def tree_proofs(session: Session, leaves: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """Proofs (hex, leaf upwards) of (batch id, leaf node index) pairs, read from the batches'
    stored trees; only the proofs' nodes are read, each once.  PostgreSQL: ``substr`` of the node
    array, which is stored uncompressed out of line (migration 0023), so only the TOAST chunks of
    those nodes are fetched.  SQLite would load the whole array for every ``substr`` (64 MB for a
    batch of a million): its incremental blob I/O reads the nodes in place instead.  A batch
    whose tree is missing gives empty proofs (reported as not leading to the root)."""
    wanted: dict[int, set[int]] = {}
    for batch_id, node in leaves:
        wanted.setdefault(batch_id, set()).update(merkle.proof_indices(node))
    hexes: dict[tuple[int, int], str] = {}
    conn = session.connection()
    for batch_id, nodes in wanted.items():
        order = sorted(nodes)
        if conn.dialect.name == "sqlite":
            raw: Any = conn.connection.dbapi_connection  # sqlite3.Connection
            try:
                with raw.blobopen("anchor_tree", "nodes", batch_id, readonly=True) as blob:  # batch_id is the rowid
                    hexes.update(((batch_id, i), blob[32 * i : 32 * i + 32].hex()) for i in order)
            except sqlite3.OperationalError:  # no tree stored for that batch
                pass
            continue
        for k in range(0, len(order), TREE_READS_PER_QUERY):
            part = order[k : k + TREE_READS_PER_QUERY]
            cols = [func.substr(AnchorTree.nodes, 32 * i + 1, 32, type_=LargeBinary) for i in part]
            got = session.execute(select(*cols).where(AnchorTree.batch_id == batch_id)).first()  # type: ignore[call-overload]
            if got is not None:
                hexes.update(((batch_id, i), bytes(v).hex()) for i, v in zip(part, got, strict=True))
    return {(b, n): [hexes[b, i] for i in merkle.proof_indices(n) if (b, i) in hexes] for b, n in leaves}


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
