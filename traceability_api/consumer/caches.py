"""Per-runtime helpers of the consumer pages: the micro-cache of rendered pages and the scan buffer
(both built once by ``traceability_api.compose.build_runtime``, held as typed fields of Runtime)."""

from __future__ import annotations

import time
from collections.abc import Callable

from traceability_api.consumer.scans import ScanBuffer
from traceability_api.deps import RuntimeDep


class PageCache:
    """A micro-cache of rendered lot pages (AGRITRACE_CONSUMER_PAGE_CACHE_S, default 2 s): a
    burst of scans of one lot renders it once.  Verification is recomputed at least that often,
    so a record edited behind the service's back shows as not verified within that time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._pages: dict[tuple[object, ...], tuple[float, str]] = {}
        self._clock = clock  # a seam: tests move time on instead of sleeping
        self.hits = self.misses = 0  # read by /metrics


    def get(self, key: tuple[object, ...]) -> str | None:
        hit = self._pages.get(key)
        if hit is not None and hit[0] > self._clock():
            self.hits += 1
            return hit[1]
        self.misses += 1
        return None

    def put(self, key: tuple[object, ...], html: str, ttl_s: float) -> None:
        if ttl_s > 0:
            if len(self._pages) > 10_000:
                self._pages.clear()
            self._pages[key] = (self._clock() + ttl_s, html)


def page_cache(runtime: RuntimeDep) -> PageCache:
    assert runtime.page_cache is not None, "built by traceability_api.compose.build_runtime"
    return runtime.page_cache


def scan_buffer(runtime: RuntimeDep) -> ScanBuffer:
    assert runtime.scan_buffer is not None, "built by traceability_api.compose.build_runtime"
    return runtime.scan_buffer
