"""Sensor alerts: a watcher reads each device's new readings (HTTP or MQTT alike) against its
thresholds (the device's own, else its place's for its kind).  A reading outside them opens an
alert, notified once to the organisation's channels (webhook, e-mail); readings back inside close
it.  A breach lasting the place's ``sustain_minutes`` is recorded as an anchored EPCIS
``sensor_reporting`` event at the place, whose ``rawData`` digests the readings of the run.

Crash safety: alerts, the sustained-breach event and the watcher's cursor are written in one
transaction; notifications go out after it commits (at most one attempt per alert, its answer kept
in ``delivery``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from traceability_api.background import BackgroundLoop
from traceability_api.config import Settings
from traceability_api.consensus.records import readings_digest
from traceability_api.db import lock_for_write
from traceability_api.epcis.builder import object_event
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.evidence.models import KINDS, Device, SensorKind, SensorReading
from traceability_api.evidence.summary import DEVICE_URN, METHOD
from traceability_api.husbandry.deliver import deliver
from traceability_api.husbandry.models import AlertChannel, AlertCursor, SensorAlert
from traceability_api.husbandry.thresholds import limits_for
from traceability_api.parties.models import Member, Organisation, Role
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place
from traceability_api.places.service import place_uri
from traceability_api.timeutil import utcnow

BATCH = 10_000
BREACH_KEY = "agri:breach"


@dataclass
class AlertWatcher(BackgroundLoop):
    """The loop: a round every ``alert_poll_s`` (the first after one wait); a failed round is
    logged, the next one retries from the cursor."""

    engine: Engine
    settings: Settings
    checks: Sequence[EventCheck] = ()
    thread_name = "sensor-alerts"
    failure = "sensor alert round failed"

    def __post_init__(self) -> None:
        super().__init__()

    def period_s(self) -> float:
        return self.settings.alert_poll_s

    first_wait_s = period_s  # a wait before the first round too

    def run_once(self) -> list[int]:
        """One round over every device, each in its own transaction holding the device's row (FOR
        UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite), so watchers of several workers
        never read the same readings twice; returns the ids of the alerts opened (and notified)."""
        with Session(self.engine) as s:
            device_ids = s.exec(select(Device.id).where(Device.active == True)).all()  # noqa: E712
        ids: list[int] = []
        for device_id in device_ids:
            with Session(self.engine) as s:
                lock_for_write(s)
                q = select(Device).where(Device.id == device_id).with_for_update(skip_locked=True)
                device = s.exec(q).first()
                if device is None:  # another watcher (or a batch being ingested) holds it: next round
                    continue
                opened = self._device(s, device)
                s.commit()
                ids += [a.id or 0 for a in opened]
        for alert_id in ids:
            self._notify(alert_id)
        return ids

    def _device(self, s: Session, device: Device) -> list[SensorAlert]:
        """The device's readings stored since the last round (by row id: a batch arriving late, with
        older times, is read too), in time order."""
        cursor = s.get(AlertCursor, device.id) or AlertCursor(device_id=device.id or 0, last_id=0)
        q = select(SensorReading.id, SensorReading.ts, SensorReading.value).where(
            SensorReading.device_id == device.id,
            SensorReading.id > cursor.last_id,  # type: ignore[operator]
        )
        new = s.exec(q.order_by(SensorReading.id).limit(BATCH)).all()  # type: ignore[arg-type]
        if not new:
            return []
        cursor.last_id = max(int(r[0] or 0) for r in new)
        s.add(cursor)
        rows = sorted((r[1], float(r[2])) for r in new)
        limits = limits_for(s, device)
        if limits is None:
            return []
        lo, hi, sustain = limits
        alert = s.exec(select(SensorAlert).where(SensorAlert.device_id == device.id, SensorAlert.open == True)).first()  # noqa: E712
        opened = []
        for ts, value in rows:
            bound = "low" if lo is not None and value < lo else "high" if hi is not None and value > hi else None
            if bound is None:
                if alert is not None:
                    self._close(s, device, alert, sustain)
                    alert = None
                continue
            if alert is None or alert.bound != bound:
                if alert is not None:
                    self._close(s, device, alert, sustain)
                alert = SensorAlert(org_id=device.org_id, device_id=device.id or 0, place_id=device.place_id,
                                    kind=device.kind.value, bound=bound, threshold=float(lo if bound == "low" else hi),  # type: ignore[arg-type]
                                    peak=value, started_at=ts, last_at=ts)  # type: ignore[arg-type]  # fmt: skip
                opened.append(alert)
            else:
                alert.peak = min(alert.peak, value) if bound == "low" else max(alert.peak, value)
                alert.readings, alert.last_at = alert.readings + 1, ts
            s.add(alert)
        if alert is not None:
            self._sustained(s, device, alert, sustain)
        s.flush()
        return opened

    def _close(self, s: Session, device: Device, alert: SensorAlert, sustain: int) -> None:
        alert.open = False
        self._sustained(s, device, alert, sustain)
        s.add(alert)

    def _sustained(self, s: Session, device: Device, alert: SensorAlert, sustain: int) -> None:
        if alert.sustained_event_id is not None or alert.last_at - alert.started_at < timedelta(minutes=sustain):
            return
        recorder = _recorder(s, device.org_id)
        if recorder is None:
            return
        s.flush()
        event = breach_event(s, device, alert, self.settings)
        (c,) = capture_events(s, recorder, [event], DEFAULT_CONTEXT, self.settings, checks=self.checks)
        alert.sustained_event_id = c.id

    def _notify(self, alert_id: int) -> None:
        with Session(self.engine) as s:
            alert = s.get(SensorAlert, alert_id)
            if alert is None or alert.notified_at is not None:
                return
            channels = s.exec(select(AlertChannel).where(AlertChannel.org_id == alert.org_id,
                                                         AlertChannel.active == True)).all()  # noqa: E712  # fmt: skip
            place = s.get(Place, alert.place_id) if alert.place_id else None
            payload = alert_payload(alert, place)
            answers = [deliver(ch, payload, self.settings) for ch in channels]
            alert.notified_at, alert.delivery = utcnow(), "; ".join(answers)[:500] or "no channel"
            s.add(alert)
            s.commit()


def alert_payload(alert: SensorAlert, place: Place | None) -> dict[str, Any]:
    unit = KINDS[SensorKind(alert.kind)][2]
    return {
        "type": "agritrace.sensorAlert", "alertId": alert.id, "kind": alert.kind, "bound": alert.bound,
        "threshold": alert.threshold, "value": alert.peak, "uom": unit, "startedAt": alert.started_at.isoformat(),
        "deviceID": f"{DEVICE_URN}{alert.device_id}",
        "place": {"id": place.id, "name": place.name, "uri": place_uri(place), "sectorCode": place.sector_code}
        if place is not None else None,
    }  # fmt: skip


def _recorder(s: Session, org_id: int) -> Principal | None:
    """The organisation's first active admin: the watcher records on the organisation's behalf."""
    org = s.get(Organisation, org_id)
    m = s.exec(select(Member).where(Member.org_id == org_id, Member.role == Role.admin, Member.active == True)  # noqa: E712
               .order_by(Member.id)).first()  # type: ignore[arg-type]  # fmt: skip
    if org is None or m is None or m.id is None:
        return None
    return Principal(m.id, m.name, Role.admin, org_id, org.kind)


def breach_event(s: Session, device: Device, alert: SensorAlert, settings: Settings) -> dict[str, Any]:
    rows = s.exec(
        select(SensorReading.ts, SensorReading.value)
        .where(SensorReading.device_id == device.id, SensorReading.ts >= alert.started_at,
               SensorReading.ts <= alert.last_at).order_by(SensorReading.ts)  # type: ignore[arg-type]
    ).all()  # fmt: skip
    readings = [(ts, float(v)) for ts, v in rows]
    values = [v for _, v in readings]
    _, _, unit, mtype = KINDS[device.kind]
    when = min(alert.last_at, utcnow()).astimezone(settings.zone)
    extra: dict[str, Any] = {}
    if device.place_id is not None:
        place = s.get(Place, device.place_id)
        if place is not None:
            extra["bizLocation"] = {"id": place_uri(place)}
    event = object_event("sensor_reporting", settings.zone, when=when.isoformat(timespec="seconds"), epcs=[],
                         sensorElementList=[{
                             "sensorMetadata": {
                                 "startTime": readings[0][0].isoformat(), "endTime": readings[-1][0].isoformat(),
                                 "deviceID": f"{DEVICE_URN}{device.id}",
                                 "rawData": f"ni:///sha-256;{readings_digest(readings)}",
                                 "dataProcessingMethod": METHOD,
                             },
                             "sensorReport": [{
                                 "type": f"gs1:{mtype}", "minValue": min(values), "maxValue": max(values),
                                 "meanValue": round(sum(values) / len(values), 4), "uom": unit,
                                 "agri:count": len(values), "agri:outOfThresholdPeriods": 1,
                             }],
                         }], **extra)  # fmt: skip
    event[BREACH_KEY] = {"kind": alert.kind, "bound": alert.bound, "threshold": alert.threshold,
                         "from": alert.started_at.isoformat(), "to": alert.last_at.isoformat()}  # fmt: skip
    return event
