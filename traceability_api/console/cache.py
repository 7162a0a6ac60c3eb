"""The console's figures kept until the data changes: each answer is filed under the data stamp
read before it was computed (``consumer/freshness.py``'s newest event, write-log entry and anchored
batch, plus the newest consumer scan, counterfeit report, sensor alert and place), at the cost of
one query of maxima on primary keys per request.

When the stamp has moved on, an answer computed less than ``stale_s`` seconds ago is still served
while one background thread per answer recomputes it (stale while revalidating: on a busy day a
page shows figures at most ``stale_s`` plus one computation old, and no request waits for a scan of
a million events); older answers, or none, are computed in the request. One cache per app
(``app.state``), a bounded number of answers, thread-safe (sync routes run in a thread pool)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from traceability_api.consumer.freshness import data_stamp

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ENTRIES = 512  # (figure, filters) pairs: a province's communes x products x a few figures
_MORE = text(
    "SELECT (SELECT max(id) FROM scan_log), (SELECT max(id) FROM counterfeit_report), "
    "(SELECT max(id) FROM sensor_alert), (SELECT max(id) FROM place)"
)


def stamp(session: Session) -> tuple[object, ...]:
    return data_stamp(session) + tuple(session.execute(_MORE).one())


@dataclass
class _Kept(Generic[T]):
    stamp: tuple[object, ...]
    value: T
    at: float  # time.monotonic() when computed


class FigureCache:
    def __init__(self, enabled: bool = True, stale_s: float = 0.0) -> None:
        self.enabled, self.stale_s = enabled, stale_s
        self._items: OrderedDict[Hashable, _Kept[Any]] = OrderedDict()
        self._refreshing: dict[Hashable, threading.Thread] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[Session], T]) -> T:
        if not self.enabled:
            return compute(session)
        now = stamp(session)  # before the data: an answer is never filed under a newer stamp than its data
        with self._lock:
            kept = self._items.get(key)
            if kept is not None and kept.stamp == now:
                self._items.move_to_end(key)
                return kept.value  # type: ignore[no-any-return]
            if kept is not None and time.monotonic() - kept.at < self.stale_s:
                if key not in self._refreshing:
                    engine = session.get_bind()
                    t = threading.Thread(target=self._refresh, args=(engine, key, compute), daemon=True,
                                         name="console-figures")  # fmt: skip
                    self._refreshing[key] = t
                    t.start()
                return kept.value  # type: ignore[no-any-return]
        return self._store(key, now, compute(session))

    def _store(self, key: Hashable, now: tuple[object, ...], value: T) -> T:
        with self._lock:
            self._items[key] = _Kept(now, value, time.monotonic())
            self._items.move_to_end(key)
            while len(self._items) > MAX_ENTRIES:
                self._items.popitem(last=False)
        return value

    def _refresh(self, engine: Any, key: Hashable, compute: Callable[[Session], Any]) -> None:
        try:
            assert isinstance(engine, Engine)
            with Session(engine) as s:
                now = stamp(s)
                self._store(key, now, compute(s))
        except Exception:  # noqa: BLE001 - the kept answer stays; the next request tries again
            log.exception("console figure refresh failed")
        finally:
            with self._lock:
                self._refreshing.pop(key, None)

    def join(self, timeout_s: float = 30.0) -> None:
        """Wait for the refreshes running now (tests, shutdown)."""
        with self._lock:
            threads = list(self._refreshing.values())
        for t in threads:
            t.join(timeout_s)


def figure_cache(state: Any, enabled: bool, stale_s: float) -> FigureCache:
    """The app's cache (made on first use)."""
    cache = getattr(state, "console_cache", None)
    if cache is None:
        cache = state.console_cache = FigureCache(enabled, stale_s)
    return cache  # type: ignore[no-any-return]
