from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.epcis.body import read_document
from traceability_api.events.capture import (
    DEFAULT_CONTEXT,
    Captured,
    capture_document,
    capture_events,
    prepare_events,
)
from traceability_api.events.service import (
    corrections_of,
    declaration_of,
    declare_error,
    epcis_query_document,
    export_event,
    get_event,
    query_events,
)
from traceability_api.json_response import StoredJSONResponse
from traceability_api.outbox import take_write_requests
from traceability_api.parties.deps import PresentedKey, PrincipalDep, principal_of
from traceability_api.runtime import Runtime
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["events"])


class CapturedOut(BaseModel):
    id: int
    hashId: str  # noqa: N815 - EPCIS naming
    eventID: str  # noqa: N815
    duplicate: bool
    errorDeclaration: bool = False  # noqa: N815 - the event declared the stored event id erroneous


_DUPLICATE = {200: {"model": CapturedOut, "description": "a duplicate: the event was already stored"}}


@router.post("/events", response_model=CapturedOut, status_code=status.HTTP_201_CREATED, responses=_DUPLICATE)
async def capture_one(
    request: Request,
    key: PresentedKey,
    session: SessionDep,
    runtime: RuntimeDep,
    event: Annotated[dict[str, Any], Body(description="one EPCIS 2.0 event (JSON-LD)")],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Capture one EPCIS 2.0 event.  The same eventID (or Idempotency-Key, or content) twice stores one event."""
    # One hop to a worker thread for the whole request (authentication, checks, the group's commit)
    # and the answer written here: as a sync endpoint with a sync principal dependency and a
    # response model it took three, a third of the request's CPU in thread hand-offs (py-spy).
    c = await run_in_threadpool(_capture_one, request, key, session, runtime, event, idempotency_key)
    out = CapturedOut(id=c.id, hashId=c.hash_id, eventID=c.event_id, duplicate=c.duplicate, errorDeclaration=c.declared)
    code = status.HTTP_200_OK if c.duplicate else status.HTTP_201_CREATED
    return JSONResponse(out.model_dump(), status_code=code)


def _capture_one(
    request: Request, key: str | None, session: Session, runtime: Runtime, event: dict[str, Any],
    idempotency_key: str | None,
) -> Captured:  # fmt: skip
    p = principal_of(request, session, key)
    settings = runtime.settings
    if runtime.capture_group is None:
        (c,) = capture_events(
            session, p, [event], DEFAULT_CONTEXT, settings, checks=runtime.capture_checks,
            idempotency_key=idempotency_key,
        )  # fmt: skip
        session.commit()
        return c
    # checked first, then stored with concurrent requests in one transaction (with its write-log entry)
    p.require_write()
    (prepared,) = prepare_events([event], DEFAULT_CONTEXT, settings, idempotency_key=idempotency_key)
    writes = take_write_requests(session.info)
    session.close()  # the authentication's connection goes back to the pool while the group writes
    return runtime.capture_group.capture(p, prepared, writes[0] if writes else None)


async def capture_body(request: Request) -> Any:
    return await read_document(request, DEFAULT_CONTEXT)


_DOCUMENT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "an EPCIS 2.0 EPCISDocument"}},
    "application/ld+json": {"schema": {"type": "object", "description": "an EPCIS 2.0 EPCISDocument"}},
    "application/xml": {"schema": {"type": "string", "description": "an EPCIS 2.0 XML EPCISDocument"}}}}}  # fmt: skip


@router.post("/capture", status_code=status.HTTP_201_CREATED, openapi_extra=_DOCUMENT_BODY)
def capture(
    p: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    runtime: RuntimeDep,
    document: Annotated[Any, Depends(capture_body)],
) -> dict[str, Any]:
    """EPCIS 2.0 capture (JSON-LD, or XML with Content-Type application/xml): all events are stored, or none."""
    captured = capture_document(session, p, document, settings, checks=runtime.capture_checks)
    session.commit()
    return {
        "captured": sum(not c.duplicate and not c.declared for c in captured),
        "duplicates": sum(c.duplicate for c in captured),
        "errorDeclarations": sum(c.declared and not c.duplicate for c in captured),
        "events": [
            CapturedOut(
                id=c.id, hashId=c.hash_id, eventID=c.event_id, duplicate=c.duplicate, errorDeclaration=c.declared
            )
            for c in captured
        ],
    }


@router.get("/events/{event_id}")
def read_event(event_id: DbId, p: PrincipalDep, session: SessionDep) -> StoredJSONResponse:
    e = get_event(session, p, event_id)
    return StoredJSONResponse(
        {
            "id": e.id,
            "hashId": e.hash_id,
            "hashRule": e.hash_rule,
            "event": export_event(e) | {"@context": e.document.get("@context", DEFAULT_CONTEXT)},
            "errorDeclarations": [declaration_of(c) for c in corrections_of(session, event_id)],
        }
    )


@router.get("/events", summary="EPCIS query: events as an EPCISQueryDocument (JSON-LD)")
def query(
    p: PrincipalDep,
    session: SessionDep,
    lot: Annotated[str | None, Query(description="lot URI https://id.gs1.org/01/<GTIN>/10/<lot>")] = None,
    MATCH_epc: Annotated[str | None, Query()] = None,  # noqa: N803 - EPCIS query parameter names
    EQ_bizStep: Annotated[str | None, Query()] = None,  # noqa: N803
    GE_eventTime: Annotated[datetime | None, Query()] = None,  # noqa: N803
    LT_eventTime: Annotated[datetime | None, Query()] = None,  # noqa: N803
    eventType: Annotated[str | None, Query()] = None,  # noqa: N803
    perPage: Annotated[int, Query(ge=1, le=1000)] = 100,  # noqa: N803
    nextPageToken: Annotated[DbId, Query()] = 0,  # noqa: N803
) -> StoredJSONResponse:
    for t in (GE_eventTime, LT_eventTime):
        if t is not None and t.tzinfo is None:
            from traceability_api.errors import Invalid

            raise Invalid("time filters need a time zone (e.g. 2025-01-01T00:00:00Z)")
    events = query_events(
        session, p, lot=lot, epc=MATCH_epc, biz_step=EQ_bizStep, ge_event_time=GE_eventTime,
        lt_event_time=LT_eventTime, event_type=eventType, after_id=nextPageToken, limit=perPage,
    )  # fmt: skip
    doc, headers = epcis_query_document(events), {}
    if len(events) == perPage:
        token = events[-1].id
        doc["epcisBody"]["queryResults"]["nextPageToken"] = str(token)
        headers["Link"] = f'<?nextPageToken={token}&perPage={perPage}>; rel="next"'
    return StoredJSONResponse(doc, headers=headers)


class CorrectionIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200, description="CBV error reason, e.g. incorrect_data")
    declarationTime: str | None = None  # noqa: N815
    correctiveEvents: list[dict[str, Any]] = Field(default_factory=list, max_length=100)  # noqa: N815


@router.post("/events/{event_id}/corrections", status_code=status.HTTP_201_CREATED)
def correct(
    event_id: DbId, data: CorrectionIn, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Declare a stored event erroneous (EPCIS errorDeclaration); the event stays, corrective events are added."""
    event = get_event(session, p, event_id)
    row = declare_error(
        session, p, event, data.reason, data.declarationTime, data.correctiveEvents, runtime.settings,
        checks=runtime.capture_checks,
    )  # fmt: skip
    session.commit()
    return {"id": row.id, "eventId": event_id, "errorDeclaration": declaration_of(row)}
