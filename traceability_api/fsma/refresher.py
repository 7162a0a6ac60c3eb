"""The FSMA 204 rows' refresh loop: a thread that rebuilds the lots marked stale since its last
round (``fsma.cache.refresh``) every ``AGRITRACE_FSMA_REFRESH_S`` seconds (0: only when an export
asks), so that an export finds its rows ready.  Refreshes take turns across processes (an advisory
lock on PostgreSQL), so every worker process may run it; a failed round is logged and retried."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from traceability_api.background import BackgroundLoop
from traceability_api.fsma.cache import refresh

START_DELAY_S = 10.0  # let the service settle first


class FsmaRefresher(BackgroundLoop):
    thread_name = "fsma-refresh"
    failure = "FSMA 204 rows refresh failed; will retry"
    join_timeout_s = 30.0

    def __init__(self, engine: Engine, period_s: float, first_delay_s: float = START_DELAY_S) -> None:
        super().__init__()
        self.engine = engine
        self._period_s = period_s
        self.first_delay_s = first_delay_s
        self.rebuilt = 0

    def run_once(self) -> int:
        n = refresh(self.engine)
        self.rebuilt += n
        return n

    def period_s(self) -> float:
        return self._period_s

    def first_wait_s(self) -> float:
        return self.first_delay_s
