"""Lot lineage over ``lot_link`` (written by transformations), walked with recursive SQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

MAX_DEPTH = 64

_UP = text(
    "WITH RECURSIVE walk(lot_id, depth) AS ("
    " SELECT CAST(:lot AS INTEGER), 0"
    " UNION SELECT l.parent_lot_id, w.depth + 1 FROM lot_link l JOIN walk w ON l.child_lot_id = w.lot_id"
    " WHERE w.depth < :max) SELECT lot_id, MIN(depth) FROM walk GROUP BY lot_id"
)
_DOWN = text(
    "WITH RECURSIVE walk(lot_id, depth) AS ("
    " SELECT CAST(:lot AS INTEGER), 0"
    " UNION SELECT l.child_lot_id, w.depth + 1 FROM lot_link l JOIN walk w ON l.parent_lot_id = w.lot_id"
    " WHERE w.depth < :max) SELECT lot_id, MIN(depth) FROM walk GROUP BY lot_id"
)


def walk(session: Session, lot_id: int, direction: str, depth: int = MAX_DEPTH) -> dict[int, int]:
    """{lot id: distance} of the lots upstream ("back") or downstream ("forward") of ``lot_id``,
    the lot itself included at distance 0."""
    q = _UP if direction == "back" else _DOWN
    return {int(r[0]): int(r[1]) for r in session.connection().execute(q, {"lot": lot_id, "max": depth})}


def upstream(session: Session, lot_id: int) -> list[int]:
    """The lot first, then every lot that went into it, nearest first."""
    return [k for k, _ in sorted(walk(session, lot_id, "back").items(), key=lambda kv: (kv[1], kv[0]))]
