"""Keeps the embedded anvil node alive: when its process dies, start it again on the same port
and state file, with exponential back-off between failed attempts.  The restarted node loads
the last state dump, which the anchoring worker writes before recording any anchor."""

from __future__ import annotations

import logging
import threading

from chain.errors import NodeError
from chain.node import AnvilNode

log = logging.getLogger(__name__)


class NodeSupervisor:
    def __init__(self, node: AnvilNode, *, poll_s: float = 0.2, max_backoff_s: float = 30.0) -> None:
        self.node = node
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="anvil-supervisor", daemon=True)

    def start(self) -> NodeSupervisor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        backoff = 0.5
        while not self._stop.wait(self.poll_s):
            if self.node.running or not self.node.wanted:
                continue
            log.error("embedded anvil node died (exit code %s); restarting it", self._exit_code())
            while not self._stop.is_set():
                try:
                    self.node.restart()
                except (NodeError, OSError) as exc:
                    log.error("anvil restart failed (%s); next try in %.1f s", exc, backoff)
                    self._stop.wait(backoff)
                    backoff = min(self.max_backoff_s, backoff * 2)
                    continue
                self.restarts += 1
                backoff = 0.5
                log.warning("embedded anvil node is back on %s (restart %d)", self.node.url, self.restarts)
                break

    def _exit_code(self) -> int | None:
        proc = self.node.proc
        return None if proc is None else proc.poll()
