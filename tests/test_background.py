"""The background loop every service thread runs on (traceability_api/background.py): a round that
raises is logged and the loop goes on; wake() runs the next round without waiting; stop() ends a
long wait at once and the thread ends."""

from __future__ import annotations

import logging
import queue
import threading

import pytest

from traceability_api.background import BackgroundLoop


class Rounds(BackgroundLoop):
    thread_name = "test-rounds"
    failure = "test round failed"

    def __init__(self, first_wait_s: float = 0.0) -> None:
        super().__init__()
        self.done: queue.Queue[int] = queue.Queue()
        self.n = 0
        self.first = first_wait_s

    def first_wait_s(self) -> float:
        return self.first

    def round(self) -> float:
        self.n += 1
        if self.n == 1:
            raise RuntimeError("boom")
        self.done.put(self.n)
        return 3600.0  # an hour: only wake() or stop() ends it

    def retry_s(self) -> float:
        return 0.0


def test_a_failed_round_is_logged_wake_runs_the_next_and_stop_ends_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = Rounds()
    with caplog.at_level(logging.ERROR, logger=__name__):
        loop.start()
        try:
            assert loop.done.get(timeout=30) == 2, "the round after the failure ran"
            assert loop.done.empty()
            loop.wake()
            assert loop.done.get(timeout=30) == 3, "wake() ended the hour's wait"
        finally:
            loop.stop()
    assert not loop._thread.is_alive(), "stop() ended the hour's wait and the thread"
    failures = [r for r in caplog.records if r.getMessage() == "test round failed"]
    assert len(failures) == 1 and failures[0].exc_info is not None and failures[0].name == __name__


def test_stop_during_the_first_wait_runs_no_round() -> None:
    loop = Rounds(first_wait_s=3600.0)
    loop.start()
    loop.stop()
    assert not loop._thread.is_alive() and loop.n == 0


def test_run_in_the_foreground_until_stopped_from_a_round() -> None:
    class Once(Rounds):
        def round(self) -> float:
            self.stop()  # as agritrace anchor --no-once on Ctrl-C: the loop ends after this round
            return 3600.0

    loop = Once()
    loop.run()  # returns: the stop set before the wait ends it at once
    assert not loop._thread.is_alive()


def test_the_polling_form_runs_run_once_and_waits_its_period_after_a_failure_too() -> None:
    class Polling(BackgroundLoop):
        thread_name = "test-polling"
        failure = "test polling round failed"

        def __init__(self) -> None:
            super().__init__()
            self.done: queue.Queue[int] = queue.Queue()
            self.failed = threading.Event()
            self.n = 0

        def run_once(self) -> int:
            self.n += 1
            if self.n == 1:
                self.failed.set()
                raise RuntimeError("boom")
            self.done.put(self.n)
            return self.n

        def period_s(self) -> float:
            return 3600.0

    loop = Polling()
    assert loop.retry_s() == 3600.0
    loop.start()
    try:
        assert loop.failed.wait(timeout=30)
        loop.wake()  # ends the hour's wait after the failed first round
        assert loop.done.get(timeout=30) == 2
        assert loop.done.empty()
    finally:
        loop.stop()
    assert not loop._thread.is_alive() and loop.n == 2
