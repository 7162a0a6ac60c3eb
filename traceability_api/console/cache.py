"""The console's figures kept until the data changes: each answer is filed under the data stamp
read before it was computed (``consumer/freshness.py``'s newest event, write-log entry and anchored
batch, plus the newest consumer scan, counterfeit report and sensor alert), so a page is recomputed
only after a write, at the cost of one query of maxima on primary keys per request. One cache per
app (``app.state``), a bounded number of entries, thread-safe (sync routes run in a thread pool)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlmodel import Session

from traceability_api.consumer.freshness import data_stamp

T = TypeVar("T")
MAX_ENTRIES = 512  # (figure, filters) pairs: a province's communes x products x a few figures
_MORE = text(
    "SELECT (SELECT max(id) FROM scan_log), (SELECT max(id) FROM counterfeit_report), "
    "(SELECT max(id) FROM sensor_alert), (SELECT max(id) FROM place)"
)


def stamp(session: Session) -> tuple[object, ...]:
    return data_stamp(session) + tuple(session.execute(_MORE).one())


class FigureCache:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._items: OrderedDict[Hashable, tuple[tuple[object, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        if not self.enabled:
            return compute()
        now = stamp(session)  # before the data: an answer is never filed under a newer stamp than its data
        with self._lock:
            kept = self._items.get(key)
            if kept is not None and kept[0] == now:
                self._items.move_to_end(key)
                return kept[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > MAX_ENTRIES:
                self._items.popitem(last=False)
        return value


def figure_cache(state: Any, enabled: bool) -> FigureCache:
    """The app's cache (made on first use)."""
    cache = getattr(state, "console_cache", None)
    if cache is None:
        cache = state.console_cache = FigureCache(enabled)
    return cache  # type: ignore[no-any-return]
