"""Capture: validate, authorise, hash and store EPCIS events, each with its outbox row, in the
caller's transaction (one document = one transaction: all its events or none)."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from traceability_api.anchoring.models import AnchorItem, ItemKind
from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.event_hash import event_hash_id, node_of_json_event, prefixes_of_context
from traceability_api.epcis.schema import document_errors, event_errors
from traceability_api.errors import Conflict, DomainError, Invalid
from traceability_api.events import custody
from traceability_api.events.models import Event, EventLot
from traceability_api.events.refs import extract
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent", "TransactionEvent")
DEFAULT_CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {voc.AGRI_PREFIX: voc.AGRI_NS}]
OLDEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


@dataclass
class Captured:
    id: int
    hash_id: str
    event_id: str
    duplicate: bool


def digest_hex(hash_id: str) -> str:
    return hash_id.split(";", 1)[1].split("?", 1)[0]


def parse_event_time(value: str, settings: Settings) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"eventTime {value!r} is not an ISO 8601 date-time") from exc
    if when.tzinfo is None:
        raise Invalid(f"eventTime {value!r} needs a time zone (Z or +07:00)")
    now = utcnow()
    if when > now + timedelta(seconds=settings.clock_skew_s):
        raise Invalid(
            f"eventTime {value} is in the future (more than {settings.clock_skew_s} s ahead of the server clock)"
        )
    if when < OLDEST:
        raise Invalid(f"eventTime {value} is implausibly old")
    return when


def capture_document(session: Session, p: Principal, doc: Any, settings: Settings) -> list[Captured]:
    if not isinstance(doc, dict) or doc.get("type") != "EPCISDocument":
        raise Invalid("expected an EPCIS 2.0 JSON-LD document with type 'EPCISDocument'")
    events = doc.get("epcisBody", {}).get("eventList") if isinstance(doc.get("epcisBody"), dict) else None
    if not isinstance(events, list) or not events:
        raise Invalid("epcisBody.eventList must hold at least one event")
    if len(events) > settings.max_events_per_document:
        raise Invalid(f"at most {settings.max_events_per_document} events per document")
    errors = document_errors({**doc, "epcisBody": {"eventList": []}})
    if errors:
        raise Invalid("the document does not follow the EPCIS 2.0 schema", details=errors)
    return capture_events(session, p, events, doc.get("@context", DEFAULT_CONTEXT), settings)


def capture_events(
    session: Session,
    p: Principal,
    events: list[Any],
    context: Any,
    settings: Settings,
    *,
    idempotency_key: str | None = None,
) -> list[Captured]:
    p.require_write()
    cache = custody.LotCache(session)
    out = []
    for i, event in enumerate(events):
        try:
            out.append(_capture_one(session, p, event, context, settings, cache, idempotency_key))
        except DomainError as exc:
            where = f"event {i}: " if len(events) > 1 else ""
            raise type(exc)(where + exc.message, details=exc.details) from exc
    return out


def _capture_one(
    session: Session, p: Principal, event: Any, context: Any, settings: Settings,
    cache: custody.LotCache, idempotency_key: str | None,
) -> Captured:  # fmt: skip
    if not isinstance(event, dict):
        raise Invalid("an event must be a JSON object")
    full = copy.deepcopy(event)
    full.setdefault("@context", context)
    if full.get("type") not in EVENT_TYPES:
        raise Invalid(f"event type must be one of {', '.join(EVENT_TYPES)}")
    errors = event_errors(full)
    if errors:
        raise Invalid("the event does not follow the EPCIS 2.0 schema", details=errors)
    if "errorDeclaration" in full:
        raise Invalid("declare errors with POST /api/v1/events/{id}/corrections")
    prefixes = prefixes_of_context(full["@context"])
    hash_id = event_hash_id(node_of_json_event(full, prefixes))
    client_id = str(full.get("eventID") or idempotency_key or hash_id)
    existing = session.exec(select(Event).where(Event.org_id == p.org_id, Event.client_event_id == client_id)).first()
    if existing is not None:
        if existing.hash_id != hash_id:
            raise Conflict(f"eventID {client_id} was already used for a different event")
        assert existing.id is not None
        return Captured(existing.id, existing.hash_id, client_id, duplicate=True)
    event_time = parse_event_time(str(full["eventTime"]), settings)
    refs = extract(full)
    touches = custody.apply(session, p, full, refs, cache, prefixes)
    full["eventID"] = client_id
    row = Event(
        org_id=p.org_id,
        member_id=p.member_id,
        client_event_id=client_id,
        hash_id=hash_id,
        event_type=full["type"],
        biz_step=voc.full_uri(full.get("bizStep"), voc.BIZSTEP),
        action=full.get("action"),
        disposition=voc.full_uri(full.get("disposition"), voc.DISP),
        event_time=event_time,
        document=full,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add_all(
        [EventLot(event_id=row.id, lot_id=t.lot.id, role=t.role, quantity=t.quantity, uom=t.uom) for t in touches]  # type: ignore[arg-type]
    )
    session.add(AnchorItem(kind=ItemKind.event, ref_id=row.id, digest=digest_hex(hash_id)))
    return Captured(row.id, hash_id, client_id, duplicate=False)


def correction_digest(hash_id: str, declaration: dict[str, Any]) -> str:
    """Digest anchored for an errorDeclaration: binds the declaration to the event's hash."""
    import json

    canon = json.dumps(declaration, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"errorDeclaration\n{hash_id}\n{canon}".encode()).hexdigest()
