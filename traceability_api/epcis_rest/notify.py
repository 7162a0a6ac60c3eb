"""Subscriptions: after each capture, one dispatcher thread per runtime runs every stream
subscription's named query over the events it has not seen yet and delivers the matches, to webhooks
(signed ``POST``, private destinations refused) and to open WebSocket connections of this process.
At each fire time of a scheduled subscription it delivers the events recorded since its last delivery."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, update
from sqlmodel import Session, select

from traceability_api.epcis_rest import schedule
from traceability_api.epcis_rest.models import NamedQuery, Subscription
from traceability_api.epcis_rest.search import Page, run_query
from traceability_api.epcis_rest.values import QueryParameterError
from traceability_api.events.models import Event
from traceability_api.limits import dumps_response
from traceability_api.netguard import UnsafeDestination, check_destination
from traceability_api.parties.models import Member, Organisation, OrgKind, Role
from traceability_api.parties.service import Principal
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0
BATCH = 1000
SUBSCRIPTION_IGNORES = ("perPage", "nextPageToken", "orderBy", "orderDirection", "maxEventCount")
REVOKED = "the member's API keys were revoked"
QUERY_GONE = "the named query was deleted or replaced"
QUERY_REFUSED = "the named query is refused"
SLOW_CLIENT = "reading too slowly: documents were dropped; reconnect and query for what was missed"
LISTENER_QUEUE = 64  # documents waiting for one WebSocket; a client further behind is disconnected


def signature(token: str | None, body: bytes) -> str | None:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest() if token else None


@dataclass
class Listener:
    """One open WebSocket on a named query."""

    principal: Principal
    query: dict[str, Any]
    name: str
    last_event_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(LISTENER_QUEUE))
    closing: asyncio.Event = field(default_factory=asyncio.Event)  # set by ``end``: close the socket with ``reason``
    reason: str = ""

    def end(self, reason: str) -> None:
        """Close the socket (in the listener's event loop) with ``reason``."""
        if not self.closing.is_set():  # the first reason is the one the client is told
            self.reason = reason
            self.closing.set()

    def offer(self, doc: dict[str, Any]) -> None:
        """Queue ``doc`` (in the listener's event loop); a client that reads too slowly to keep the
        queue below ``LISTENER_QUEUE`` is cut off rather than held in memory without bound."""
        try:
            self.queue.put_nowait(doc)
        except asyncio.QueueFull:
            self.end(SLOW_CLIENT)


class Dispatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.wake = threading.Event()
        self.stopping = False
        self.listeners: list[Listener] = []
        self.lock = threading.Lock()
        self.next_due: datetime | None = None  # the earliest fire time of a scheduled subscription
        self.refusals_told: dict[str, str] = {}  # subscription -> the refusal of its query last logged
        self.thread = threading.Thread(target=self._loop, name="epcis-subscriptions", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while not self.stopping:
            self.wake.wait(timeout=self._timeout())  # other paths, other workers, the next scheduled time
            self.wake.clear()
            if self.stopping:
                return
            try:
                self.run_once()
            except Exception:  # a delivery problem must never stop the dispatcher
                log.exception("subscription dispatch failed")

    def _timeout(self) -> float:
        poll = self.runtime.settings.subscription_poll_s
        if self.next_due is None:
            return poll
        return min(poll, max(0.01, (self.next_due - utcnow()).total_seconds()))

    def run_once(self) -> None:
        with Session(self.runtime.engine, expire_on_commit=False) as s:
            top = s.exec(select(func.max(Event.id))).one() or 0
            for sub, nq in s.exec(
                select(Subscription, NamedQuery).join(NamedQuery, NamedQuery.id == Subscription.query_id)  # type: ignore[arg-type]
                .where(Subscription.stream, Subscription.last_event_id < top)  # type: ignore[arg-type, operator]
            ).all():  # fmt: skip
                self._alone(s, f"subscription {sub.id}", self._deliver, s, sub, nq, top)
            self._run_scheduled(s, top)
            with self.lock:
                listeners = list(self.listeners)
            for li in listeners:
                self._alone(s, f"WebSocket on query {li.name!r}", self._offer, s, li, top)

    def _offer(self, s: Session, li: Listener, top: int) -> None:
        p = principal_of(s, li.principal.member_id)  # as every request does: a revoked key reads no more
        if p is None:
            li.loop.call_soon_threadsafe(li.end, REVOKED)
            return
        li.principal = p
        stored = s.exec(
            select(NamedQuery.query).where(NamedQuery.org_id == p.org_id, NamedQuery.name == li.name)
        ).first()
        if stored != li.query:  # a socket streams the query it was opened on, while that query exists
            li.loop.call_soon_threadsafe(li.end, QUERY_GONE)
            return
        try:
            page, cursor = matches(s, li.principal, li.query, li.last_event_id, top)
        except QueryParameterError as exc:  # stored when it was valid, refused by this version
            li.loop.call_soon_threadsafe(li.end, f"{QUERY_REFUSED}: {exc}")
            return
        if page.events:
            doc = page.document(li.name)
            li.loop.call_soon_threadsafe(li.offer, doc)
        li.last_event_id = cursor

    def _deliver(self, s: Session, sub: Subscription, nq: NamedQuery, top: int) -> None:
        """Claim the batch (one worker of several wins), deliver it, give it back if delivery fails."""
        p = principal_of(s, sub.member_id)
        if p is None:
            return
        old = sub.last_event_id
        page, cursor = matches(s, p, nq.query, old, top)
        if not _move(s, sub, old, cursor):
            return
        if page.events and not post(self.runtime, sub, page.document(nq.name)):
            _move(s, sub, cursor, old, failed=True)
        elif page.events:
            s.execute(update(Subscription).where(Subscription.id == sub.id).values(last_notified_at=utcnow()))  # type: ignore[arg-type]
            s.commit()

    def _run_scheduled(self, s: Session, top: int) -> None:
        now = utcnow()
        due = Subscription.next_fire_at <= now  # type: ignore[operator]
        for sub, nq in s.exec(
            select(Subscription, NamedQuery).join(NamedQuery, NamedQuery.id == Subscription.query_id)  # type: ignore[arg-type]
            .where(Subscription.next_fire_at.is_not(None), due)  # type: ignore[union-attr]
        ).all():  # fmt: skip
            self._alone(s, f"subscription {sub.id}", self._fire, s, sub, nq, top, now)
        self.next_due = s.exec(select(func.min(Subscription.next_fire_at))).one()

    def _fire(self, s: Session, sub: Subscription, nq: NamedQuery, top: int, now: datetime) -> None:
        """One fire time: claim it (one worker of several wins) with the events since the last delivery,
        deliver them (or nothing when empty, unless reportIfEmpty), give them back if delivery fails."""
        p = principal_of(s, sub.member_id)
        try:
            nxt = schedule.next_fire(schedule.parse(sub.schedule), now)
        except schedule.ScheduleError:
            nxt = None
        old = sub.last_event_id
        page, cursor = matches(s, p, nq.query, old, top) if p is not None else (Page([], None), old)
        events = page.events
        claim = update(Subscription).where(
            Subscription.id == sub.id, Subscription.last_event_id == old, Subscription.next_fire_at == sub.next_fire_at  # type: ignore[arg-type]
        ).values(last_event_id=cursor, next_fire_at=nxt)  # fmt: skip
        claimed = s.execute(claim).rowcount == 1  # type: ignore[attr-defined]
        s.commit()
        if not claimed or p is None or not (events or sub.report_if_empty):
            return
        if post(self.runtime, sub, page.document(nq.name)):
            s.execute(update(Subscription).where(Subscription.id == sub.id).values(last_notified_at=utcnow()))  # type: ignore[arg-type]
            s.commit()
        elif events:
            _move(s, sub, cursor, old, failed=True)

    def _alone(self, s: Session, what: str, work: Callable[..., None], *args: Any) -> None:
        """One subscription's or socket's share of a round: its failure is logged and ends there, not
        the round (every organisation's subscriptions are served by it)."""
        try:
            work(*args)
        except QueryParameterError as exc:  # its stored query, valid when stored, is refused by this version
            s.rollback()
            if self.refusals_told.get(what) == str(exc):
                return  # told once per process, not at every round
            self.refusals_told[what] = str(exc)
            log.warning("%s: its named query is refused, nothing is delivered until it is replaced: %s", what, exc)
        except Exception:  # noqa: BLE001 - logged; the others still get their events
            s.rollback()
            log.exception("%s: dispatch failed", what)


def _move(s: Session, sub: Subscription, old: int, new: int, *, failed: bool = False) -> bool:
    values: dict[str, Any] = {"last_event_id": new}
    if failed:
        values["failures"] = Subscription.failures + 1
    q = update(Subscription).where(Subscription.id == sub.id, Subscription.last_event_id == old).values(**values)  # type: ignore[arg-type]
    moved = s.execute(q).rowcount == 1  # type: ignore[attr-defined]
    s.commit()
    return bool(moved)


def matches(s: Session, p: Principal, query: dict[str, Any], after: int, top: int) -> tuple[Page, int]:
    """Events in (after, top] matching ``query`` (up to BATCH) and the cursor to continue from.
    Delivered a batch at a time: the paging parameters and maxEventCount (a bound on one whole
    result, which raised QueryTooLarge at each round once more events matched) do not apply."""
    params = {k: v for k, v in query.items() if k not in SUBSCRIPTION_IGNORES}
    params["perPage"] = BATCH
    extra = [Event.id > after, Event.id <= top]  # type: ignore[operator]
    page = run_query(s, p, params, extra=extra)
    while not page.events and page.next_token:
        page = run_query(s, p, {**params, "nextPageToken": page.next_token}, extra=extra)
    return page, top if page.next_token is None else max(e.id or 0 for e in page.events)


def post(runtime: Runtime, sub: Subscription, doc: dict[str, Any]) -> bool:
    body = dumps_response(doc)
    headers = {"Content-Type": "application/ld+json", "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
    sig = signature(sub.signature_token, body)
    if sig:
        headers["GS1-Signature"] = sig
    try:
        check_destination(sub.dest, runtime.settings.webhook_allow_private)
        r = httpx.post(sub.dest, content=body, headers=headers, timeout=TIMEOUT_S, follow_redirects=False)
    except (UnsafeDestination, httpx.HTTPError) as exc:
        log.warning("subscription %s: delivery to %s failed: %s", sub.id, sub.dest, exc)
        return False
    return 200 <= r.status_code < 300


def principal_of(s: Session, member_id: int) -> Principal | None:
    row = s.exec(select(Member, Organisation).join(Organisation, Organisation.id == Member.org_id)  # type: ignore[arg-type]
                 .where(Member.id == member_id)).first()  # fmt: skip
    if row is None or not row[0].active:
        return None
    m, o = row
    assert m.id is not None and o.id is not None
    return Principal(m.id, m.name, Role(m.role), o.id, OrgKind(o.kind))


_start_lock = threading.Lock()


def dispatcher(runtime: Runtime) -> Dispatcher:
    with _start_lock:
        d = runtime.epcis_dispatcher
        if d is None:
            d = runtime.epcis_dispatcher = Dispatcher(runtime)
            runtime.on_close.append(d.stop)
    return d


def new_events(runtime: Runtime) -> None:
    """Called after a capture commits: wake the dispatcher (it never blocks the caller)."""
    dispatcher(runtime).wake.set()


def start_if_subscribed(runtime: Runtime) -> None:
    """At start: resume delivering to the webhooks subscribed before a restart."""
    with Session(runtime.engine) as s:
        if s.exec(select(Subscription.id).limit(1)).first() is not None:
            dispatcher(runtime)
