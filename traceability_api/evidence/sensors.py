"""Sensor devices and readings: per-device HMAC authentication of each batch (over HTTP or MQTT),
a per-device sequence number against replays, per-reading validation against physical ranges
and a time window, duplicates ignored, bulk inserts."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.consensus.records import canonical_json
from traceability_api.db import lock_for_write
from traceability_api.errors import Conflict, Invalid, NotFound, Unauthorized
from traceability_api.evidence.crypto import fernet
from traceability_api.evidence.models import KINDS, Device, DeviceCreate, SensorReading
from traceability_api.parties.service import Principal
from traceability_api.places.service import get_place
from traceability_api.timeutil import utcnow

MAX_BATCH = 10_000
MAX_SEQ = 2**63 - 1
SEQ_WINDOW = 63  # how many recent seqs below the highest are remembered (one BIGINT of bits)
WINDOW_MASK = 2**SEQ_WINDOW - 1


def create_device(session: Session, p: Principal, data: DeviceCreate, settings: Settings) -> tuple[Device, str]:
    p.require_write()
    if data.place_id is not None:
        place = get_place(session, p, data.place_id)
        if place.org_id != p.org_id:
            raise Invalid("a device can only be attached to one of your own places")
    lo, hi = data.threshold_low, data.threshold_high
    if lo is not None and hi is not None and lo >= hi:
        raise Invalid("threshold_low must be below threshold_high")
    secret = secrets.token_hex(32)
    device = Device(org_id=p.org_id, name=data.name, kind=data.kind, place_id=data.place_id, threshold_low=lo,
                    threshold_high=hi, secret_encrypted=fernet(settings).encrypt(secret.encode()).decode())  # fmt: skip
    session.add(device)
    session.flush()
    return device, secret


def device_secret(device: Device, settings: Settings) -> bytes:
    return fernet(settings).decrypt(device.secret_encrypted.encode())


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def canonical_batch(batch: dict[str, Any]) -> bytes:
    """What an MQTT message signs: its seq and readings as compact, key-sorted JSON."""
    return canonical_json({"readings": batch.get("readings"), "seq": batch.get("seq")}, ascii_only=True).encode()


def authenticate_device(session: Session, settings: Settings, device_id: int, body: bytes, signature: object) -> Device:
    device = session.get(Device, device_id)
    if device is None or not device.active:
        raise NotFound(f"unknown or inactive device {device_id}")
    if not isinstance(signature, str) or not signature:
        raise Unauthorized(  # one message for both transports: an MQTT device has no headers
            "missing signature: the hex HMAC-SHA256 under the device secret, as the X-Device-Signature header"
            ' of the body (HTTP) or the "sig" text of the message (MQTT)'
        )
    if not isinstance(signature, str) or not signature.isascii():
        raise Unauthorized("the signature must be hex text (HMAC-SHA256 of the body with the device secret)")
    expected = sign(device_secret(device, settings), body).encode()
    if not hmac.compare_digest(expected, signature.strip().lower().encode()):
        raise Unauthorized(f"signature does not match device {device_id}: wrong key or altered body")
    return device


def receive_batch(session: Session, settings: Settings, device: Device, batch: Any) -> IngestResult:
    """An authenticated batch ``{"seq": n, "readings": [...]}``: refused whole if its seq was seen
    (a replay changes nothing), else each reading accepted, rejected or a duplicate.  The caller
    commits (or rolls back: then the seq is not used up)."""
    if not isinstance(batch, dict):
        raise Invalid('a batch is a JSON object {"seq": n, "readings": [{"ts": ..., "value": ...}, ...]}')
    accept_seq(session, device, batch.get("seq"))
    return ingest(session, device, batch.get("readings"), settings)


def accept_seq(session: Session, device: Device, seq: Any) -> None:
    """Per-device anti-replay: ``seq`` must be new, either above the highest seen or one of the
    SEQ_WINDOW below it not seen yet (batches handled by several workers may finish out of order)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise Invalid(f"seq must be an integer from 1 to {MAX_SEQ}, higher for each new batch of the device")
    lock_for_write(session)
    q = select(Device).where(Device.id == device.id).with_for_update().execution_options(populate_existing=True)
    dev = session.exec(q).one()
    last, window = dev.last_seq, dev.seq_window
    if seq > last:
        window = ((window << (seq - last)) | 1) & WINDOW_MASK if seq - last < SEQ_WINDOW else 1
        last = seq
    elif last - seq >= SEQ_WINDOW or window >> (last - seq) & 1:
        raise Conflict(f"batch seq {seq} of device {dev.id} was already received (or is older than the last "
                       f"{SEQ_WINDOW} batches; latest seq {last}): a replay changes nothing")  # fmt: skip
    else:
        window |= 1 << (last - seq)
    dev.last_seq, dev.seq_window = last, window
    session.add(dev)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _parse(r: Any, lo: float, hi: float, unit: str, window: tuple[datetime, datetime]) -> tuple[datetime, float] | str:
    if not isinstance(r, dict):
        return "a reading is an object {ts, value}"
    try:
        ts = datetime.fromisoformat(str(r.get("ts")))
    except ValueError:
        return f"ts {r.get('ts')!r} is not an ISO 8601 date-time"
    if ts.tzinfo is None:
        return "ts needs a time zone"
    if ts > window[1]:
        return f"ts {r.get('ts')} is in the future (ahead of the server clock by more than the allowed skew)"
    if ts < window[0]:
        return f"ts {r.get('ts')} is too old: readings are accepted up to {window[0].isoformat()} back"
    v = r.get("value")
    if isinstance(v, bool) or not isinstance(v, int | float) or not _finite(v):
        return "value must be a finite number"
    if (named := _named_unit(r, unit)) is not None:
        return named
    if not lo <= v <= hi:
        return f"value {v} {unit} is outside the physical range {lo:g}..{hi:g} {unit} of this sensor type"
    return ts, float(v)


# what a device may write for its sensor's unit (UN/CEFACT code, or a usual symbol, in any case)
UNIT_SPELLINGS = {"CEL": {"°c", "c", "degc", "celsius"}, "P1": {"%", "percent"}, "MTR": {"m", "metre", "meter"},
                  "59": {"ppt", "‰", "g/kg"}, "C62": {"1", "ph"}, "H87": {"count", "pcs"},
                  "M1": {"mg/l", "mg/dm3"}}  # fmt: skip


def _named_unit(r: dict[str, Any], unit: str) -> str | None:
    """A reading needs no unit (the sensor's type has one), but one that names another was stored as
    if in the sensor's unit (77 °F kept as 77 °C): the reason it is rejected, or None."""
    for key in ("uom", "unit"):
        if key in r:
            named = r[key]
            if not isinstance(named, str) or (named != unit and named.strip().lower() not in UNIT_SPELLINGS[unit]):
                return f"{key} {named!r} is not the unit of this sensor ({unit}): convert the value or leave {key} out"
    return None


def _finite(v: float) -> bool:
    """``math.isfinite`` of an int beyond a float's range (JSON has them: 1 followed by 400 zeros)
    raised OverflowError: the whole batch was refused with the generic 422, not this reading."""
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def ingest(
    engine_or_session: Engine | Session, device: Device, readings: Any, settings: Settings, *, history: bool = False
) -> IngestResult:
    """Store a batch of readings; ``history`` (seeding, imports) lifts the age limit meant for devices."""
    if not isinstance(readings, list):
        raise Invalid("readings must be a list of {ts, value}")
    if len(readings) > MAX_BATCH:
        raise Invalid(f"at most {MAX_BATCH} readings per batch")
    lo, hi, unit, _ = KINDS[device.kind]
    now = utcnow()
    oldest = datetime.min.replace(tzinfo=UTC) if history else now - timedelta(days=settings.sensor_max_age_days)
    window = (oldest, now + timedelta(seconds=settings.sensor_max_ahead_s))
    res = IngestResult()
    rows: dict[datetime, float] = {}
    for i, r in enumerate(readings):
        parsed = _parse(r, lo, hi, unit, window)
        if isinstance(parsed, str):
            res.rejected.append({"index": i, "reason": parsed})
        elif parsed[0] in rows:
            res.duplicates += 1
        else:
            rows[parsed[0]] = parsed[1]
    if rows:
        inserted = _insert(engine_or_session, device.id or 0, rows)
        res.accepted = inserted
        res.duplicates += len(rows) - inserted
    return res


PG_BULK_INSERT = (
    "INSERT INTO sensor_reading (device_id, ts, value) SELECT %s, t, v FROM unnest(%s::text::timestamptz[], "
    "%s::text::float8[]) AS r(t, v) ON CONFLICT (device_id, ts) DO NOTHING"
)


def _pg_array(items: Iterable[str]) -> str:
    """An array literal of ISO date-times or float reprs (no quoting needed: neither holds a comma,
    brace, quote or space).  psycopg adapts a Python list element by element in Python (52 % of the
    CPU of an HTTP batch of 1,000 readings); PostgreSQL parses this text in C."""
    return "{" + ",".join(items) + "}"


def _insert(target: Engine | Session, device_id: int, rows: dict[datetime, float]) -> int:
    conn_ctx = target.begin() if isinstance(target, Engine) else None
    conn = conn_ctx.__enter__() if conn_ctx is not None else target.connection()  # type: ignore[union-attr]
    try:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            # one statement for the whole batch: two arrays unnested server-side, no RETURNING
            times = _pg_array(t.astimezone(UTC).isoformat() for t in rows)
            floats = _pg_array(map(repr, rows.values()))
            return int(conn.exec_driver_sql(PG_BULK_INSERT, (device_id, times, floats)).rowcount)
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SensorReading.__table__)  # type: ignore[attr-defined]
        stmt = ins.on_conflict_do_nothing(index_elements=["device_id", "ts"]).returning(SensorReading.__table__.c.id)  # type: ignore[attr-defined]
        values = [{"device_id": device_id, "ts": ts, "value": v} for ts, v in rows.items()]
        n = 0
        for start in range(0, len(values), 1000):
            n += len(conn.execute(stmt, values[start : start + 1000]).all())
        return n
    finally:
        if conn_ctx is not None:
            conn_ctx.__exit__(None, None, None)


def readings_between(session: Session, device_id: int, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    rows = session.exec(
        select(SensorReading.ts, SensorReading.value)
        .where(SensorReading.device_id == device_id, SensorReading.ts >= start, SensorReading.ts <= end)
        .order_by(SensorReading.ts)  # type: ignore[arg-type]
    ).all()
    return [(ts, float(v)) for ts, v in rows]
