"""Scan log and the copied-code check for serialised units."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from datetime import timedelta

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from traceability_api.consumer.models import ScanLog
from traceability_api.timeutil import utcnow

log = logging.getLogger(__name__)
WINDOW = timedelta(days=30)
MAX_SCANS = 30  # a unit package is scanned a handful of times, not dozens
MAX_PLACES = 3  # ~10 km cells
MAX_CLIENTS = 10

_GEO = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def coarse_location(geo: str | None) -> str | None:
    """Round a "lat,lon" the browser gave to 0.1 degree (~11 km); anything else is dropped."""
    m = _GEO.match(geo or "")
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return f"{lat:.1f},{lon:.1f}"


def client_hash(secret: bytes, client: str | None) -> str:
    return hmac.new(secret, f"scan-client:{client or '-'}".encode(), hashlib.sha256).hexdigest()[:32]


class ScanBuffer:
    """Scans are written in batches (one commit per flush, not one per page view) by a
    background thread; the copied-code check also sees the scans not flushed yet, and those
    being flushed (until their commit), so no scan is out of sight at any moment. Rows whose
    flush failed go back into the buffer (at most ``MAX_BUFFERED``, the oldest dropped first)."""

    MAX_BUFFERED = 100_000

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self._rows: list[dict[str, object]] = []
        self._in_flight: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time (the thread, close(), tests)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, row: dict[str, object]) -> None:
        with self._lock:
            self._rows.append(row)
            if len(self._rows) > self.MAX_BUFFERED:
                del self._rows[: len(self._rows) - self.MAX_BUFFERED]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="scan-log", daemon=True)
                self._thread.start()

    def pending(self, lot_id: int, serial: str) -> list[dict[str, object]]:
        with self._lock:
            return [r for r in (*self._in_flight, *self._rows) if r["lot_id"] == lot_id and r["serial"] == serial]

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
                self._in_flight = rows
            if not rows:
                return
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(ScanLog), rows)
            except Exception:
                with self._lock:
                    self._rows = (rows + self._rows)[-self.MAX_BUFFERED :]
                raise
            finally:
                with self._lock:
                    self._in_flight = []

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - keep logging scans; the rows are retried next time
                log.exception("scan log flush failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()


def scan_row(
    *, lot_id: int, serial: str | None, client: str, geo: str | None, user_agent: str | None, token_ok: bool | None
) -> dict[str, object]:
    return {"lot_id": lot_id, "serial": serial, "client_hash": client, "coarse_location": coarse_location(geo),
            "user_agent": (user_agent or "")[:200] or None, "token_ok": token_ok, "scanned_at": utcnow()}  # fmt: skip


def looks_copied(session: Session, buffer: ScanBuffer, lot_id: int, serial: str, token_ok: bool) -> bool:
    if not token_ok:
        return True
    since = utcnow() - WINDOW
    unsaved = buffer.pending(lot_id, serial)
    n, places, clients = session.exec(
        select(
            func.count(),
            func.count(func.distinct(ScanLog.coarse_location)),
            func.count(func.distinct(ScanLog.client_hash)),
        ).where(ScanLog.lot_id == lot_id, ScanLog.serial == serial, ScanLog.scanned_at >= since)
    ).one()
    if unsaved:  # approximate: distinct counts of saved and unsaved scans are added
        n += len(unsaved)
        places += len({r["coarse_location"] for r in unsaved if r["coarse_location"]})
        clients += len({r["client_hash"] for r in unsaved})
    return bool(n > MAX_SCANS or places >= MAX_PLACES or clients >= MAX_CLIENTS)
