"""Reading events (visibility rules), EPCIS queries, and error declarations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from traceability_api.config import Settings
from traceability_api.consensus.signatures import SIGNATURE_FIELD
from traceability_api.epcis.identifiers import classify
from traceability_api.errors import Forbidden, Invalid, NotFound
from traceability_api.events.capture import (
    DEFAULT_CONTEXT,
    EXPORT_CONTEXT,
    EventCheck,
    capture_events,
    parse_event_time,
)
from traceability_api.events.declarations import declaration_of as declaration_of  # (re-exported)
from traceability_api.events.declarations import record_declaration
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.lots.models import Lot
from traceability_api.lots.service import find_lot
from traceability_api.parties.service import Principal
from traceability_api.privacy.access import live_grants, note_reads
from traceability_api.privacy.models import Visibility
from traceability_api.timeutil import utcnow

MAX_PAGE = 1000


def visible_to(p: Principal) -> Any:
    """SQL condition: events this principal may read (docs/privacy.md).  Its own; public events
    on a lot it owns or holds; public and partners-only events on a lot it owns, holds or recorded
    an event on (custody partners); any event of a grantor on a lot it shares with this
    organisation through a live grant.  Authorities read everything."""
    if p.reads_everything:
        return True
    lots_of_org = (
        select(EventLot.event_id)
        .join(Lot, Lot.id == EventLot.lot_id)  # type: ignore[arg-type]
        .where(  # type: ignore[arg-type]
            or_(Lot.owner_org_id == p.org_id, Lot.holder_org_id == p.org_id)  # type: ignore[arg-type]
        )
    )
    handled = select(EventLot.lot_id).join(Event, Event.id == EventLot.event_id).where(Event.org_id == p.org_id)  # type: ignore[arg-type]
    partner_events = select(EventLot.event_id).where(EventLot.lot_id.in_(handled))  # type: ignore[attr-defined]
    grants = live_grants(p.org_id).subquery()
    granted = (
        select(EventLot.event_id)
        .join(grants, grants.c.lot_id == EventLot.lot_id)
        .join(
            Event,
            Event.id == EventLot.event_id,  # type: ignore[arg-type]
        )
        .where(Event.org_id == grants.c.org_id)
    )
    return or_(
        Event.org_id == p.org_id,  # type: ignore[arg-type]
        and_(col(Event.visibility) != Visibility.private, or_(Event.id.in_(lots_of_org), Event.id.in_(partner_events))),  # type: ignore[union-attr]
        Event.id.in_(granted),  # type: ignore[union-attr]
    )


def get_event(session: Session, p: Principal, event_id: int) -> Event:
    row = session.exec(select(Event).where(Event.id == event_id, visible_to(p))).first()
    if row is None:
        raise NotFound(f"event {event_id} not found")
    note_reads(session, p, [row])
    return row


def query_events(
    session: Session,
    p: Principal,
    *,
    lot: str | None = None,
    epc: str | None = None,
    biz_step: str | None = None,
    ge_event_time: datetime | None = None,
    lt_event_time: datetime | None = None,
    event_type: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Event]:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"perPage must be between 1 and {MAX_PAGE}")
    q = select(Event).where(visible_to(p), Event.id > after_id)  # type: ignore[operator]
    for uri in (lot, epc):
        if uri is None:
            continue
        ref = classify(uri)
        if ref.kind == "lot":
            found = find_lot(session, ref.gtin or "", ref.code or "")
            lot_id = found[0].id if found else -1
            q = q.where(Event.id.in_(select(EventLot.event_id).where(EventLot.lot_id == lot_id)))  # type: ignore[union-attr]
        else:
            raise Invalid(f"{uri} is not a lot identifier (https://id.gs1.org/01/<GTIN>/10/<lot>)")
    if biz_step:
        from traceability_api.epcis.vocabulary import BIZSTEP, full_uri

        q = q.where(Event.biz_step == full_uri(biz_step, BIZSTEP))
    if ge_event_time:
        q = q.where(Event.event_time >= ge_event_time)
    if lt_event_time:
        q = q.where(Event.event_time < lt_event_time)
    if event_type:
        q = q.where(Event.event_type == event_type)
    rows = list(session.exec(q.order_by(Event.id).limit(limit)).all())  # type: ignore[arg-type]
    note_reads(session, p, rows)
    return rows


def events_of_lot(session: Session, lot_id: int, reader: Principal | None = None) -> list[Event]:
    """Every event on the lot; with a ``reader``, those it may read (its reads of others'
    non-public events marked for the audit log)."""
    q = (
        select(Event)
        .where(Event.id.in_(select(EventLot.event_id).where(EventLot.lot_id == lot_id)))  # type: ignore[union-attr]
        .order_by(Event.event_time, Event.id)  # type: ignore[arg-type]
    )
    if reader is None:
        return list(session.exec(q).all())
    rows = list(session.exec(q.where(visible_to(reader))).all())
    note_reads(session, reader, rows)
    return rows


def epcis_query_document(
    events: list[Event], query_name: str = "SimpleEventQuery", declarations: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``events`` as an EPCIS query document; ``declarations`` (by event id, see
    ``declarations.latest_declarations``) are shown as the declared events' ``errorDeclaration``."""
    decl = declarations or {}
    return {
        "@context": EXPORT_CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now().astimezone().isoformat(timespec="milliseconds"),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {"eventList": [export_event(e, decl.get(e.id or 0)) for e in events]},
            }
        },
    }


def export_event(e: Event, declaration: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored event with its record time and its own ``@context`` (the one it was hashed
    with), so that it re-hashes to its hash ID alone or inside any exported document; with
    ``declaration``, its errorDeclaration (outside the hash, like recordTime)."""
    doc = {"@context": e.document.get("@context", DEFAULT_CONTEXT)}
    doc |= {k: v for k, v in e.document.items() if k != "@context"}
    doc["recordTime"] = e.record_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if e.signature:  # outside the hash (capture takes it out again): the export re-captures as it was
        doc[SIGNATURE_FIELD] = e.signature
    if declaration:
        doc["errorDeclaration"] = declaration
    return doc


def declare_error(
    session: Session, p: Principal, event: Event, reason: str | None, declaration_time: str | None,
    corrective_events: list[Any], settings: Settings, *, checks: Sequence[EventCheck],
) -> EventCorrection:  # fmt: skip
    """Record an errorDeclaration on ``event`` (kept as it was) with optional corrective events:
    a convenience over capturing the event again with an ``errorDeclaration``."""
    p.require_write()
    if event.org_id != p.org_id:
        raise Forbidden("only the organisation that recorded an event may declare it erroneous")
    when = parse_event_time(declaration_time, settings) if declaration_time else utcnow()
    captured = (
        capture_events(session, p, corrective_events, DEFAULT_CONTEXT, settings, checks=checks)
        if corrective_events
        else []
    )
    return record_declaration(session, p, event, when, reason, [c.event_id for c in captured]).correction


def corrections_of(session: Session, event_id: int) -> list[EventCorrection]:
    return list(session.exec(select(EventCorrection).where(EventCorrection.event_id == event_id)).all())
