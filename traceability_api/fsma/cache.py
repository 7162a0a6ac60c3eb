"""FSMA 204 records kept on write: the sortable spreadsheet's rows, one per CTE, as CSV lines in
``fsma_row``, so that a year of a product (a million rows) is sent in seconds by one ordered read
(PostgreSQL: ``COPY ... TO STDOUT``) instead of being rebuilt from the events on every request.

- **What is kept.** Each row is what ``records.paired_chunks`` builds (every KDE, names romanised)
  with every event visible (an authority's view), rendered by ``sheet.csv_lines``, filed under what a
  selection filters on (product, event time, TLC, the recording organisation, FTL) and the
  organisations whose non-public events it draws on (``private_owners``).
- **When it is stale.** Database triggers (migrations 0024, 0026) mark a lot stale when one of its
  events, the lot itself, its inputs or its product change, and raise a generation when an
  organisation or place the rows describe changes.  ``refresh`` rebuilds the stale lots and their descendants
  (whose packing rows read their inputs' coolings and codes), a chunk of lots per transaction; it
  runs in the background (``FsmaRefresher``) and before every export, so an export always answers
  with what was stored when it began.
- **Who may use it.** An authority always; an organisation when none of the rows it asked for draws
  on another organisation's non-public events (else ``usable`` says no and the export builds its
  rows from the events for that reader, as before).  The rows are the same bytes as the rows built
  for the request (``tests/test_fsma_cache.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from traceability_api.db import ids_in, lock_for_write
from traceability_api.events.models import EventLot
from traceability_api.fsma import sheet
from traceability_api.fsma.market_codes import MAX_DEPTH  # lineage levels followed, down as well as up
from traceability_api.fsma.records import Selection, borrowed_owners, paired_chunks, refuse_above
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.parties.service import Principal
from traceability_api.privacy.access import note_lot_reads
from traceability_api.timeutil import UTCDateTime

_meta = MetaData()
fsma_state = Table("fsma_state", _meta, Column("id", Integer, primary_key=True), Column("generation", BigInteger))
fsma_stale_lot = Table("fsma_stale_lot", _meta, Column("lot_id", Integer, primary_key=True), Column("seq", BigInteger))
fsma_lot = Table("fsma_lot", _meta, Column("lot_id", Integer, primary_key=True), Column("generation", BigInteger))
fsma_row = Table(
    "fsma_row",
    _meta,
    Column("pair_id", Integer, primary_key=True),
    Column("lot_id", Integer),
    Column("event_id", Integer),
    Column("event_time", UTCDateTime()),
    Column("gtin", String(14)),
    Column("lot_code", String(20)),
    Column("org_id", Integer),
    Column("ftl", Boolean),
    Column("private_owners", String),
    Column("line", Text),
)
CHUNK_LOTS = 5000  # lots rebuilt per transaction
LOCK = 0x46534D41  # "FSMA": one refresh at a time across processes (PostgreSQL advisory lock)
FALLBACK_LOTS = 20_000  # more stale lots than this: the export builds its rows from the events (~1.7x
# faster than rebuilding them first, ~5,000 rows/s) and leaves the rebuild to the background loop
VACUUM_AFTER_LOTS = 10_000  # a refresh that rebuilt this many lots vacuums the table (PostgreSQL)
PIECE_ROWS = 2000  # rows per piece of the CSV sent
_L: Any = Lot
_P: Any = Product
_LL: Any = LotLink
_EL: Any = EventLot


# -- refresh -----------------------------------------------------------------------------------


def refresh(engine: Engine, gtin: str | None = None, pending: int | None = None) -> int:
    """Rebuild the stale lots (every marked lot, with its descendants; and the lots built at an older
    generation, of product ``gtin`` only when given), a chunk per transaction.  Returns the lots
    rebuilt.  Bounded by what was stale when it began (``pending``: ``backlog(engine, gtin)`` when the
    caller has just counted it): writes that keep marking lots meanwhile are left to the next refresh."""
    if pending is None:
        pending = backlog(engine, gtin)
    if not pending:
        return 0
    rounds = pending // CHUNK_LOTS + 2
    done = 0
    for _ in range(rounds):
        n = _refresh_chunk(engine, gtin)
        if not n:
            break
        done += n
    if done >= VACUUM_AFTER_LOTS and engine.dialect.name == "postgresql":
        _vacuum(engine)
    return done


def backlog(engine: Engine, gtin: str | None = None) -> int:
    """The lots a refresh would rebuild (before descendants): marked, or built at an older
    generation (of product ``gtin`` when given)."""
    with engine.connect() as c:
        old = _old_lots(gtin, _generation(c)).subquery()
        return _marked(c) + int(c.execute(select(func.count()).select_from(old)).scalar_one())


def _vacuum(engine: Engine) -> None:
    """What autovacuum would do a minute later, now: after a bulk rebuild the table has no
    statistics (the planner guessed 90 rows of a million) and no visibility map or hint bits, so the
    next export read every heap page to count and set hint bits as it went (4.5 s instead of 2.1 s
    at 1M rows)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM (ANALYZE) fsma_row")


def stale(engine: Engine) -> int:
    """How many lots are marked stale (the refresh loop's backlog; also ``/metrics``-worthy)."""
    with engine.connect() as c:
        return _marked(c)


def _marked(c: Connection) -> int:
    return int(c.execute(select(func.count()).select_from(fsma_stale_lot)).scalar_one())


def _generation(c: Connection) -> int:
    return int(c.execute(select(fsma_state.c.generation).where(fsma_state.c.id == 1)).scalar_one())


def _old_lots(gtin: str | None, generation: int) -> Any:
    q = select(fsma_lot.c.lot_id).where(fsma_lot.c.generation < generation)
    if gtin is not None:
        q = q.join(_L, _L.id == fsma_lot.c.lot_id).join(_P, _P.id == _L.product_id).where(_P.gtin == gtin)
    return q


def _refresh_chunk(engine: Engine, gtin: str | None) -> int:
    with Session(engine) as session:
        c = session.connection()
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK})")
        else:  # the write lock first: a read snapshot that later writes fails at once if another wrote meanwhile
            lock_for_write(session)
        generation = _generation(c)
        marks = dict(c.execute(select(fsma_stale_lot.c.lot_id, fsma_stale_lot.c.seq)
                               .order_by(fsma_stale_lot.c.lot_id).limit(CHUNK_LOTS)).all())  # fmt: skip
        if marks:
            lots = sorted(set(marks) | _descendants(c, set(marks)))
        else:
            old = _old_lots(gtin, generation).order_by(fsma_lot.c.lot_id).limit(CHUNK_LOTS)
            lots = list(c.execute(old).scalars())
        if not lots:
            return 0
        _rebuild(session, lots, generation)
        if marks:  # unless a write marked the lot again meanwhile
            key = tuple_(fsma_stale_lot.c.lot_id, fsma_stale_lot.c.seq)
            c.execute(delete(fsma_stale_lot).where(key.in_(list(marks.items()))))
        session.commit()
        return len(lots)


def _descendants(c: Connection, lots: set[int]) -> set[int]:
    """Every lot made, directly or not, from ``lots`` (a lineage link, or an output of a
    transformation that used it as input), one query per lineage level."""
    found: set[int] = set()
    frontier = set(lots)
    inp, out = _EL.__table__.alias("inp"), _EL.__table__.alias("out")
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        ids = sorted(frontier)
        linked = select(_LL.child_lot_id).where(ids_in(_LL.parent_lot_id, ids, c.dialect.name))
        made = (
            select(out.c.lot_id)
            .select_from(inp)
            .join(out, and_(out.c.event_id == inp.c.event_id, out.c.role == "output"))
            .where(ids_in(inp.c.lot_id, ids, c.dialect.name), inp.c.role == "input")
        )
        children = set(c.execute(union(linked, made)).scalars()) - found - lots
        found |= children
        frontier = children
    return found


def _rebuild(session: Session, lots: list[int], generation: int) -> None:
    c = session.connection()
    dialect = c.dialect.name
    c.execute(delete(fsma_row).where(ids_in(fsma_row.c.lot_id, lots, dialect)))
    c.execute(delete(fsma_lot).where(ids_in(fsma_lot.c.lot_id, lots, dialect)))
    by_lot, by_transformation = borrowed_owners(session, lots)
    for pairs in paired_chunks(session, Selection(lot_ids=tuple(lots), dialect=dialect), expected=2**31 - 1):
        lines = sheet.csv_lines(r for _, r in pairs)
        values = []
        for (p, _), line in zip(pairs, lines, strict=True):
            owners = set(by_lot.get(p.lot_id, ()))
            if p.visibility != "public":
                owners.add(p.org_id)
            if p.role == "output":
                owners |= by_transformation.get(p.id, set())
            values.append({
                "pair_id": p.pair_id, "lot_id": p.lot_id, "event_id": p.id, "event_time": p.event_time,
                "gtin": p.gtin, "lot_code": p.lot_code, "org_id": p.org_id, "ftl": p.ftl_category is not None,
                "private_owners": "".join(f",{o}" for o in sorted(owners)) + "," if owners else "", "line": line,
            })  # fmt: skip
        _insert_rows(c, values)
    c.execute(insert(fsma_lot), [{"lot_id": lot_id, "generation": generation} for lot_id in lots])


_ROW_COLUMNS = [col.name for col in fsma_row.columns]


def _insert_rows(c: Connection, values: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` (a third of the refresh's time went to INSERTs); SQLite:
    one executemany."""
    if not values:
        return
    if c.dialect.name != "postgresql":
        c.execute(insert(fsma_row), values)
        return
    raw = c.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY fsma_row ({', '.join(_ROW_COLUMNS)}) FROM STDIN") as copy:
        for v in values:
            copy.write_row([v[k] for k in _ROW_COLUMNS])


# -- reading -----------------------------------------------------------------------------------


def kept_csv(session: Session, engine: Engine, p: Principal, sel: Selection, limit: int) -> Iterator[bytes] | None:
    """The spreadsheet as CSV from the kept rows, brought up to date first; None when they cannot
    answer (``eligible``), are not this reader's rows (``usable``) or wait for too large a rebuild
    (``FALLBACK_LOTS``).  Counted and refused above
    ``limit`` before any byte is sent; other organisations' non-public events read are logged
    (docs/privacy.md).  Ends ``session``: the pieces are read in a transaction of their own."""
    if not eligible(sel):
        return None
    pending = backlog(engine, sel.gtin)
    if pending > FALLBACK_LOTS:
        return None  # a large backlog (a place renamed, a bulk import): building from the events is faster
    session.rollback()  # read after the refresh, not in a snapshot taken before it
    refresh(engine, sel.gtin, pending)
    if not usable(session, sel, p.org_id, p.reads_everything):
        return None
    n = count(session, sel)
    refuse_above(n, limit)
    if n:
        note_lot_reads(session, p, private_owners(session, sel, p.org_id))
    session.close()
    return csv_pieces(engine, sel, limit, None if p.reads_everything else p.org_id)


def eligible(sel: Selection) -> bool:
    """Whether the kept rows can answer ``sel`` (the spreadsheet's filters; not a list of lots)."""
    return sel.lot_ids is None


def _where(sel: Selection) -> list[Any]:
    r = fsma_row.c
    conds: list[Any] = []
    if sel.gtin is not None:
        conds.append(r.gtin == sel.gtin)
    if sel.since is not None:
        conds.append(r.event_time >= sel.since)
    if sel.until is not None:
        conds.append(r.event_time < sel.until)
    if sel.tlc_from is not None:
        conds.append(r.lot_code >= sel.tlc_from)
    if sel.tlc_to is not None:
        conds.append(r.lot_code <= sel.tlc_to)
    if sel.org_id is not None:
        conds.append(r.org_id == sel.org_id)
    if sel.ftl_only:
        conds.append(r.ftl.is_(True))
    return conds


def usable(session: Session, sel: Selection, reader_org_id: int, reads_everything: bool) -> bool:
    """Whether the kept rows are this reader's rows: always for an authority; for an organisation,
    when none of them draws on another organisation's non-public events (``sel`` ``eligible``)."""
    if reads_everything:
        return True
    r = fsma_row.c
    own = f",{reader_org_id},"
    foreign = exists().where(*_where(sel), r.private_owners != "", r.private_owners != own)
    return not bool(session.connection().execute(select(foreign)).scalar())


def private_owners(session: Session, sel: Selection, reader_org_id: int) -> set[int]:
    """The organisations, other than the reader's, whose non-public events the selected rows draw
    on (for the read log: ``records.private_owners`` of the kept rows)."""
    r = fsma_row.c
    q = select(r.private_owners).where(*_where(sel), r.private_owners != "").distinct()
    found = {int(o) for text in session.connection().execute(q).scalars() for o in text.strip(",").split(",")}
    return found - {reader_org_id}


def count(session: Session, sel: Selection) -> int:
    q = select(func.count()).select_from(fsma_row).where(*_where(sel))
    return int(session.connection().execute(q).scalar_one())


def _lines(sel: Selection, limit: int, reader_org_id: int | None) -> Any:
    r = fsma_row.c
    conds = _where(sel)
    if reader_org_id is not None:  # ``usable`` said yes before the answer began; a row rebuilt since may not be
        conds.append(or_(r.private_owners == "", r.private_owners == f",{reader_org_id},"))  # no IN: COPY
    return select(r.line).where(*conds).order_by(r.event_time, r.event_id, r.pair_id).limit(limit)


def csv_pieces(engine: Engine, sel: Selection, limit: int, reader_org_id: int | None = None) -> Iterator[bytes]:
    """The CSV (the header with its byte order mark, then every selected line in event-time order,
    each ended by CR LF): the bytes ``sheet.csv_chunks`` writes for the same rows, about 1 MB a
    piece, read in a transaction of its own while they are sent.  For an organisation
    (``reader_org_id``) only the rows drawing on no other organisation's non-public events: a write
    and a refresh between ``usable`` and this read would otherwise put them in its file."""
    yield sheet.csv_header()
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            yield from _copied(session, _lines(sel, limit, reader_org_id))
        else:
            q = _lines(sel, limit, reader_org_id)
            result = session.connection().execute(q.execution_options(yield_per=PIECE_ROWS))
            for part in result.partitions():
                yield ("\r\n".join(line for (line,) in part) + "\r\n").encode("utf-8")


_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)
_ESCAPES = {b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def _copied(session: Session, q: Any) -> Iterator[bytes]:
    """``COPY (q) TO STDOUT``: PostgreSQL writes the lines itself (text format: one line per row,
    ended by LF, with backslash, tab and line breaks escaped); only the line ends and the rare
    escape are turned back here, a piece at a time."""
    c = session.connection()
    c.exec_driver_sql("SET LOCAL jit = off")  # a plan this size is JIT-compiled for nothing
    compiled = q.compile(dialect=c.dialect)
    raw = c.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY ({compiled}) TO STDOUT", compiled.params) as copy:
        buf: list[Any] = []
        for data in copy:
            buf.append(data)
            if len(buf) == PIECE_ROWS:
                yield _unescaped(b"".join(buf))
                buf.clear()
        if buf:
            yield _unescaped(b"".join(buf))


def _unescaped(piece: bytes) -> bytes:
    piece = piece.replace(b"\n", b"\r\n")  # every LF left is a line end: those inside lines are escaped
    if b"\\" in piece:
        piece = _ESCAPED.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), piece)
    return piece
