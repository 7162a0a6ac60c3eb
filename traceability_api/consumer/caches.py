"""Per-runtime helpers of the consumer pages: the cache of rendered pages and the scan buffer
(both built once by ``traceability_api.compose.build_runtime``, held as typed fields of Runtime)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from traceability_api.consumer import encoding
from traceability_api.consumer.scans import ScanBuffer
from traceability_api.deps import RuntimeDep

Stamp = tuple[object, ...]


@dataclass
class CachedPage:
    html: bytes
    stamp: Stamp | None  # consumer.freshness.data_stamp read before the page's data was loaded
    fresh_until: float  # served without any check until then (AGRITRACE_CONSUMER_PAGE_CACHE_S)
    lot_id: int = 0  # the lot shown, for the scan log of a page served from the cache
    encoded: dict[str, bytes] = field(default_factory=dict)  # content coding -> body, filled on first use

    def body(self, coding: str) -> bytes:
        if coding == "identity":
            return self.html
        if coding not in self.encoded:
            self.encoded[coding] = encoding.encode(self.html, coding)
        return self.encoded[coding]


class PageCache:
    """Rendered lot pages, kept until a write changes what they show.

    A page is served as it is for AGRITRACE_CONSUMER_PAGE_CACHE_S (default 2 s: a burst of scans
    costs nothing); after that it is served again only if the data stamp (one query) is still the one
    it was rendered under (AGRITRACE_CONSUMER_VIEW_CACHE, default on), and recomputed otherwise.
    At most ``max_pages`` pages are kept, least recently used dropped first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_pages: int = 2000) -> None:
        self._pages: OrderedDict[tuple[object, ...], CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock  # a seam: tests move time on instead of sleeping
        self.max_pages = max_pages
        self.hits = self.misses = 0  # read by /metrics (ops.metrics)

    def counted(self, page: CachedPage | None) -> CachedPage | None:
        """``page``, counted as a hit or (None) a miss for /metrics."""
        if page is None:
            self.misses += 1
        else:
            self.hits += 1
        return page

    def fresh(self, key: tuple[object, ...]) -> CachedPage | None:
        """The page if it is within its time-based freshness."""
        page = self._pages.get(key)
        return page if page is not None and page.fresh_until > self._clock() else None

    def current(self, key: tuple[object, ...], stamp: Stamp, ttl_s: float) -> CachedPage | None:
        """The page if it was rendered under ``stamp``: nothing was written since; fresh again for ``ttl_s``."""
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.stamp != stamp:
                return None
            self._pages.move_to_end(key)
        page.fresh_until = self._clock() + ttl_s
        return page

    def put(self, key: tuple[object, ...], html: str, stamp: Stamp | None, ttl_s: float, lot_id: int = 0) -> CachedPage:
        page = CachedPage(html.encode(), stamp, self._clock() + ttl_s, lot_id)
        if stamp is not None or ttl_s > 0:
            with self._lock:
                self._pages[key] = page
                self._pages.move_to_end(key)
                while len(self._pages) > self.max_pages:
                    self._pages.popitem(last=False)
        return page


def page_cache(runtime: RuntimeDep) -> PageCache:
    assert runtime.page_cache is not None, "built by traceability_api.compose.build_runtime"
    return runtime.page_cache


def scan_buffer(runtime: RuntimeDep) -> ScanBuffer:
    assert runtime.scan_buffer is not None, "built by traceability_api.compose.build_runtime"
    return runtime.scan_buffer
