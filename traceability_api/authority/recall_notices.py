"""Recall notices: one per holder of the recalled lots, written with the recall (same transaction)
and delivered after it commits by ``recall_notify.py``.  A holder acknowledges once, either through
the one-time link of a notification (only SHA-256 digests of the links' tokens are stored) or from
its workspace; the recall's status is open until an authority (or its opener) closes it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Exists, exists
from sqlmodel import Session, col, select

from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.db import lock_for_write
from traceability_api.errors import Conflict, DomainError, Forbidden, NotFound
from traceability_api.parties.models import Member, Organisation
from traceability_api.parties.service import Principal, readable
from traceability_api.timeutil import utcnow

TOKEN_BYTES = 32
NO_CHANNEL = "no channel"  # last_result of a notice whose holder has no active alert channel


class LinkUsed(DomainError):
    """The acknowledgement link was used already (or the holder acknowledged in the workspace)."""

    status_code = 410


def concerned(row: dict[str, Any]) -> set[int]:
    """The organisations a lot of a recall report concerns: its holder and, for a lot in transit
    when the recall opened, the one it was shipped to (reports before that field name the holder)."""
    return {int(row[k]) for k in ("holderOrgId", "inTransitToOrgId") if row.get(k) is not None}


def lots_for(recall: Recall, org_id: int) -> list[dict[str, Any]]:
    """The recall's lots that concern ``org_id`` (what its notice lists)."""
    return [a for a in recall.affected if org_id in concerned(a)]


def create_notices(session: Session, recall: Recall) -> list[RecallNotice]:
    """A notice for each organisation holding an affected lot or receiving one in transit, due now."""
    orgs = sorted(set().union(*(concerned(a) for a in recall.affected)))
    notices = [RecallNotice(recall_id=recall.id or 0, org_id=org_id) for org_id in orgs]
    session.add_all(notices)
    session.flush()
    return notices


def new_token() -> tuple[str, str]:
    """(token for the link, its digest to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def notice_by_token(session: Session, notice_id: int, token: str) -> RecallNotice:
    """The notice whose link this is (404 for a wrong link, 410 once acknowledged)."""
    notice = session.get(RecallNotice, notice_id)
    digest = token_digest(token)
    if notice is None or not any(hmac.compare_digest(digest, h) for h in notice.token_hashes):
        raise NotFound("this acknowledgement link is not valid")
    if notice.acknowledged_at is not None:
        raise LinkUsed("this acknowledgement link was used already")
    return notice


def acknowledge_by_token(session: Session, notice_id: int, token: str) -> RecallNotice:
    lock_for_write(session)
    q = select(RecallNotice).where(RecallNotice.id == notice_id).with_for_update()
    session.exec(q).first()
    notice = notice_by_token(session, notice_id, token)
    return _acknowledge(session, notice, None)


def acknowledge_by_member(session: Session, p: Principal, notice_id: int) -> RecallNotice:
    p.require_write()
    lock_for_write(session)
    notice = session.exec(select(RecallNotice).where(RecallNotice.id == notice_id).with_for_update()).first()
    if notice is None or notice.org_id != p.org_id:
        raise NotFound(f"recall notice {notice_id} not found")
    if notice.acknowledged_at is not None:
        raise Conflict("this recall was acknowledged already")
    return _acknowledge(session, notice, p.member_id)


def _acknowledge(session: Session, notice: RecallNotice, member_id: int | None) -> RecallNotice:
    notice.acknowledged_at, notice.acknowledged_by = utcnow(), member_id
    session.add(notice)
    session.flush()
    return notice


def close_recall(session: Session, p: Principal, recall_id: int) -> Recall:
    p.require_write()
    recall = readable(p, session.get(Recall, recall_id), f"recall {recall_id} not found")
    if not p.is_authority and recall.org_id != p.org_id:
        raise Forbidden("only a market authority or the recall's opener may close it")
    if recall.status != "closed":
        recall.status, recall.closed_at = "closed", utcnow()
        session.add(recall)
        session.flush()
    return recall


@dataclass(frozen=True)
class NoticeRow:
    id: int
    recall_id: int
    org_id: int
    holder: str
    state: str
    attempts: int
    last_result: str
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def notices_of(session: Session, recall_ids: Sequence[int]) -> list[NoticeRow]:
    """The notices of the recalls with their holder's and acknowledging member's names (one query)."""
    if not recall_ids:
        return []
    q = (
        select(RecallNotice, Organisation.name, Member.name)
        .join(Organisation, col(Organisation.id) == RecallNotice.org_id)
        .join(Member, col(Member.id) == RecallNotice.acknowledged_by, isouter=True)
        .where(col(RecallNotice.recall_id).in_(list(recall_ids)))
        .order_by(col(RecallNotice.recall_id), col(RecallNotice.id))
    )
    return [
        NoticeRow(
            n.id or 0,
            n.recall_id,
            n.org_id,
            org,
            _shown_state(n),
            n.attempts,
            "" if _shown_state(n) == "no_channel" else n.last_result,
            n.notified_at,
            n.acknowledged_at,
            member,
        )  # fmt: skip
        for n, org, member in session.exec(q).all()
    ]


def _shown_state(n: RecallNotice) -> str:
    """``no_channel`` for a notice that is done but went nowhere (its holder has no alert channel:
    it sees the recall on its workspace home only), so an inspector does not read it as delivered."""
    return "no_channel" if n.state == "sent" and n.last_result == NO_CHANNEL else n.state


def _open_for(org_id: Any) -> tuple[Any, ...]:
    return RecallNotice.org_id == org_id, col(RecallNotice.acknowledged_at).is_(None), Recall.status == "open"


def open_notices_for(session: Session, org_id: int) -> list[tuple[RecallNotice, Recall]]:
    """Recalls an organisation holds lots of and has not acknowledged yet (its workspace home)."""
    q = (
        select(RecallNotice, Recall)
        .join(Recall, col(Recall.id) == RecallNotice.recall_id)
        .where(*_open_for(org_id))
        .order_by(col(RecallNotice.id).desc())
        .limit(50)
    )
    return [(n, r) for n, r in session.exec(q).all()]


def has_open_notices(org_id: Any) -> Exists:
    """EXISTS: ``open_notices_for`` would find something (cheap; the home page skips the query when false)."""
    return exists().where(col(Recall.id) == RecallNotice.recall_id, *_open_for(org_id))
