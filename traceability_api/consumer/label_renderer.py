"""Where label sheets are rendered: big sheets in ONE shared worker process (spawned on first use,
reused by every request after, shut down with the runtime), so that a 1,000-label sheet (~0.6 s of
CPU, most of it QR encoding) holds neither the API worker's interpreter nor more than one core;
small sheets in the request's own thread (a process round trip would cost more than the sheet).

Bounded: one big sheet renders at a time per API worker and at most ``max_waiting`` more wait
behind it, each in a request thread.  A request beyond that is refused at once (``RendererBusy``:
503 with Retry-After), before it writes anything, rather than queueing without end and taking
every thread of the API worker.  A render process that dies is replaced."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from labels.pdf import LabelData, Layout, render

INLINE_MAX = 200  # labels; ~0.1 s of rendering
MAX_WAITING = 2  # big sheets waiting behind the one rendering, per API worker


class RendererBusy(Exception):
    """Every place for a big sheet is taken: ask again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the label renderer is busy with other sheets; try again in {retry_after} s")
        self.retry_after = retry_after


class Reservation:
    """A place for one sheet, taken by ``LabelRenderer.reserve``; calling it renders the sheet (as
    many times as needed: the place is the caller's until the ``with`` block ends)."""

    def __init__(self, renderer: LabelRenderer, big: bool) -> None:
        self._renderer, self._big, self._held = renderer, big, big

    def __call__(self, labels: Sequence[LabelData], layout: Layout, *, title: str) -> bytes:
        if not self._big or len(labels) <= self._renderer.inline_max:
            return render(labels, layout, title=title)
        assert self._held, "render a big sheet inside its reservation's with block"
        return self._renderer._in_process(labels, layout, title)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._held:
            self._held = False
            self._renderer._places.release()


class LabelRenderer:
    def __init__(self, inline_max: int = INLINE_MAX, max_waiting: int = MAX_WAITING) -> None:
        self.inline_max = inline_max
        self._places = threading.BoundedSemaphore(1 + max_waiting)  # the sheet rendering + those waiting
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def reserve(self, count: int) -> Reservation:
        """A place for a sheet of ``count`` labels, to be used in a ``with`` block: a small sheet
        needs none; a big one takes one of the worker process's places, or raises RendererBusy
        at once when all are taken (before the caller writes anything for the sheet)."""
        big = count > self.inline_max
        if big and not self._places.acquire(blocking=False):
            raise RendererBusy(retry_after=2)
        return Reservation(self, big)

    def render(self, labels: Sequence[LabelData], layout: Layout, *, title: str) -> bytes:
        """The PDF of ``labels`` (labels.pdf.render); LabelError as render raises it; RendererBusy
        when the sheet is big and every place is taken."""
        with self.reserve(len(labels)) as draw:
            return draw(labels, layout, title=title)

    def _in_process(self, labels: Sequence[LabelData], layout: Layout, title: str) -> bytes:
        """The sheet from the render process; if that process has died (killed, out of memory), once
        more from a new one."""
        for attempt in (1, 2):
            pool = self._shared()
            try:
                return pool.submit(render, list(labels), layout, title=title).result()
            except BrokenProcessPool:
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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
