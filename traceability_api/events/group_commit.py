"""Group commit for single-event capture: concurrent requests share one transaction.

A request prepares its event first (bounds, schema, hash: no database), then joins the queue.
A request that finds fewer than ``writers`` groups being written becomes a writer: it waits at
most ``wait_s`` for more requests (less if the group fills), stores the whole group in one
transaction (the events of one principal with one duplicate lookup and multi-row inserts, every
request's write-log entry included) and commits once; then each request of the group is answered.
While groups are written, the next requests queue up, so groups grow with load and throughput is
not bounded by commit latency.

An event that fails in a group (a custody rule, a conflicting eventID, a deadlock...) must not fail
the others: the group's transaction is rolled back and its requests are stored one by one, each
in its own transaction, where only the failing one fails.  Either way an acknowledged event is
committed exactly once, with its outbox row (so it is anchored exactly once)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.events.capture import Captured, EventCheck, Prepared, store_prepared
from traceability_api.outbox import LOGGED, WriteRequest, add_write_request
from traceability_api.parties.service import Principal

log = logging.getLogger(__name__)


@dataclass
class _Job:
    principal: Principal
    prepared: Prepared
    write: WriteRequest | None
    done: bool = False
    result: Captured | None = None
    error: BaseException | None = None


@dataclass
class GroupCommit:
    engine: Engine
    settings: Settings
    checks: Sequence[EventCheck]
    wait_s: float = 0.002
    max_group: int = 200
    writers: int = 2  # groups written at once: the next group is collected and written while one commits
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _queue: list[_Job] = field(default_factory=list)
    _writing: int = 0
    _gathering: bool = False
    groups: int = 0  # how many groups were committed (for tests and profiling)

    def capture(self, p: Principal, prepared: Prepared, write: WriteRequest | None = None) -> Captured:
        """Store one prepared event in the next group; returns once its transaction committed
        (or raises the event's own error)."""
        job = _Job(p, prepared, write)
        with self._cond:
            self._queue.append(job)
            self._cond.notify_all()
            while True:
                if job.done:
                    break
                if self._writing >= self.writers or self._gathering or job not in self._queue:
                    self._cond.wait()  # a writer takes it, or a writer's place becomes free
                    continue
                self._writing += 1
                self._gathering = True
                deadline = time.monotonic() + self.wait_s
                while len(self._queue) < self.max_group and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                group, self._queue = self._queue[: self.max_group], self._queue[self.max_group :]
                self._gathering = False
                self._cond.notify_all()
                self._cond.release()
                try:
                    self._write(group)
                finally:
                    self._cond.acquire()
                    self._writing -= 1
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _write(self, group: list[_Job]) -> None:
        try:
            self._write_group(group)
        except Exception:  # noqa: BLE001 - any failure: each request on its own decides its outcome
            if len(group) > 1:
                log.debug("group of %d failed, storing one by one", len(group), exc_info=True)
            for job in group:
                if job.write is not None:
                    job.write.state.pop(LOGGED, None)  # its entry was rolled back with the group
                try:
                    self._write_group([job])
                except BaseException as exc:  # noqa: BLE001 - handed to the request that owns it
                    job.error = exc
        finally:
            for job in group:
                job.done = True

    def _write_group(self, group: list[_Job]) -> None:
        by_principal: dict[tuple[int, int], list[_Job]] = {}
        for job in group:
            by_principal.setdefault((job.principal.org_id, job.principal.member_id), []).append(job)
        results: list[tuple[_Job, Captured]] = []
        with Session(self.engine, expire_on_commit=False) as s:
            for jobs in by_principal.values():
                captured = store_prepared(
                    s, jobs[0].principal, [j.prepared for j in jobs], self.settings, checks=self.checks
                )
                results.extend(zip(jobs, captured, strict=True))
            for job, c in results:
                if job.write is not None:
                    job.write.status = 200 if c.duplicate else 201
                    add_write_request(s.info, job.write)
            s.commit()
        self.groups += 1
        for job, c in results:
            job.result = c
