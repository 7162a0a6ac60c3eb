"""Running a compiled EPCIS query: SQL conditions and keyset paging in the database, Python
predicates over at most ``SCAN_MAX`` candidate rows per request.  When the bound is reached the
page may hold fewer than ``perPage`` events, and ``nextPageToken`` continues the scan."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from traceability_api.epcis_rest.filters import PAGING, compile_query
from traceability_api.epcis_rest.values import QueryParameterError, as_time
from traceability_api.events.declarations import latest_declarations
from traceability_api.events.models import Event
from traceability_api.events.service import epcis_query_document, visible_to
from traceability_api.parties.service import Principal
from traceability_api.privacy.access import note_reads
from traceability_api.validation import MAX_DB_ID

SCAN_MAX = 5_000
BATCH = 500
MAX_PER_PAGE = 1_000
DEFAULT_PER_PAGE = 30
MAX_ID = MAX_DB_ID  # event ids and counts in a page token
_ORDER = {"eventTime": "event_time", "recordTime": "record_time"}


class QueryTooLarge(Exception):
    """More events match than ``maxEventCount`` allows."""


@dataclass
class Page:
    events: list[Event]
    next_token: str | None
    declarations: dict[int, dict[str, Any]] = field(default_factory=dict)  # errorDeclarations by event id

    def document(self, query_name: str = "SimpleEventQuery") -> dict[str, Any]:
        return epcis_query_document(self.events, query_name, self.declarations)


@dataclass
class _Paging:
    order: str | None
    desc: bool
    per_page: int
    remaining: int | None
    max_count: int | None
    after: tuple[Any, int] | None


def run_query(
    session: Session,
    p: Principal,
    params: dict[str, Any],
    *,
    extra: list[Any] | None = None,
    pred: Callable[[dict[str, Any]], bool] | None = None,
) -> Page:
    """Events ``p`` may read that match ``params`` (the EPCIS query parameters, paging included)."""
    compiled = compile_query(params)
    if pred is not None:
        compiled.py.append(pred)
    paging = _paging(params)
    base = select(Event).where(visible_to(p), *compiled.sql, *(extra or []))
    col = getattr(Event, _ORDER[paging.order]) if paging.order else None
    key_id = Event.id
    order = [c.desc() if paging.desc else c.asc() for c in ((col,) if col is not None else ()) + (key_id,)]  # type: ignore[union-attr]
    limit = paging.per_page if paging.remaining is None else min(paging.per_page, paging.remaining)
    if paging.max_count is not None:
        limit = min(limit, paging.max_count + 1)
    found: list[Event] = []
    after = paging.after
    scanned, exhausted = 0, False
    while len(found) < limit and scanned < SCAN_MAX:
        want = min(BATCH, SCAN_MAX - scanned)
        rows = list(session.exec(base.where(*_after(col, paging.desc, after)).order_by(*order).limit(want)).all())
        declared = latest_declarations(session, [r.id or 0 for r in rows]) if compiled.declarations else {}
        for row in rows:
            scanned += 1
            after = (getattr(row, _ORDER[paging.order]) if paging.order else None, row.id or 0)
            doc = row.document if row.id not in declared else row.document | {"errorDeclaration": declared[row.id]}
            if compiled.matches(doc):
                found.append(row)
                if len(found) == limit:
                    break
        if len(found) < limit and len(rows) < want:
            exhausted = True
            break
    if paging.max_count is not None and len(found) > paging.max_count:
        raise QueryTooLarge(f"more than maxEventCount={paging.max_count} events match; narrow the query")
    note_reads(session, p, found)  # another organisation's non-public events: into the audit log
    remaining = None if paging.remaining is None else paging.remaining - len(found)
    more = not exhausted and after is not None and (remaining is None or remaining > 0)
    token = _token(params, paging, after, remaining) if more else None
    return Page(found, token, latest_declarations(session, [e.id or 0 for e in found]))


def _after(col: Any, desc: bool, after: tuple[Any, int] | None) -> list[Any]:
    if after is None:
        return []
    value, last_id = after
    if col is None:
        return [Event.id < last_id if desc else Event.id > last_id]  # type: ignore[operator]
    if desc:
        return [or_(col < value, and_(col == value, Event.id < last_id))]  # type: ignore[operator, arg-type]
    return [or_(col > value, and_(col == value, Event.id > last_id))]  # type: ignore[operator, arg-type]


def _int(params: dict[str, Any], name: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        n = int(str(raw))
    except ValueError as exc:
        raise QueryParameterError(f"{name} must be an integer") from exc
    if n < lo or (hi is not None and n > hi):
        raise QueryParameterError(f"{name} must be between {lo} and {hi}" if hi else f"{name} must be >= {lo}")
    return n


def check_paging(params: dict[str, Any]) -> None:
    """QueryParameterError when the paging parameters of ``params`` are not what a query takes."""
    _paging(params)


def _paging(params: dict[str, Any]) -> _Paging:
    order = params.get("orderBy")
    if order is not None and order not in _ORDER:
        raise QueryParameterError(f"orderBy: supported values are {', '.join(_ORDER)}")
    direction = str(params.get("orderDirection") or ("DESC" if order else "ASC"))
    if direction not in ("ASC", "DESC"):
        raise QueryParameterError("orderDirection must be ASC or DESC")
    per_page = _int(params, "perPage", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE) or DEFAULT_PER_PAGE
    paging = _Paging(order, direction == "DESC", per_page, _int(params, "eventCountLimit", None, 1),
                     _int(params, "maxEventCount", None, 0), None)  # fmt: skip
    token = params.get("nextPageToken")
    if token is not None:
        state = _read_token(str(token), params)
        paging.after = (datetime.fromisoformat(state["v"]) if state["v"] else None, int(state["i"]))
        paging.remaining = state["n"]
    return paging


def _fingerprint(params: dict[str, Any]) -> str:
    stable = {k: v for k, v in params.items() if k not in PAGING or k in ("orderBy", "orderDirection")}
    return hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _token(params: dict[str, Any], paging: _Paging, after: tuple[Any, int] | None, remaining: int | None) -> str:
    assert after is not None
    value = after[0].isoformat() if isinstance(after[0], datetime) else None
    state = {"q": _fingerprint(params), "v": value, "i": after[1], "n": remaining}
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _read_token(token: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        ok = (isinstance(state, dict) and isinstance(state.get("i"), int) and 0 <= state["i"] <= MAX_ID and
              (state.get("v") is None or isinstance(state["v"], str)) and
              (state.get("n") is None or isinstance(state["n"], int) and 0 <= state["n"] <= MAX_ID))  # fmt: skip
        if ok and state["v"]:
            as_time([state["v"]])  # with its zone (a naive time failed in the database: 500), in range
    except (ValueError, TypeError) as exc:  # QueryParameterError is a ValueError
        raise QueryParameterError("nextPageToken is not a token this server issued") from exc
    if not ok:
        raise QueryParameterError("nextPageToken is not a token this server issued")
    if state.get("q") != _fingerprint(params):
        raise QueryParameterError("nextPageToken belongs to a different query")
    return state  # type: ignore[no-any-return]
