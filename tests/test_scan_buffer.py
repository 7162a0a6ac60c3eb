"""The scan buffer behind the copied-code check: a scan is in sight (buffered, being flushed, or
stored) at every moment, and a failed flush keeps its rows for the next one."""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, func, select

from traceability_api.consumer.models import ScanLog
from traceability_api.consumer.scans import ScanBuffer, scan_row


def _engine():  # type: ignore[no-untyped-def]
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine, tables=[ScanLog.__table__])  # type: ignore[list-item]
    return engine


def _row(n: int) -> dict[str, object]:
    return scan_row(lot_id=1, serial="S1", client=f"c{n}", geo=None, user_agent=None, token_ok=True)


def stored(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(ScanLog)).one())


def test_scans_being_flushed_are_still_counted() -> None:
    engine = _engine()
    buf = ScanBuffer(engine, interval_s=3600)
    inserting, release = threading.Event(), threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _hold(*_a: object) -> None:
        if threading.current_thread().name == "flusher":
            inserting.set()
            release.wait(10)

    for n in range(3):
        buf.add(_row(n))
    t = threading.Thread(target=buf.flush, name="flusher")
    t.start()
    assert inserting.wait(10)
    assert len(buf.pending(1, "S1")) == 3 and stored(engine) == 0  # mid-flush: out of the buffer, not stored yet
    release.set()
    t.join(10)
    assert stored(engine) == 3 and buf.pending(1, "S1") == []
    buf.close()


def test_a_failed_flush_keeps_its_rows() -> None:
    engine = _engine()
    buf = ScanBuffer(engine, interval_s=3600)
    fail = {"on": True}

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(*_a: object) -> None:
        if fail["on"]:
            raise RuntimeError("database away")

    buf.add(_row(1))
    buf.add(_row(2))
    try:
        buf.flush()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the flush should have failed")
    assert len(buf.pending(1, "S1")) == 2
    fail["on"] = False
    buf.flush()
    assert stored(engine) == 2 and buf.pending(1, "S1") == []
    buf.close()
