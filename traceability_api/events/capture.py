"""Capture: validate, authorise, hash and store EPCIS events, each with its outbox row, in the
caller's transaction (one document = one transaction: all its events or none)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy import select as sa_select
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.consensus.event_hash import HASH_RULE, hash_id_of_event, prefixes_of_context
from traceability_api.consensus.records import event_digest
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.schema import document_errors, event_errors
from traceability_api.errors import Conflict, DomainError, Invalid
from traceability_api.events import custody
from traceability_api.events.chronology import check_not_before
from traceability_api.events.declarations import declare_captured
from traceability_api.events.models import Event, EventLot
from traceability_api.events.refs import EventRefs, extract
from traceability_api.events.signature_hook import envelope_for, split_envelope
from traceability_api.limits import check_event_bounds
from traceability_api.lots.models import LotLink
from traceability_api.outbox import ItemKind, Pending, enqueue
from traceability_api.parties.service import Principal
from traceability_api.privacy.commitments import ToCommit, commit_events
from traceability_api.privacy.models import Visibility
from traceability_api.privacy.visibility import visibility_of
from traceability_api.timeutil import utcnow

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent", "TransactionEvent")
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
DEFAULT_CONTEXT = [EPCIS_CONTEXT, {voc.AGRI_PREFIX: voc.AGRI_NS}]
# exported documents define no prefix of their own: each event carries the @context it was hashed with
EXPORT_CONTEXT = [EPCIS_CONTEXT]
OLDEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")

EventCheck = Callable[[Session, Principal, dict[str, Any], datetime, Settings], None]
"""A domain rule every new event must pass (raises a DomainError), e.g. evidence.diary.check."""


@dataclass
class Captured:
    id: int
    hash_id: str
    event_id: str
    duplicate: bool
    declared: bool = False  # an errorDeclaration on the stored event ``id``, not a new event


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


def capture_document(
    session: Session, p: Principal, doc: Any, settings: Settings, *, checks: Sequence[EventCheck]
) -> list[Captured]:
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
    return capture_events(session, p, events, doc.get("@context", DEFAULT_CONTEXT), settings, checks=checks)


def capture_events(
    session: Session,
    p: Principal,
    events: list[Any],
    context: Any,
    settings: Settings,
    *,
    checks: Sequence[EventCheck],
    idempotency_key: str | None = None,
    recall: bool = False,
) -> list[Captured]:
    """Capture ``events`` in the caller's transaction, in bulk: one duplicate lookup, one lot lookup
    per distinct lot, and multi-row inserts for events, their lot links and outbox rows.
    ``checks`` are the domain rules (e.g. food safety) each new event must pass before custody."""
    p.require_write()
    prepared = prepare_events(events, context, settings, idempotency_key=idempotency_key)
    return store_prepared(session, p, prepared, settings, checks=checks, recall=recall)


def prepare_events(
    events: list[Any], context: Any, settings: Settings, *, idempotency_key: str | None = None
) -> list[Prepared]:
    """Bounds, schema and hash of each event, without the database (a request does this before
    it joins a group commit, so a malformed event never fails the others)."""
    prepared = []
    for i, event in enumerate(events):
        try:
            check_event_bounds(event, settings.event_max_depth, settings.event_max_bytes)
            prepared.append(_prepare(event, context, idempotency_key))
        except DomainError as exc:
            raise _located(exc, i, len(events)) from exc
    return prepared


def store_prepared(
    session: Session,
    p: Principal,
    prepared: list[Prepared],
    settings: Settings,
    *,
    checks: Sequence[EventCheck],
    recall: bool = False,
) -> list[Captured]:
    """Store prepared events in the caller's transaction (see ``capture_events``)."""
    ids = [pe.client_id for pe in prepared]
    rows = session.connection().execute(_known_statement(), {"org": p.org_id, "ids": ids})
    known = {e.client_event_id: e for e in rows}
    cache = custody.LotCache(session)
    refs = _prefetch(cache, prepared, known)
    out: list[Captured | None] = []
    pending: list[tuple[dict[str, Any], list[custody.Touch], int]] = []
    timed: list[tuple[int, list[custody.Touch], datetime, Any]] = []
    seen: dict[str, str] = {}
    for i, pe in enumerate(prepared):
        try:
            if "errorDeclaration" in pe.event:  # declares the (earlier) event it repeats erroneous
                d = declare_captured(session, p, pe.event, pe.hash_id, settings)
                assert d.event.id is not None
                out.append(Captured(d.event.id, d.event.hash_id, d.event.client_event_id, d.duplicate, declared=True))
                continue
            if pe.client_id in known or pe.client_id in seen:
                out.append(_repeat(pe, known.get(pe.client_id), seen.get(pe.client_id)))
                continue
            seen[pe.client_id] = pe.hash_id
            row, touches = _apply(session, p, pe, refs.get(i), settings, cache, recall, checks)
        except DomainError as exc:
            raise _located(exc, i, len(prepared)) from exc
        timed.append((i, touches, row["event_time"], pe.event.get("eventTimeZoneOffset")))
        pending.append((row, touches, len(out)))
        out.append(None)
    _check_chronology(cache, timed, len(prepared))
    if pending:
        _insert(session, p, pending, out)
    return _fill_in_document_duplicates(out, prepared)


@lru_cache(maxsize=1)
def _known_statement() -> Any:
    """The stored events of an organisation with the given eventIDs: a Core query of the columns a
    repeat needs (no ORM entities), built once (building it cost more CPU than running it)."""
    t = Event.__table__.c  # type: ignore[attr-defined]
    return sa_select(t.id, t.client_event_id, t.hash_id, t.hash_rule).where(
        t.org_id == bindparam("org"), t.client_event_id.in_(bindparam("ids", expanding=True))
    )


Known = Any  # a row of _known_statement(): id, client_event_id, hash_id, hash_rule


def _prefetch(cache: custody.LotCache, prepared: list[Prepared], known: dict[str, Known]) -> dict[int, EventRefs]:
    """The identifiers of every new event, and their lots and places loaded in a few queries."""
    refs: dict[int, EventRefs] = {}
    lots: set[tuple[str, str]] = set()
    places: set[str] = set()
    for i, pe in enumerate(prepared):
        if "errorDeclaration" in pe.event or pe.client_id in known:
            continue
        try:
            r = refs[i] = extract(pe.event)
        except DomainError:
            continue  # raised again, with its position, when the event is applied
        lots.update((x.ref.gtin, x.ref.code) for x in r.items if x.ref.kind == "lot" and x.ref.gtin and x.ref.code)
        places.update(u for u in (r.read_point, r.biz_location) if u is not None)
    cache.prefetch(lots, places)
    return refs


def _check_chronology(
    cache: custody.LotCache, timed: list[tuple[int, list[custody.Touch], datetime, Any]], n: int
) -> None:
    """No event before the commissioning of a lot it touches: the first event times were read with
    the lots (at most one query more, for lots found otherwise)."""
    first = cache.first_event_times({t.lot.id for _, ts, _, _ in timed for t in ts if t.lot.id is not None})
    for i, touches, when, offset in timed:
        try:
            check_not_before(touches, when, offset, first)
        except DomainError as exc:
            raise _located(exc, i, n) from exc


def _located(exc: DomainError, i: int, n: int) -> DomainError:
    """The same error, its message prefixed with the position of the event in a document."""
    where = f"event {i}: " if n > 1 else ""
    return type(exc)(where + exc.message, details=exc.details)


def _repeat(pe: Prepared, old: Known | None, earlier: str | None) -> Captured | None:
    """A repeat of a stored event (its Captured) or of an earlier event of this document (None,
    filled in at the end); the same eventID for different content is a conflict."""
    if (old.hash_id if old is not None else earlier) != _hash_under(pe, old):
        raise Conflict(f"eventID {pe.client_id} was already used for a different event")
    return Captured(old.id, old.hash_id, pe.client_id, True) if old is not None and old.id else None


@dataclass
class Prepared:
    """An event checked against the schema, with its context, hash ID and client ID."""

    event: dict[str, Any]
    hash_id: str
    client_id: str
    prefixes: dict[str, str]
    signature: Any = None  # the agri:signature envelope as given (never part of the hash)
    visibility: str = Visibility.public  # its agri:visibility member (hashed like any extension member)


def _hash_under(pe: Prepared, old: Known | None) -> str:
    """The new event's hash under the rule the stored event with its eventID was hashed with."""
    if old is None or old.hash_rule == HASH_RULE:
        return pe.hash_id
    return hash_id_of_event(pe.event, old.hash_rule)


def _prepare(event: Any, context: Any, idempotency_key: str | None) -> Prepared:
    if not isinstance(event, dict):
        raise Invalid("an event must be a JSON object")
    full = _copy_json(event)
    signature = split_envelope(full)
    full["@context"] = extended_context(context, event.get("@context"))
    if full.get("type") not in EVENT_TYPES:
        raise Invalid(f"event type must be one of {', '.join(EVENT_TYPES)}")
    errors = event_errors(full)
    if errors:
        raise Invalid(f"the event does not follow the EPCIS 2.0 schema: {errors[0]}", details=errors)
    prefixes = prefixes_of_context(full["@context"])
    try:
        hash_id = hash_id_of_event(full, HASH_RULE)
    except OverflowError as exc:  # the hash writes every time in UTC: 0001-01-01T00:00+14:00 is year 0 there
        raise Invalid(
            "a time of the event is implausibly old or in the future: in UTC it falls outside the years 1 to 9999"
        ) from exc
    client_id = str(full.get("eventID") or idempotency_key or hash_id)
    if len(client_id) > 200:
        raise Invalid("eventID is longer than 200 characters")
    return Prepared(full, hash_id, client_id, prefixes, signature, visibility_of(full))


_SCALARS = (str, int, float, bool, type(None))


def _copy_json(value: Any) -> Any:
    """A deep copy of a parsed JSON value (depth already bounded), 4x faster than ``copy.deepcopy``
    (no memo, no dispatch); anything that is not JSON is deep-copied the slow way."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if kind is list:
        return [_copy_json(v) for v in value]
    return value if kind in _SCALARS else copy.deepcopy(value)


def extended_context(document_context: Any, own: Any) -> list[Any]:
    """The event's own ``@context`` extends its document's (JSON-LD scoping); stored with the
    event so that it re-hashes alone to its hash ID."""
    out = list(document_context) if isinstance(document_context, list) else [document_context]
    for item in own if isinstance(own, list) else ([] if own is None else [own]):
        if item not in out:
            out.append(item)
    return out


def _apply(
    session: Session,
    p: Principal,
    pe: Prepared,
    refs: EventRefs | None,
    settings: Settings,
    cache: custody.LotCache,
    recall: bool,
    checks: Sequence[EventCheck],
) -> tuple[dict[str, Any], list[custody.Touch]]:
    full = pe.event
    event_time = parse_event_time(str(full["eventTime"]), settings)
    for check in checks:
        check(session, p, full, event_time, settings)
    signature = envelope_for(checks, session, p, pe.hash_id, pe.signature)
    refs = extract(full) if refs is None else refs
    touches = custody.apply(session, p, full, refs, cache, pe.prefixes, recall=recall)
    full["eventID"] = pe.client_id
    row = {
        "org_id": p.org_id,
        "member_id": p.member_id,
        "client_event_id": pe.client_id,
        "hash_id": pe.hash_id,
        "event_type": full["type"],
        "biz_step": voc.full_uri(full.get("bizStep"), voc.BIZSTEP),
        "action": full.get("action"),
        "disposition": voc.full_uri(full.get("disposition"), voc.DISP),
        "event_time": event_time,
        "place_id": refs.place_id,
        "record_time": utcnow(),
        "document": full,
        "hash_rule": HASH_RULE,
        "signature": signature,
        "visibility": pe.visibility,
    }
    return row, touches


# Core inserts of the tables (the rows are plain dicts with every column: no ORM bulk machinery)
_INSERT_EVENTS = Event.__table__.insert().returning(Event.__table__.c.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
_INSERT_LINKS = EventLot.__table__.insert()  # type: ignore[attr-defined]
_INSERT_LINEAGE = LotLink.__table__.insert()  # type: ignore[attr-defined]


_NEXT_EVENT_IDS = text("SELECT nextval(pg_get_serial_sequence('event', 'id')) FROM generate_series(1, :n)")
_EVENT_COLUMNS = tuple(c.name for c in Event.__table__.columns)  # type: ignore[attr-defined]
_COPY_EVENTS = f"COPY event ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
_JSON_COLUMNS = frozenset({"document", "signature"})


_DRIVER_CACHED_PARAMS = 50  # psycopg keeps its parse of a statement with at most this many parameters


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the event rows, returning their ids in order.  PostgreSQL: the ids drawn from the
    sequence first (one query), then the rows sent with ``COPY`` through the driver (psycopg
    writes each row in C; an ``executemany`` of the ``INSERT`` spent 10 % of the server's CPU in
    SQLAlchemy building each row's parameters, py-spy of scripts/bench/capture.py).  A group of
    up to 3 events keeps one INSERT with RETURNING: psycopg caches its parse, one round trip."""
    if len(rows) * len(rows[0]) <= _DRIVER_CACHED_PARAMS or session.get_bind().dialect.name != "postgresql":
        return list(session.execute(_INSERT_EVENTS, rows).scalars().all())
    ids = list(session.execute(_NEXT_EVENT_IDS, {"n": len(rows)}).scalars())
    for row, event_id in zip(rows, ids, strict=True):
        row["id"] = event_id
    copy_rows(session, _COPY_EVENTS, [tuple(_copy_value(c, row.get(c)) for c in _EVENT_COLUMNS) for row in rows])
    return ids


def _copy_value(column: str, value: Any) -> Any:
    """A row value as ``COPY`` takes it: JSON columns as their text (SQL NULL for None, as the
    ORM's ``JSON(none_as_null=True)`` stores it; the text is what the ORM's serializer sends), a
    StrEnum as its value, a datetime as it is (UTC, as ``UTCDateTime`` binds it)."""
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.dumps(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)
    if isinstance(value, StrEnum):
        return value.value
    return value


def copy_rows(session: Session, statement: str, rows: list[tuple[Any, ...]]) -> None:
    """``COPY ... FROM STDIN`` of ``rows`` on the session's own connection, in its transaction."""
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur, cur.copy(statement) as cp:  # type: ignore[union-attr]
        for row in rows:
            cp.write_row(row)


def _insert(
    session: Session,
    p: Principal,
    pending: list[tuple[dict[str, Any], list[custody.Touch], int]],
    out: list[Captured | None],
) -> None:
    session.flush()  # lots created by commissioning / transformation get their ids
    ids = _insert_events(session, [row for row, _, _ in pending])
    links: list[dict[str, Any]] = []
    lineage: list[dict[str, Any]] = []
    outbox: list[Pending] = []
    for event_id, (row, touches, slot) in zip(ids, pending, strict=True):
        links.extend(
            {"event_id": event_id, "lot_id": t.lot.id, "role": t.role, "quantity": t.quantity, "uom": t.uom}
            for t in touches
        )
        outputs = [t for t in touches if t.role == "output"]
        lineage.extend(
            {"parent_lot_id": i.lot.id, "child_lot_id": o.lot.id, "event_id": event_id, "quantity": o.quantity}
            for i in touches
            if i.role == "input"
            for o in outputs
        )
        outbox.append(Pending(ItemKind.event, event_id, event_digest(row["hash_id"]), row["record_time"]))
        out[slot] = Captured(event_id, row["hash_id"], row["client_event_id"], duplicate=False)
    hidden = [
        ToCommit(i, r["hash_id"], r["document"], r["visibility"]) for i, (r, _, _) in zip(ids, pending, strict=True)
    ]
    outbox.extend(commit_events(session, hidden))
    if links:
        session.execute(_INSERT_LINKS, links)
    if lineage:
        session.execute(_INSERT_LINEAGE, lineage)
    enqueue(session, outbox)


def _fill_in_document_duplicates(out: list[Captured | None], prepared: list[Prepared]) -> list[Captured]:
    """An event repeated inside one document is reported as a duplicate of its first copy."""
    first: dict[str, Captured] = {}
    result = []
    for c, pe in zip(out, prepared, strict=True):
        if c is None:
            c = Captured(first[pe.client_id].id, pe.hash_id, pe.client_id, duplicate=True)
        first.setdefault(pe.client_id, c)
        result.append(c)
    return result
