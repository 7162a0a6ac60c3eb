"""Where label sheets are rendered: big sheets in ONE shared worker process (spawned on first use,
reused by every request after, shut down with the runtime), so that a 1,000-label sheet does not hold
the API worker's interpreter for a second; small sheets in the request's own thread (a process
round trip would cost more than the sheet).  At most one big sheet renders at a time per API worker;
others queue behind it."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from labels.pdf import LabelData, Layout, render

INLINE_MAX = 200  # labels; ~0.3 s of rendering


class LabelRenderer:
    def __init__(self, inline_max: int = INLINE_MAX) -> None:
        self.inline_max = inline_max
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def render(self, labels: Sequence[LabelData], layout: Layout, *, title: str) -> bytes:
        """The PDF of ``labels`` (labels.pdf.render); LabelError as render raises it."""
        if len(labels) <= self.inline_max:
            return render(labels, layout, title=title)
        return self._shared().submit(render, list(labels), layout, title=title).result()

    def _shared(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:  # "spawn": a fresh interpreter, not a fork of a threaded server
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
