"""The service's background loops (anchoring worker, open-data schedule, recall notices, sensor
alerts): rounds of work in a daemon thread of their own until :meth:`BackgroundLoop.stop`.

A subclass names its thread and gives its rounds: either ``run_once()`` and ``period_s()`` (a round,
then a wait of ``period_s()``, also after a failed round), or ``round()`` itself, which returns how
many seconds to wait before the next, and ``retry_s()``.  ``stop()`` (and ``wake()``) end a wait at
once.  A round that raises is logged on the subclass's module logger with ``failure`` and the loop
goes on after ``retry_s()``: nothing a round does can end the loop but ``stop()``."""

from __future__ import annotations

import logging
import threading
from typing import ClassVar


class BackgroundLoop:
    thread_name: ClassVar[str]
    failure: ClassVar[str]  # the log line of a round that raised
    join_timeout_s: ClassVar[float] = 10.0  # how long stop() waits for the round in progress

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop() and wake(): ends the current wait
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)

    def run_once(self) -> object:
        """One round of work (what it returns is the caller's: tests and the CLI call it directly)."""
        raise NotImplementedError

    def period_s(self) -> float:
        """The wait between two rounds."""
        raise NotImplementedError

    def round(self) -> float:
        """One round of work; the seconds to wait before the next."""
        self.run_once()
        return self.period_s()

    def retry_s(self) -> float:
        """The wait after a round that raised."""
        return self.period_s()

    def first_wait_s(self) -> float:
        """The wait before the first round."""
        return 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.join_timeout_s)

    def wake(self) -> None:
        """Work is waiting: run the next round now rather than after the current wait."""
        self._wake.set()

    def run(self) -> None:
        """The loop itself, in the calling thread (``start`` runs it in the loop's own thread)."""
        self._wait(self.first_wait_s())
        while not self._stop.is_set():
            try:
                delay = self.round()
            except Exception:  # noqa: BLE001 - keep the loop alive, log loudly
                logging.getLogger(type(self).__module__).exception(self.failure)
                delay = self.retry_s()
            self._wait(delay)

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()
