"""Delivering recall notices (the outbox pattern): ``open_recall`` writes one ``recall_notice`` row
per holder in the recall's transaction; this loop sends them after the commit, never in a request.

One attempt at a due notice, crash-safe in three steps:
1. claim it in its own transaction (the row locked, FOR UPDATE SKIP LOCKED on PostgreSQL, the write
   lock on SQLite): count the attempt, push ``next_try_at`` back by the back-off, add the digest of
   a new link token; commit.  A crash after this retries once the back-off has passed.
2. send the notice (webhook: JSON ``POST``; e-mail: through the SMTP sender of ``husbandry/deliver``)
   to each of the holder's active alert channels not yet reached, with the new link.
3. record which channels took it; all of them (or none configured): ``sent``, else retried with
   doubling back-off until ``MAX_ATTEMPTS`` (then ``failed``).
A channel reached before a crash between 2 and 3 may get the notice twice (at least once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from consumer_site import formatting as fmt
from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.authority.recall_notices import NO_CHANNEL, lots_for, new_token
from traceability_api.background import BackgroundLoop
from traceability_api.config import Settings
from traceability_api.db import lock_for_write
from traceability_api.husbandry.deliver import delivered, post_webhook, send_mail
from traceability_api.husbandry.models import AlertChannel
from traceability_api.parties.models import Organisation
from traceability_api.timeutil import utcnow

MAX_ATTEMPTS = 8
BATCH = 100


def backoff(attempts: int, base_s: float) -> timedelta:
    """Wait before the next try after ``attempts`` tries: base, 2 base, 4 base ... at most one hour."""
    return timedelta(seconds=min(base_s * 2 ** max(attempts - 1, 0), 3600.0))


def ack_url(settings: Settings, notice_id: int, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/app/recall-ack/{notice_id}/{token}"


@dataclass
class RecallNotifier(BackgroundLoop):
    """The loop: a round at once, then every ``recall_notify_poll_s``, or as soon as a recall is
    committed (``wake()``); a failed round is logged, its due notices retried next round."""

    engine: Engine
    settings: Settings
    thread_name = "recall-notices"
    failure = "recall notice round failed"

    def __post_init__(self) -> None:
        super().__init__()

    def period_s(self) -> float:
        return self.settings.recall_notify_poll_s

    def run_once(self) -> list[int]:
        """One attempt at each due notice; the ids of the notices attempted."""
        with Session(self.engine) as s:
            due = s.exec(
                select(RecallNotice.id).where(col(RecallNotice.next_try_at) <= utcnow()).order_by(col(RecallNotice.id))
                .limit(BATCH)
            ).all()  # fmt: skip
        done = []
        for notice_id in due:
            claimed = self._claim(notice_id or 0)
            if claimed is not None:
                self._record(notice_id or 0, self._send(*claimed))
                done.append(notice_id or 0)
        return done

    def _claim(self, notice_id: int) -> tuple[list[tuple[int, str, str]], dict[str, Any]] | None:
        with Session(self.engine) as s:
            lock_for_write(s)
            q = select(RecallNotice).where(RecallNotice.id == notice_id).with_for_update(skip_locked=True)
            n = s.exec(q).first()
            if n is None or n.next_try_at is None or n.next_try_at > utcnow():  # another process has it
                return None
            recall, org = s.get(Recall, n.recall_id), s.get(Organisation, n.org_id)
            assert recall is not None and org is not None
            token, digest = new_token()
            n.attempts += 1
            n.next_try_at = utcnow() + backoff(n.attempts, self.settings.recall_retry_s)
            n.token_hashes = [*n.token_hashes, digest][-MAX_ATTEMPTS:]
            channels = s.exec(
                select(AlertChannel).where(AlertChannel.org_id == n.org_id, AlertChannel.active == True)  # noqa: E712
                .order_by(col(AlertChannel.id))
            ).all()  # fmt: skip
            todo = [(c.id or 0, c.kind, c.target) for c in channels if c.id not in n.done_channels]
            payload = notice_payload(recall, n, org.name, ack_url(self.settings, notice_id, token))
            s.add(n)
            s.commit()
            return todo, payload

    def _send(self, channels: list[tuple[int, str, str]], payload: dict[str, Any]) -> list[tuple[int, str]]:
        out = []
        for channel_id, kind, target in channels:
            if kind == "webhook":
                answer = post_webhook(target, payload, self.settings)
            else:
                answer = send_mail(target, mail_subject(payload), mail_body(payload), self.settings)
            out.append((channel_id, answer))
        return out

    def _record(self, notice_id: int, answers: list[tuple[int, str]]) -> None:
        with Session(self.engine) as s:
            lock_for_write(s)
            n = s.exec(select(RecallNotice).where(RecallNotice.id == notice_id).with_for_update()).one()
            n.done_channels = [*n.done_channels, *(cid for cid, a in answers if delivered(a))]
            failed = [a for _, a in answers if not delivered(a)]
            n.last_result = ("; ".join(a for _, a in answers) or NO_CHANNEL)[:500]
            if not failed:
                n.state, n.next_try_at, n.notified_at = "sent", None, utcnow()
            elif n.attempts >= MAX_ATTEMPTS:
                n.state, n.next_try_at = "failed", None
            s.add(n)
            s.commit()


def notice_payload(recall: Recall, n: RecallNotice, holder: str, link: str) -> dict[str, Any]:
    lots = lots_for(recall, n.org_id)
    return {
        "type": "agritrace.recall", "recallId": recall.id, "noticeId": n.id, "reason": recall.reason,
        "scope": recall.scope, "openedAt": recall.created_at.isoformat(), "holder": {"id": n.org_id, "name": holder},
        "lots": [{k: a.get(k) for k in ("lotId", "uri", "product", "quantityRemaining", "uom")} for a in lots],
        "acknowledgeUrl": link,
    }  # fmt: skip


def mail_subject(payload: dict[str, Any]) -> str:
    return f"[AgriTrace] Lệnh thu hồi #{payload['recallId']} / Recall #{payload['recallId']}: {payload['reason']}"[:200]


def mail_body(payload: dict[str, Any]) -> str:
    lines = [  # quantities as the pages write them: "9.000 kg", not "9000.0 KGM"
        f"- {lot['product']} {lot['uri']}: {fmt.quantity(lot['quantityRemaining'] or 0, lot['uom'], 'vi')}"
        for lot in payload["lots"]
    ]
    return "\n".join([
        f"Kính gửi {payload['holder']['name']},", "",
        f"Cơ quan quản lý đã mở lệnh thu hồi #{payload['recallId']}. Lý do: {payload['reason']}",
        "Các lô bạn đang giữ hoặc đang được giao đến bạn / lots you hold or that are on their way to you:",
        *lines, "",
        "Xác nhận đã nhận thông báo (liên kết dùng một lần) / acknowledge (one-time link):",
        payload["acknowledgeUrl"],
    ])  # fmt: skip
