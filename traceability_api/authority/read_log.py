"""Who read an organisation's data: the write log's read entries (method GET) that name it as an
owner (``audit_read_owner``, written with the entry by ``write_log.record``), for that
organisation's admins and auditors.  Reads by its own members are never logged as private reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from traceability_api.authority.models import ReadOwner, WriteLogEntry
from traceability_api.errors import Forbidden
from traceability_api.parties.models import Member, Organisation, Role
from traceability_api.parties.service import Principal

MAX_ROWS = 1000
OWNER_ROLES = frozenset({Role.admin, Role.auditor})


@dataclass(frozen=True)
class Read:
    id: int
    at: datetime
    reader_org_id: int | None
    reader_org: str | None
    reader_org_kind: str | None
    member: str | None
    path: str
    status: int
    digest: str

    def json(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d


def may_see_reads(p: Principal) -> bool:
    return p.role in OWNER_ROLES


def reads_of(session: Session, p: Principal, after_id: int = 0, limit: int = 200) -> list[Read]:
    """The logged reads of ``p``'s organisation's data by other organisations, oldest first, after
    entry ``after_id`` (for paging), at most ``limit`` (1..``MAX_ROWS``)."""
    if not may_see_reads(p):
        raise Forbidden("who read the organisation's data is for its admins and auditors")
    reader = aliased(Organisation)
    q = (
        select(WriteLogEntry, reader.name, reader.kind, Member.name)  # type: ignore[call-overload]
        .join(ReadOwner, col(ReadOwner.entry_id) == WriteLogEntry.id)
        .join(reader, col(reader.id) == WriteLogEntry.org_id, isouter=True)
        .join(Member, col(Member.id) == WriteLogEntry.member_id, isouter=True)
        .where(ReadOwner.org_id == p.org_id, col(WriteLogEntry.id) > after_id, WriteLogEntry.method == "GET")
        .where(col(WriteLogEntry.org_id).is_distinct_from(p.org_id))
        .order_by(col(WriteLogEntry.id))
        .limit(min(max(limit, 1), MAX_ROWS))
    )
    return [
        Read(e.id or 0, e.at, e.org_id, org, str(kind) if kind else None, member, e.path, e.status, e.digest)
        for e, org, kind, member in session.exec(q).all()
    ]
