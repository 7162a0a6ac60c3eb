"""The open-data schedule: a thread that rebuilds the files five minutes after the service starts
(once it has settled; short-lived services and test servers never build) and then every
``AGRITRACE_OPENDATA_INTERVAL_H`` hours (0: only on demand).  Builds are idempotent (unchanged
bytes are not stored or anchored again) and one at a time across processes (the build's lease),
so every worker process may run it; a failed build is logged and retried after a minute."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from traceability_api.background import BackgroundLoop
from traceability_api.config import Settings
from traceability_api.errors import Conflict
from traceability_api.opendata.build import build

RETRY_S = 60.0
START_DELAY_S = 300.0


class OpenDataSchedule(BackgroundLoop):
    thread_name = "opendata-schedule"
    failure = "open-data build failed; will retry"
    join_timeout_s = 30.0

    def __init__(self, engine: Engine, settings: Settings, first_delay_s: float = START_DELAY_S) -> None:
        super().__init__()
        self.engine = engine
        self.first_delay_s = first_delay_s
        self.settings = settings
        self.interval_s = settings.opendata_interval_h * 3600
        self.builds = 0

    def run_once(self) -> float:
        """One build; returns how long to wait before the next (a failure is logged by the loop)."""
        try:
            build(self.engine, self.settings)
            self.builds += 1
            return self.interval_s
        except Conflict:
            return self.interval_s  # another process is building now

    round = run_once

    def first_wait_s(self) -> float:
        return self.first_delay_s

    def retry_s(self) -> float:
        return min(RETRY_S, self.interval_s)
