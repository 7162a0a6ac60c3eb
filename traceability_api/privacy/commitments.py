"""Disclosure commitments of non-public events (written at capture, in its transaction) and the
fields revealed to the public, with their salts and proofs (for bundles and public pages)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from traceability_api.consensus import disclosure
from traceability_api.outbox import ALL_ROWS_AT_ONCE, ItemKind, Pending
from traceability_api.privacy.models import EventDisclosure, Visibility
from traceability_api.privacy.visibility import public_paths


@dataclass(frozen=True)
class ToCommit:
    event_id: int
    hash_id: str
    document: dict[str, Any]
    visibility: str


def commit_events(session: Session, events: Iterable[ToCommit]) -> list[Pending]:
    """Salts and commitment of each non-public event (one multi-row insert); their outbox rows,
    for the caller to enqueue with the events' own."""
    rows, pending = [], []
    for e in events:
        if e.visibility == Visibility.public:
            continue
        salts = disclosure.salts_for(e.document)
        root = disclosure.commit(e.document, salts).root_hex
        digest = disclosure.commitment_digest(e.hash_id, root)
        rows.append({"event_id": e.event_id, "salts": salts, "root": root, "digest": digest})
        pending.append(Pending(ItemKind.disclosure, e.event_id, digest))
    if rows:
        session.execute(insert(EventDisclosure), rows, execution_options=ALL_ROWS_AT_ONCE)
    return pending


def _document(e: Any) -> dict[str, Any]:
    """An Event's document, or a light row's stored text parsed (consumer pages load text)."""
    doc = getattr(e, "document", None)
    if doc is None and getattr(e, "document_text", None) is not None:
        doc = json.loads(e.document_text)
    return doc if isinstance(doc, dict) else {}


@dataclass
class PublicView:
    """What the public may see of a non-public event: its commitment and the revealed fields."""

    root: str
    digest: str
    revealed: list[dict[str, Any]]

    @property
    def fields(self) -> dict[str, Any]:
        return disclosure.redacted(self.revealed)


def public_views(session: Session, events: Sequence[Any]) -> dict[int, PublicView]:
    """For each non-public event (rows with ``id``, ``visibility`` and ``document``), the fields
    the public sees, each with its salt and Merkle proof against the commitment root."""
    hidden = {e.id: e for e in events if getattr(e, "visibility", "public") != Visibility.public}
    if not hidden:
        return {}
    rows = session.exec(select(EventDisclosure).where(EventDisclosure.event_id.in_(list(hidden)))).all()  # type: ignore[attr-defined]
    out = {}
    for row in rows:
        e = hidden[row.event_id]
        doc = _document(e)
        revealed = disclosure.reveal(doc, row.salts, public_paths(e.visibility))
        out[row.event_id] = PublicView("0x" + row.root, "0x" + row.digest, revealed)
    return out
