"""EPCIS 2.0 error declarations.

An event captured with an ``errorDeclaration`` repeats an event recorded earlier (same content:
its hash ID, which leaves ``errorDeclaration`` out, is the declared event's) and declares it
erroneous; corrective events name it through ``correctiveEventIDs``.  The declared event itself
stays as it was: the declaration is stored beside it and anchored.  ``POST
/api/v1/events/{id}/corrections`` is a convenience over the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.consensus.event_hash import hash_id_of_event
from traceability_api.consensus.records import correction_digest
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.events.models import Event, EventCorrection
from traceability_api.outbox import ItemKind, Pending, enqueue
from traceability_api.parties.service import Principal


@dataclass
class Declared:
    event: Event
    correction: EventCorrection
    duplicate: bool


def record_declaration(
    session: Session, p: Principal, event: Event, when: datetime, reason: str | None, corrective_ids: list[str]
) -> Declared:
    """Store (once) and queue for anchoring an errorDeclaration on ``event``."""
    p.require_write()
    if event.org_id != p.org_id:
        raise Forbidden("only the organisation that recorded an event may declare it erroneous")
    assert event.id is not None
    for old in session.exec(select(EventCorrection).where(EventCorrection.event_id == event.id)).all():
        if (old.declaration_time, old.reason, list(old.corrective_event_ids)) == (when, reason, corrective_ids):
            return Declared(event, old, duplicate=True)
    row = EventCorrection(
        event_id=event.id, org_id=p.org_id, member_id=p.member_id, declaration_time=when, reason=reason,
        corrective_event_ids=corrective_ids, record_hash="",
    )  # fmt: skip
    row.record_hash = correction_digest(event.hash_id, declaration_of(row))
    session.add(row)
    session.flush()
    assert row.id is not None
    enqueue(session, [Pending(ItemKind.correction, row.id, row.record_hash)])
    return Declared(event, row, duplicate=False)


def declaration_of(row: EventCorrection) -> dict[str, Any]:
    """The EPCIS errorDeclaration of a stored correction (what its anchored digest covers)."""
    when = row.declaration_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"declarationTime": when, "reason": row.reason, "correctiveEventIDs": list(row.corrective_event_ids)}


def latest_declarations(session: Session, event_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The errorDeclaration each of ``event_ids`` shows in EPCIS query results: its newest (by
    declaration time, then record), without the fields it leaves out (no reason, no corrective events)."""
    if not event_ids:
        return {}
    rows = session.exec(
        select(EventCorrection)
        .where(EventCorrection.event_id.in_(event_ids))  # type: ignore[attr-defined]
        .order_by(EventCorrection.declaration_time, EventCorrection.id)  # type: ignore[arg-type]
    ).all()
    return {r.event_id: {k: v for k, v in declaration_of(r).items() if v not in (None, [])} for r in rows}


def _declared_event(session: Session, p: Principal, event: dict[str, Any], hash_id: str) -> Event:
    q = select(Event).where(Event.org_id == p.org_id)
    if event.get("eventID"):
        found = session.exec(q.where(Event.client_event_id == str(event["eventID"]))).first()
        what = f"eventID {event['eventID']}"
    else:
        found = session.exec(q.where(Event.hash_id == hash_id)).first()
        what = f"hash ID {hash_id}"
    if found is None:
        raise NotFound(f"errorDeclaration: your organisation recorded no event with {what} to declare erroneous")
    if hash_id_of_event(event, found.hash_rule) != found.hash_id:
        raise Conflict(
            "errorDeclaration: the event must repeat the declared event unchanged "
            "(only errorDeclaration and recordTime may differ)"
        )
    return found


def declare_captured(
    session: Session, p: Principal, event: dict[str, Any], hash_id: str, settings: Settings
) -> Declared:
    """A captured event carrying an errorDeclaration: declare the event it repeats erroneous."""
    from traceability_api.events.capture import parse_event_time

    decl = event["errorDeclaration"]
    if not isinstance(decl, dict):
        raise Invalid("errorDeclaration must be an object")
    reason = decl.get("reason")
    corrective = decl.get("correctiveEventIDs") or []
    if not isinstance(corrective, list) or not all(isinstance(c, str) and len(c) <= 200 for c in corrective):
        raise Invalid("errorDeclaration.correctiveEventIDs must be a list of event IDs (at most 200 characters)")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
        raise Invalid("errorDeclaration.reason must be a CBV error reason or URI of at most 200 characters")
    try:
        when = parse_event_time(str(decl.get("declarationTime")), settings)
    except Invalid as exc:
        raise Invalid("errorDeclaration.declarationTime: " + exc.message.replace("eventTime ", "")) from exc
    declared = _declared_event(session, p, event, hash_id)
    return record_declaration(session, p, declared, when, reason, corrective)
