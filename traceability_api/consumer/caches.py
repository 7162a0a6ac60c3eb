"""Per-runtime helpers of the consumer pages: the micro-cache of rendered pages and the scan buffer."""

from __future__ import annotations

import time

from traceability_api.consumer.scans import ScanBuffer
from traceability_api.deps import RuntimeDep


class PageCache:
    """A micro-cache of rendered lot pages (AGRITRACE_CONSUMER_PAGE_CACHE_S, default 2 s): a
    burst of scans of one lot renders it once.  Verification is recomputed at least that often,
    so a record edited behind the service's back shows as not verified within that time."""

    def __init__(self) -> None:
        self._pages: dict[tuple[object, ...], tuple[float, str]] = {}

    def get(self, key: tuple[object, ...]) -> str | None:
        hit = self._pages.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: tuple[object, ...], html: str, ttl_s: float) -> None:
        if ttl_s > 0:
            if len(self._pages) > 10_000:
                self._pages.clear()
            self._pages[key] = (time.monotonic() + ttl_s, html)


def page_cache(runtime: RuntimeDep) -> PageCache:
    cache = runtime.extras.setdefault("page_cache", PageCache())
    assert isinstance(cache, PageCache)
    return cache


def scan_buffer(runtime: RuntimeDep) -> ScanBuffer:
    fresh = ScanBuffer(runtime.engine)
    buf = runtime.extras.setdefault("scan_buffer", fresh)  # atomic: one buffer per runtime
    if buf is fresh:
        runtime.on_close.append(fresh.close)
    assert isinstance(buf, ScanBuffer)
    return buf
