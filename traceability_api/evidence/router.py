from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, UploadFile, status
from fastapi.responses import Response
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import Invalid
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event
from traceability_api.events.service import visible_to
from traceability_api.evidence import attachments
from traceability_api.evidence.diary import DiaryEntry, diary_event
from traceability_api.evidence.models import Device, DeviceCreate
from traceability_api.evidence.sensors import authenticate_device, create_device, receive_batch
from traceability_api.evidence.summary import summary_event
from traceability_api.json_response import StoredJSONResponse
from traceability_api.limits import parse_json_bounded
from traceability_api.parties.deps import PrincipalDep
from traceability_api.places.service import get_place
from traceability_api.privacy.access import note_reads
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["evidence"])


@router.post("/attachments", status_code=status.HTTP_201_CREATED, summary="Upload a photo or document")
async def upload(file: UploadFile, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    data = await file.read(settings.attachment_max_bytes + 1)
    row = attachments.store(session, p, settings, data)
    session.commit()
    return {"sha256": row.sha256, "size": row.size, "mediaType": row.media_type}


@router.get("/attachments/{digest}")
def download(digest: str, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> Response:
    """Its uploaders, and whoever may read an event citing it; 404 for everyone else."""
    row, data = attachments.load(session, p, settings, digest)
    return Response(data, media_type=row.media_type)


@router.post("/places/{place_id}/diary", status_code=status.HTTP_201_CREATED, summary="Add a farm-diary entry")
def add_diary(
    place_id: DbId, entry: DiaryEntry, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Recorded as an EPCIS ObjectEvent with AgriTrace's farm-step vocabulary, hashed and anchored."""
    event = diary_event(session, p, place_id, entry, runtime.settings.zone)
    (c,) = capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
    session.commit()
    return {"eventId": c.id, "hashId": c.hash_id}


@router.get("/places/{place_id}/diary")
def list_diary(place_id: DbId, p: PrincipalDep, session: SessionDep) -> StoredJSONResponse:
    get_place(session, p, place_id)
    q = select(Event).where(Event.place_id == place_id, visible_to(p)).order_by(Event.event_time)  # type: ignore[arg-type]
    rows = session.exec(q).all()
    note_reads(session, p, rows)
    return StoredJSONResponse([{"eventId": e.id, "hashId": e.hash_id, "event": e.document} for e in rows])


@router.post("/devices", status_code=status.HTTP_201_CREATED, summary="Register a sensor (its secret is shown once)")
def add_device(data: DeviceCreate, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    device, secret = create_device(session, p, data, settings)
    session.commit()
    return {"device": device.model_dump(exclude={"secret_encrypted"}, mode="json"), "secret": secret}


@router.get("/devices")
def list_devices(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(Device).where(Device.org_id == p.org_id).order_by(Device.id)).all()  # type: ignore[arg-type]
    return [d.model_dump(exclude={"secret_encrypted"}, mode="json") for d in rows]


@router.post("/devices/{device_id}/readings", summary="A device's batch of readings, signed with its secret")
async def readings(
    device_id: DbId, request: Request, session: SessionDep, settings: SettingsDep,
    x_device_signature: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:  # fmt: skip
    """Body ``{"seq": n, "readings": [{"ts": ISO 8601, "value": number}, ...]}``; header
    ``X-Device-Signature``: hex HMAC-SHA256 of the exact body with the device secret.  ``seq``
    grows with each batch: a replayed batch is refused whole (409) and changes nothing.  Each
    reading is accepted, ignored as a duplicate, or rejected with its reason."""
    body = await request.body()
    device = await run_in_threadpool(authenticate_device, session, settings, device_id, body, x_device_signature)
    try:
        batch = parse_json_bounded(body, settings.json_max_bytes, settings.json_max_depth)
    except ValueError as exc:
        raise Invalid(f"body is not acceptable JSON: {exc}") from exc
    result = await run_in_threadpool(receive_batch, session, settings, device, batch)
    await run_in_threadpool(session.commit)
    return result.json()


@router.post("/lots/{lot_id}/sensor-summary", status_code=status.HTTP_201_CREATED)
def sensor_summary(lot_id: DbId, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Summarise the lot's sensor readings into an anchored EPCIS sensorElementList event."""
    lot, product = get_lot(session, p, lot_id)
    event = summary_event(session, lot, product, runtime.settings.zone)
    (c,) = capture_events(session, p, [event], DEFAULT_CONTEXT, runtime.settings, checks=runtime.capture_checks)
    session.commit()
    return {"eventId": c.id, "hashId": c.hash_id, "sensorElementList": event["sensorElementList"]}
