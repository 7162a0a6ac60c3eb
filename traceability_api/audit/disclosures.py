"""The tamper audit of disclosure commitments: each non-public event's salts still commit to its
stored content, the commitment is bound to its hash ID, and its anchored digest and proof match."""

from __future__ import annotations

from sqlmodel import Session, select

from traceability_api.anchoring.models import BatchStatus, ItemKind
from traceability_api.anchoring.proofs import anchor_rows
from traceability_api.consensus import disclosure
from traceability_api.consensus.proofs import leaf_of_digest_hex, proof_leads_to
from traceability_api.events.models import Event
from traceability_api.privacy.models import EventDisclosure

PAGE = 2000


def audit_disclosures(session: Session) -> tuple[int, int, list[str]]:
    """(commitments checked, pending, problems)."""
    checked, pending, last = 0, 0, 0
    problems: list[str] = []
    while True:
        q = (
            select(EventDisclosure, Event).join(Event, Event.id == EventDisclosure.event_id)  # type: ignore[arg-type]
            .where(EventDisclosure.event_id > last).order_by(EventDisclosure.event_id).limit(PAGE)  # type: ignore[arg-type]
        )  # fmt: skip
        page = session.exec(q).all()
        if not page:
            return checked, pending, problems
        last = page[-1][0].event_id
        rows = anchor_rows(session, [d.event_id for d, _ in page], ItemKind.disclosure)
        for d, ev in page:
            checked += 1
            problem = _problem(d, ev, rows.get(d.event_id))
            if problem == "pending":
                pending += 1
            elif problem:
                problems.append(f"disclosure commitment of event {ev.id}: {problem}")


def _problem(d: EventDisclosure, ev: Event, row: object) -> str | None:
    try:
        root = disclosure.commit(ev.document, d.salts).root_hex
    except (KeyError, ValueError):
        return "its salts do not cover the stored content"
    if root != d.root or disclosure.commitment_digest(ev.hash_id, root) != d.digest:
        return "does not commit to the stored content and hash"
    if row is None or getattr(row, "digest", None) != d.digest:
        return "differs from the anchored digest"
    if getattr(row, "batch_id", None) is None or getattr(row, "status", None) != BatchStatus.anchored:
        return "pending"
    if not proof_leads_to(leaf_of_digest_hex(d.digest), getattr(row, "proof", None) or [], getattr(row, "root", "")):
        return "Merkle proof does not lead to the anchored root"
    return None
