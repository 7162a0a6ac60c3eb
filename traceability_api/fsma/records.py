"""FSMA 204 records: one row per CTE of one traceability lot with every KDE column
(``kde_columns.COLUMNS``), read from stored events by a fixed number of set-based queries (the
selected (event, lot) pairs; the lots' creating events; their shipments and coolings; the inputs of
transformations; places and organisations), never one query per row.  Names and addresses are
romanised (``romanise``) for US records."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import Exists, and_, case, func, literal, or_, select, union
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from traceability_api.db import ids_in
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Invalid
from traceability_api.events.models import Event, EventLot
from traceability_api.events.service import visible_to
from traceability_api.fsma import json_sql
from traceability_api.fsma.cte import (
    COOLING,
    DESTINATION_MARKET,
    STEPS,
    TLC_SOURCE,
    TLC_SOURCE_REFERENCE,
    btt_name,
    cte_of,
    doc_number,
)
from traceability_api.fsma.kde_columns import CTE, KEYS
from traceability_api.fsma.market_codes import fill as fill_market_codes
from traceability_api.fsma.romanise import romanise
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal, party_uri
from traceability_api.places.models import Place
from traceability_api.places.service import place_uri
from traceability_api.privacy.models import Visibility

# the tables' columns for SQLAlchemy Core queries (SQLModel's attribute types confuse select()'s overloads)
_E: Any = Event
_EL: Any = EventLot
_L: Any = Lot
_P: Any = Product
MAX_ROWS = 2_000_000  # a spreadsheet holds 1,048,576 rows; CSV may carry more, bounded all the same
CHUNK = 5_000  # pairs read and rows built at a time by ``row_chunks``


@dataclass(frozen=True)
class Selection:
    """Which records: a product (GTIN), an event-time range, a TLC range, one organisation's own
    records (``org_id``; None = every organisation, for authorities), given lots (upstream pull)."""

    gtin: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tlc_from: str | None = None
    tlc_to: str | None = None
    org_id: int | None = None
    lot_ids: tuple[int, ...] | None = None
    dialect: str = ""  # the database's: ``lot_ids`` as one array parameter on PostgreSQL (db.ids_in)
    ftl_only: bool = False  # products on the FDA Food Traceability List only
    # SQL condition over events the reader may read (``events.service.visible_to``); None = every
    # event (authorities).  Applied to the rows and to every event a row borrows from (the lot's
    # creating event, its shipments), so a private harvest's variety never reaches a buyer.
    visible: Any = None


def readable_by(p: Principal) -> Any:
    """What the records may draw on: every event for an authority; else public events (the
    consumer page shows them to anyone; the upstream pull reaches the lots a lot was made from)
    and the non-public ones ``p`` may read (docs/privacy.md)."""
    if p.reads_everything:
        return None
    return or_(col(Event.visibility) == Visibility.public, visible_to(p))


_DOC = _E.document
_SHIP_TO = ("owning_party", "possessing_party")  # who a shipment goes to (a location is added)
_RECEIVED_FROM = ("owning_party", "possessing_party")  # whom a receipt names as its source
_SHIPPED_BY = ("possessing_party", "owning_party")  # who shipped, when the receipt names nobody


def _when(step: str, column: Any) -> Any:
    """``column`` for events of ``step`` only (the database skips the extraction for the others)."""
    return case((_E.biz_step == step, column)).label(column.name)


def _pairs(sel: Selection, dialect: str) -> Select[Any]:
    """The (event, lot) pairs that may be CTEs, with what a row needs of the event, lot and product."""
    q = (
        select(
            _E.id,
            _E.hash_id,
            _E.org_id,
            _E.visibility,
            _E.event_type,
            _E.biz_step,
            _E.event_time,
            _E.place_id,
            _DOC["eventTimeZoneOffset"].as_string().label("tz"),
            _DOC[DESTINATION_MARKET].as_string().label("market"),
            _DOC[("ilmd", "agri:activity")].as_string().label("activity"),
            json_sql.doc_list(dialect, "type", "doc_types"),
            json_sql.doc_list(dialect, "bizTransaction", "doc_numbers"),
            _when(voc.SHIPPING, json_sql.first_party(dialect, "destinationList", _SHIP_TO, "ship_to_party")),
            _when(voc.SHIPPING, json_sql.first_party(dialect, "destinationList", ("location",), "ship_to_place")),
            _when(voc.RECEIVING, json_sql.first_party(dialect, "sourceList", _RECEIVED_FROM, "received_from")),
            _EL.id.label("pair_id"),
            _EL.lot_id,
            _EL.role,
            _EL.quantity,
            _EL.uom.label("link_uom"),
            _L.lot_code,
            _L.origin_place_id,
            _L.harvest_date,
            _L.owner_org_id,
            _L.uom.label("lot_uom"),
            _P.gtin,
            _P.ftl_category,
            _P.name,
            _P.name_en,
            _P.description,
        )  # fmt: skip
    )
    return _filtered(_pair_rows(q), sel)


def _pair_rows(q: Select[Any]) -> Select[Any]:
    """The joins and the CTE condition of ``_pairs`` (shared with ``any_rows``)."""
    return (
        q.select_from(_EL)
        .join(_E, _E.id == _EL.event_id)
        .join(_L, _L.id == _EL.lot_id)
        .join(_P, _P.id == _L.product_id)
        .where(
            or_(
                and_(_E.biz_step.in_(STEPS), _EL.role == "epc"),
                and_(_E.event_type == "TransformationEvent", _EL.role == "output"),
            )
        )
    )


def any_rows(sel: Selection) -> Exists:
    """EXISTS: ``rows(sel)`` may find something (the pairs query without its columns; a page
    skips the spreadsheet's queries when false)."""
    return _filtered(_pair_rows(select(literal(1))), sel).exists()


def _filtered(q: Select[Any], sel: Selection) -> Select[Any]:
    if sel.gtin is not None:
        q = q.where(_P.gtin == sel.gtin)
    if sel.since is not None:
        q = q.where(_E.event_time >= sel.since)
    if sel.until is not None:
        q = q.where(_E.event_time < sel.until)
    if sel.tlc_from is not None:
        q = q.where(_L.lot_code >= sel.tlc_from)
    if sel.tlc_to is not None:
        q = q.where(_L.lot_code <= sel.tlc_to)
    if sel.org_id is not None:
        q = q.where(_E.org_id == sel.org_id)
    if sel.ftl_only:
        q = q.where(_P.ftl_category.isnot(None))
    if sel.lot_ids is not None:
        q = q.where(ids_in(_EL.lot_id, sel.lot_ids, sel.dialect))
    return _readable(q, sel)


def _readable(q: Select[Any], sel: Selection) -> Select[Any]:
    return q if sel.visible is None else q.where(sel.visible)


def _lot_ids(sel: Selection) -> Select[Any]:
    q = (
        select(_EL.lot_id)
        .select_from(_EL)
        .join(_E, _E.id == _EL.event_id)
        .join(_L, _L.id == _EL.lot_id)
        .join(_P, _P.id == _L.product_id)
    )
    return _filtered(q, sel)


def _transform_ids(sel: Selection) -> Select[Any]:
    return _lot_ids(sel).with_only_columns(_E.id).where(_E.event_type == "TransformationEvent", _EL.role == "output")


class _Directory:
    """Organisations and places by id and by URI, with their romanised location descriptions."""

    def __init__(self, session: Session, place_ids: set[int], place_uris: set[str]) -> None:
        self._session = session
        self.orgs = {o.id: o for o in session.execute(select(Organisation)).scalars()}
        self.by_party = {party_uri(o): o for o in self.orgs.values()}
        ids = {i for i in place_ids if i} | {int(u.rsplit(":", 1)[1]) for u in place_uris if _is_place_urn(u)}
        glns = {u.split("/414/", 1)[1].split("/", 1)[0] for u in place_uris if "/414/" in u}
        pl: Any = Place
        places = list(session.execute(select(Place).where(or_(pl.id.in_(ids), pl.gln.in_(glns)))).scalars())
        self.places = {p.id: p for p in places}
        self.by_uri = {place_uri(p): p for p in places}
        self._cache: dict[tuple[str, int], str] = {}
        self._lids: dict[tuple[str, int, int], str] = {}
        self.harvests: dict[tuple[int | None, int], dict[str, Any]] = {}

    def add_places(self, ids: set[int]) -> None:
        """Load the places of ``ids`` not loaded yet (each chunk of rows brings its own)."""
        missing = ids - self.places.keys()
        if missing:
            pl: Any = Place
            for p in self._session.execute(select(Place).where(pl.id.in_(missing))).scalars():
                self.places[p.id] = p
                self.by_uri[place_uri(p)] = p

    def org_text(self, org_id: int | None) -> str:
        key = ("o", org_id or 0)
        if key not in self._cache:
            o = self.orgs.get(org_id or 0)
            self._cache[key] = _join(o.name, o.address, _phone(o)) if o is not None else ""
        return self._cache[key]

    def place_text(self, place_id: int | None) -> str:
        """Business name, place name, address or coordinates, phone (§ 1.1310 location description)."""
        key = ("p", place_id or 0)
        if key not in self._cache:
            p = self.places.get(place_id or 0)
            if p is None:
                self._cache[key] = ""
            else:
                o = self.orgs.get(p.org_id)
                self._cache[key] = _join(
                    o.name if o else None, p.name, p.address or (o.address if o else None), _coords(p), _phone(o)
                )
        return self._cache[key]

    def org_name(self, org_id: int | None) -> str:
        key = ("n", org_id or 0)
        if key not in self._cache:
            self._cache[key] = self.org_text(org_id).split(", ", 1)[0]
        return self._cache[key]

    def location_id(self, place_id: int | None, org_id: int | None) -> str:
        """The event's place URI, else its organisation's party URI."""
        key = ("l", place_id or 0, org_id or 0)
        if key not in self._lids:
            place = self.places.get(place_id or 0)
            org = self.orgs.get(org_id or 0)
            self._lids[key] = place_uri(place) if place is not None else party_uri(org) if org is not None else ""
        return self._lids[key]

    def party_text(self, uri: str | None) -> str:
        o = self.by_party.get(uri or "")
        return self.org_text(o.id) if o is not None else romanise(uri)

    def uri_place(self, uri: object) -> Place | None:
        return self.by_uri.get(str(uri or ""))


def _is_place_urn(u: str) -> bool:
    return u.startswith("urn:agritrace:place:") and u.rsplit(":", 1)[1].isdigit()


def _phone(o: Organisation | None) -> str | None:
    phone = getattr(o, "phone", None) if o is not None else None
    return f"tel. {phone}" if phone else None


def _coords(p: Place) -> str | None:
    g = p.geo or {}
    if g.get("type") == "Point":
        lon, lat = g["coordinates"][:2]
        return f"{lat:.5f}, {lon:.5f}"
    return None


@lru_cache(maxsize=8192)  # product, place and organisation texts repeat on every row
def _join(*parts: str | None) -> str:
    return ", ".join(romanise(x) for x in parts if x)


@lru_cache(maxsize=64)
def _zone(offset: object) -> timezone:
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            minutes = int(offset[1:3]) * 60 + int(offset[4:6])
        except ValueError:
            return UTC
        return timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes))
    return UTC


@dataclass
class _Move:
    time: datetime
    org_id: int
    place_id: int | None
    biz_step: str
    recipient: str | None  # a shipment's owning (else possessing) destination party
    shipped_by: str | None  # a shipment's possessing (else owning) source party


def _moves(session: Session, sel: Selection, dialect: str) -> dict[int, list[_Move]]:
    """Shipments and coolings of the selected lots and of the inputs of selected transformations."""
    inputs = select(_EL.lot_id).where(
        _EL.event_id.in_(_transform_ids(sel)),
        _EL.role == "input",
    )
    lots = union(_lot_ids(sel), inputs).subquery()
    q = _readable(
        select(
            _EL.lot_id,
            _E.event_time,
            _E.org_id,
            _E.place_id,
            _E.biz_step,
            _when(voc.SHIPPING, json_sql.first_party(dialect, "destinationList", _SHIP_TO, "recipient")),
            _when(voc.SHIPPING, json_sql.first_party(dialect, "sourceList", _SHIPPED_BY, "shipped_by")),
        )  # fmt: skip
        .join(_E, _E.id == _EL.event_id)
        .where(_EL.lot_id.in_(select(lots.c.lot_id)), _E.biz_step.in_((voc.SHIPPING, COOLING)))
        .order_by(_E.event_time),
        sel,
    )
    out: dict[int, list[_Move]] = defaultdict(list)
    for lot_id, t, org_id, place_id, step, recipient, shipped_by in _execute(session, q):
        out[lot_id].append(_Move(t, org_id, place_id, step, recipient, shipped_by))
    return out


def private_owners(session: Session, sel: Selection, reader_org_id: int) -> set[int]:
    """The organisations, other than the reader's, whose non-public events ``rows(sel)`` draws on:
    the rows' own events and those the rows borrow from (the lots' creating events, their
    shipments and coolings, those of a transformation's inputs).  One set-based query, for the read
    log (docs/privacy.md): the rows themselves stay as they are."""
    hidden = and_(_E.visibility != Visibility.public.value, _E.org_id != reader_org_id)
    own = _filtered(_pair_rows(select(_E.org_id)), sel).where(hidden)
    inputs = select(_EL.lot_id).where(_EL.event_id.in_(_transform_ids(sel)), _EL.role == "input")
    lots = union(_lot_ids(sel), inputs).subquery()
    borrowed = _readable(
        select(_E.org_id)
        .select_from(_EL)
        .join(_E, _E.id == _EL.event_id)
        .where(_EL.lot_id.in_(select(lots.c.lot_id)), _borrowed_condition()),
        sel,
    ).where(hidden)
    return {int(org) for (org,) in session.connection().execute(union(own, borrowed))}


def _borrowed_condition() -> Any:
    """The events a row borrows from (besides its own): a lot's creating event and its shipments and
    coolings (as ``private_owners``)."""
    return or_(
        and_(_E.biz_step == voc.COMMISSIONING, _EL.role == "epc"),
        _EL.role == "output",
        _E.biz_step.in_((voc.SHIPPING, COOLING)),
    )


def borrowed_owners(session: Session, lot_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """For ``fsma.cache``: the organisations whose non-public events the rows of ``lot_ids`` borrow
    from, (1) by lot (every row of the lot reads them) and (2) by transformation event (only the row
    of the transformation reads its inputs' events).  Two set-based queries, no reader: the cache
    keeps every organisation, the reader's own included."""
    hidden = _E.visibility != Visibility.public.value
    dialect = session.get_bind().dialect.name
    by_lot: dict[int, set[int]] = defaultdict(set)
    q = (
        select(_EL.lot_id, _E.org_id)
        .join(_E, _E.id == _EL.event_id)
        .where(ids_in(_EL.lot_id, lot_ids, dialect), _borrowed_condition(), hidden)
        .distinct()
    )
    for lot_id, org_id in _execute(session, q):
        by_lot[lot_id].add(org_id)
    out_el, in_el = _EL.__table__.alias("out_el"), _EL.__table__.alias("in_el")
    t = _E.__table__.alias("t")
    q = (
        select(out_el.c.event_id, _E.org_id)
        .select_from(out_el)
        .join(t, and_(t.c.id == out_el.c.event_id, t.c.event_type == "TransformationEvent"))
        .join(in_el, and_(in_el.c.event_id == out_el.c.event_id, in_el.c.role == "input"))
        .join(_EL, _EL.lot_id == in_el.c.lot_id)
        .join(_E, _E.id == _EL.event_id)
        .where(ids_in(out_el.c.lot_id, lot_ids, dialect), out_el.c.role == "output", _borrowed_condition(), hidden)
        .distinct()
    )
    by_transformation: dict[int, set[int]] = defaultdict(set)
    for event_id, org_id in _execute(session, q):
        by_transformation[event_id].add(org_id)
    return by_lot, by_transformation


@dataclass(frozen=True)
class _Origin:
    place_id: int | None
    org_id: int
    tlc_source: str | None  # ilmd agri:tlcSource (a place or GLN URI)
    tlc_source_reference: str | None
    variety: str | None


def _origins(session: Session, sel: Selection) -> dict[int, _Origin]:
    """lot id -> where and by whom the event that created it happened, with its ilmd's TLC source
    and variety."""
    ilmd = [_DOC[("ilmd", k)].as_string() for k in (TLC_SOURCE, TLC_SOURCE_REFERENCE, "agri:variety")]
    q = _readable(
        select(_EL.lot_id, _E.place_id, _E.org_id, *ilmd)
        .join(_E, _E.id == _EL.event_id)
        .where(
            _EL.lot_id.in_(_lot_ids(sel).subquery().select()),
            or_(and_(_E.biz_step == voc.COMMISSIONING, _EL.role == "epc"), _EL.role == "output"),
        )
        .order_by(_E.event_time.desc()),
        sel,
    )
    return {lot: _Origin(place, org, src, ref, variety) for lot, place, org, src, ref, variety in _execute(session, q)}


@dataclass
class _Input:
    tlc: str
    product: str
    quantity: float | None
    uom: str | None
    origin_place_id: int | None
    harvest_date: date | None
    owner_org_id: int
    lot_id: int


def _inputs(session: Session, sel: Selection) -> dict[int, list[_Input]]:
    q = (
        select(
            _EL.event_id,
            _L.lot_code,
            _P.name,
            _P.name_en,
            _EL.quantity,
            _EL.uom,
            _L.origin_place_id,
            _L.harvest_date,
            _L.owner_org_id,
            _L.id,
        )  # fmt: skip
        .join(_L, _L.id == _EL.lot_id)
        .join(_P, _P.id == _L.product_id)
        .where(_EL.event_id.in_(_transform_ids(sel)), _EL.role == "input")
    )
    out: dict[int, list[_Input]] = defaultdict(list)
    for ev, code, name, name_en, qty, uom, origin, harvested, owner, lot_id in _execute(session, q):
        out[ev].append(_Input(code, romanise(name_en or name), qty, uom, origin, harvested, owner, lot_id))
    return out


def _execute(session: Session, q: Select[Any]) -> Any:
    """Plain rows from the session's connection (no ORM result processing: these are not entities)."""
    return session.connection().execute(q)


@lru_cache(maxsize=1024)
def _doc_types(types: str | None) -> str:
    return "" if types is None else " | ".join(btt_name(t) for t in types.split(json_sql.SEP))


def _doc_numbers(numbers: str | None) -> str:
    return "" if numbers is None else " | ".join(doc_number(n) for n in numbers.split(json_sql.SEP))


def rows(session: Session, sel: Selection) -> list[dict[str, Any]]:
    """The spreadsheet's rows, ordered by event time; at most ``MAX_ROWS`` (all in memory: for the
    upstream pull and the KDE check; exports stream ``row_chunks``)."""
    return [r for chunk in row_chunks(session, sel, count_rows(session, sel)) for r in chunk]


def count_rows(session: Session, sel: Selection, limit: int = MAX_ROWS) -> int:
    """How many (event, lot) pairs the selection holds, refused (``Invalid``) above ``limit``;
    asked before any row is built or sent, so that a refusal is an answer, not a cut-off file."""
    _no_jit(session)
    q = _pairs(sel, session.get_bind().dialect.name).with_only_columns(_E.id).limit(limit + 1)
    n = int(session.connection().execute(select(func.count()).select_from(q.subquery())).scalar_one())
    refuse_above(n, limit)
    return n


def refuse_above(n: int, limit: int) -> None:
    """``Invalid`` when ``n`` records are more than one export may hold."""
    if n > limit:
        raise Invalid(f"more than {limit:,} records: choose a shorter date range or a TLC range")


def _no_jit(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # the JSON extraction's estimated cost makes PostgreSQL JIT-compile these plans, which took
        # longer than running them (3.2 of 3.8 s for the shipments of 20,000 events); this transaction only
        session.connection().exec_driver_sql("SET LOCAL jit = off")


def row_chunks(session: Session, sel: Selection, expected: int, chunk: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """The spreadsheet's rows, ordered by event time, ``chunk`` pairs at a time: the pairs come from
    a server-side cursor and only the current chunk's rows are in memory (a year of a product may be
    a million rows: a few GB as one list).  ``expected``: ``count_rows`` of the same selection (read
    in the same transaction); at most that many pairs are read."""
    for pairs in paired_chunks(session, sel, expected, chunk):
        yield [row for _, row in pairs]


def paired_chunks(
    session: Session, sel: Selection, expected: int, chunk: int = CHUNK
) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """``row_chunks`` with each row beside the (event, lot) pair it was built from (its ``pair_id``,
    ``lot_id``, ``id`` (the event), ``event_time``, ``org_id``, ``visibility`` ...: what
    ``fsma.cache`` files a row under).  Ties in event time are ordered by event, then pair."""
    dialect = session.get_bind().dialect.name
    _no_jit(session)
    origins = _origins(session, sel)
    inputs = _inputs(session, sel)
    moves = _moves(session, sel, dialect)
    place_ids = {o.place_id for o in origins.values()}
    place_ids |= {i.origin_place_id for ins in inputs.values() for i in ins} | {
        m.place_id for ms in moves.values() for m in ms
    }
    uris = {o.tlc_source for o in origins.values() if o.tlc_source}
    d = _Directory(session, {i for i in place_ids if i}, uris)
    q = _pairs(sel, dialect).order_by(_E.event_time, _E.id, _EL.id).limit(expected)
    result = session.connection().execute(q.execution_options(stream_results=True, yield_per=chunk))
    for pairs in result.partitions():
        d.add_places({i for p in pairs for i in (p.place_id, p.origin_place_id) if i})
        out: list[tuple[Any, dict[str, Any]]] = []
        with _no_gc():  # many small dicts: the cyclic collector would rescan them over and over
            for p in pairs:
                _add(out, p, d, origins, inputs, moves)
        fill_market_codes(session, [r for _, r in out], {(p.gtin, p.lot_code): p.lot_id for p in pairs})
        yield out


@contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _add(out: list[tuple[Any, dict[str, Any]]], p: Any, d: _Directory, origins: Any, inputs: Any, moves: Any) -> None:
    cte = cte_of(p.event_type, p.biz_step, p.role, p.origin_place_id, p.activity)
    if cte is not None:
        out.append((p, _row(p, cte, d, origins, inputs, moves)))


def _row(
    p: Any,
    cte: CTE,
    d: _Directory,
    origins: dict[int, _Origin],
    inputs: dict[int, list[_Input]],
    moves: dict[int, list[_Move]],
) -> dict[str, Any]:
    local = p.event_time.astimezone(_zone(p.tz))
    where = d.place_text(p.place_id) or d.org_text(p.org_id)
    product = romanise(p.name_en or p.name)
    row: dict[str, Any] = dict.fromkeys(KEYS, "")
    row.update(
        cte=cte.value,
        event_date=local.date(),
        event_time=local.replace(tzinfo=None),
        tlc=p.lot_code,
        gtin=p.gtin,
        product_description=_join(p.name_en or p.name, p.description) if p.description else product,
        quantity=p.quantity if p.quantity is not None else "",
        unit=(p.link_uom or p.lot_uom or "") if p.quantity is not None else "",
        location_description=where,
        location_id=d.location_id(p.place_id, p.org_id),
        reference_document_type=_doc_types(p.doc_types),
        reference_document_number=_doc_numbers(p.doc_numbers),
        destination_market=str(p.market or ""),
        recorded_by=d.org_name(p.org_id),
        event_id=p.hash_id,
    )
    origin = origins.get(p.lot_id)
    if origin is not None:
        src_place = d.uri_place(origin.tlc_source)
        row["tlc_source_location"] = (
            d.place_text(src_place.id)
            if src_place is not None
            else d.place_text(origin.place_id) or d.org_text(origin.org_id)
        )
        row["tlc_source_reference"] = romanise(origin.tlc_source_reference or "")
        variety = origin.variety
        row["commodity_variety"] = _join(p.name_en or p.name, variety) if variety else product
    lot_moves = moves.get(p.lot_id, [])
    if cte in (CTE.harvesting, CTE.cooling):
        row.update(_harvest(d, p.origin_place_id, p.owner_org_id, p.harvest_date or local.date()))
        nxt = next((m for m in lot_moves if m.biz_step == voc.SHIPPING and m.time >= p.event_time), None)
        if nxt is not None:
            row["subsequent_recipient"] = d.party_text(nxt.recipient)
    if cte == CTE.shipping:
        row["subsequent_recipient"] = d.party_text(p.ship_to_party)
        to = p.ship_to_place
        if to:
            row["subsequent_recipient"] += f" ({romanise(to)})"
    if cte == CTE.receiving:
        src = p.received_from
        if src is None:
            prev = [m for m in lot_moves if m.biz_step == voc.SHIPPING and m.time <= p.event_time]
            if prev:
                src = prev[-1].shipped_by
                row["previous_source"] = d.party_text(src) if src else d.org_text(prev[-1].org_id)
        else:
            row["previous_source"] = d.party_text(src)
    if cte in (CTE.initial_packing, CTE.transformation):
        ins = inputs.get(p.id, [])
        row["input_tlcs"] = " | ".join(
            f"{i.tlc} ({i.product}, {i.quantity:g} {i.uom or ''})".replace(" )", ")")
            if i.quantity
            else f"{i.tlc} ({i.product})"
            for i in ins
        )
        row["tlc_source_location"] = row["tlc_source_location"] or where
        if cte == CTE.initial_packing and ins:
            first = ins[0]
            row.update(_harvest(d, first.origin_place_id, first.owner_org_id, first.harvest_date))
            row["commodity_variety"] = first.product
            cooled = next((m for i in ins for m in moves.get(i.lot_id, []) if m.biz_step == COOLING), None)
            if cooled is not None:
                row["cooling_location"] = d.place_text(cooled.place_id) or d.org_text(cooled.org_id)
                row["cooling_date"] = cooled.time.astimezone(_zone(None)).date()
    return row


def _harvest(d: _Directory, place_id: int | None, org_id: int, harvested: date | None) -> dict[str, Any]:
    """Farm, field or container, harvester and date of a harvested lot (§ 1.1325, § 1.1330(a)(4)-(8))."""
    key = (place_id, org_id)
    if key not in d.harvests:
        d.harvests[key] = _harvest_place(d, place_id, org_id)
    return d.harvests[key] | {"harvest_date": harvested or ""}


def _harvest_place(d: _Directory, place_id: int | None, org_id: int) -> dict[str, Any]:
    place = d.places.get(place_id or 0)
    org = d.orgs.get(place.org_id if place is not None else org_id)
    field = ""
    if place is not None:
        code = place.planting_area_code or place.sector_code
        field = _join(place.name, code)
    return {
        "harvest_farm": _join(
            org.name if org else None, org.address if org else None, _coords(place) if place else None
        ),
        "field_or_container": field,
        "harvester_name": romanise(org.name) if org else "",
        "harvester_phone": getattr(org, "phone", None) or "",
    }


def lot_uri_of(row: dict[str, Any]) -> str:
    return lot_uri(str(row["gtin"]), str(row["tlc"]))
