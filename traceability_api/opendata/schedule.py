"""The open-data schedule: a thread that rebuilds the files five minutes after the service starts
(once it has settled; short-lived services and test servers never build) and then every
``AGRITRACE_OPENDATA_INTERVAL_H`` hours (0: only on demand).  Builds are idempotent (unchanged
bytes are not stored or anchored again) and one at a time across processes (the build's lease),
so every worker process may run it; a failed build is logged and retried after a minute."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from traceability_api.config import Settings
from traceability_api.errors import Conflict
from traceability_api.opendata.build import build

log = logging.getLogger(__name__)
RETRY_S = 60.0
START_DELAY_S = 300.0


class OpenDataSchedule:
    def __init__(self, engine: Engine, settings: Settings, first_delay_s: float = START_DELAY_S) -> None:
        self.engine = engine
        self.first_delay_s = first_delay_s
        self.settings = settings
        self.interval_s = settings.opendata_interval_h * 3600
        self.builds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="opendata-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run_once(self) -> float:
        """One build; returns how long to wait before the next."""
        try:
            build(self.engine, self.settings)
            self.builds += 1
            return self.interval_s
        except Conflict:
            return self.interval_s  # another process is building now
        except Exception:  # noqa: BLE001 - keep the schedule alive, log loudly
            log.exception("open-data build failed; will retry")
            return min(RETRY_S, self.interval_s)

    def run(self) -> None:
        self._stop.wait(self.first_delay_s)
        while not self._stop.is_set():
            self._stop.wait(self.run_once())
