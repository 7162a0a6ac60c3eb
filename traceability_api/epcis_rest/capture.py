"""``/epcis/capture`` (capture jobs) and ``POST /epcis/events``: the capture service of ``/api/v1``
behind the REST binding.  A job runs in-process as soon as it is accepted; its row keeps the outcome."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.epcis.body import MAX_BODY, read_document, read_json
from traceability_api.epcis_rest import notify
from traceability_api.epcis_rest.common import EpcisProblem, EpcisRoute
from traceability_api.epcis_rest.models import CaptureJob
from traceability_api.errors import DomainError, Invalid, NotFound
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_document, capture_events
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.service import Principal
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.validation import db_id_of

router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0 capture"], route_class=EpcisRoute)


def capture_headers(settings: Settings) -> dict[str, str]:
    return {"GS1-EPCIS-Capture-Limit": str(settings.max_events_per_document),
            "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_BODY)}  # fmt: skip


def as_capture_document(doc: Any, settings: Settings) -> dict[str, Any]:
    """An EPCISDocument, or an EPCISQueryDocument's events wrapped as one."""
    if not isinstance(doc, dict):
        raise EpcisProblem(400, "expected an EPCISDocument or EPCISQueryDocument object")
    if doc.get("type") == "EPCISQueryDocument":
        body = doc.get("epcisBody")
        results = body.get("queryResults") if isinstance(body, dict) else None
        rb = results.get("resultsBody") if isinstance(results, dict) else None
        events = rb.get("eventList") if isinstance(rb, dict) else None
        keep = {k: v for k, v in doc.items() if k in ("@context", "schemaVersion", "creationDate", "id")}
        doc = {**keep, "type": "EPCISDocument", "epcisBody": {"eventList": events}}
    if doc.get("type") != "EPCISDocument":
        raise EpcisProblem(400, "expected type 'EPCISDocument' or 'EPCISQueryDocument'")
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if isinstance(events, list) and len(events) > settings.max_events_per_document:
        raise EpcisProblem(
            413, f"at most {settings.max_events_per_document} events per capture (GS1-EPCIS-Capture-Limit)"
        )
    return doc  # type: ignore[no-any-return]


@router.post("/capture", status_code=202, summary="Capture an EPCIS document (JSON-LD or XML) as a capture job")
async def capture(
    request: Request, p: PrincipalDep, runtime: RuntimeDep, settings: SettingsDep,
    behaviour: Annotated[str, Header(alias="GS1-Capture-Error-Behaviour")] = "rollback",
) -> Response:  # fmt: skip
    if behaviour not in ("rollback", "proceed"):
        raise EpcisProblem(400, "GS1-Capture-Error-Behaviour must be rollback or proceed")
    p.require_write()
    doc = as_capture_document(await read_document(request, DEFAULT_CONTEXT), settings)
    job_id = await run_in_threadpool(run_job, runtime, p, doc, behaviour)
    headers = {"Location": f"/epcis/capture/{job_id}", **capture_headers(settings)}
    return Response(status_code=202, headers=headers)


def run_job(runtime: Runtime, p: Principal, doc: dict[str, Any], behaviour: str) -> int:
    """Store a job row, capture the document (all or nothing, or event by event with ``proceed``)."""
    with Session(runtime.engine, expire_on_commit=False) as s:
        events = doc.get("epcisBody", {}).get("eventList")
        job = CaptureJob(org_id=p.org_id, member_id=p.member_id, error_behaviour=behaviour,
                         event_count=len(events) if isinstance(events, list) else 0)  # fmt: skip
        s.add(job)
        s.commit()
        assert job.id is not None
        errors: list[dict[str, Any]] = []
        captured = 0
        if behaviour == "rollback" or not isinstance(events, list):
            try:
                captured = sum(
                    not c.duplicate
                    for c in capture_document(s, p, doc, runtime.settings, checks=runtime.capture_checks)
                )
                s.commit()
            except DomainError as exc:
                s.rollback()
                errors.append(_error(exc))
        else:
            captured = _proceed(s, p, doc, events, runtime, errors)
        job.running, job.success, job.errors, job.captured = False, not errors, errors, captured
        job.finished_at = utcnow()
        s.add(job)
        s.commit()
    if captured:
        notify.new_events(runtime)
    return job.id


def _proceed(s: Session, p: Principal, doc: dict[str, Any], events: list[Any], runtime: Runtime,
             errors: list[dict[str, Any]]) -> int:  # fmt: skip
    """``proceed``: each event in its own transaction; failures are reported, the rest stored."""
    from traceability_api.epcis.schema import document_errors

    bad = document_errors({**doc, "epcisBody": {"eventList": []}})
    if bad:
        errors.append(_error(Invalid("the document does not follow the EPCIS 2.0 schema", details=bad)))
        return 0
    captured = 0
    for i, event in enumerate(events):
        try:
            context = doc.get("@context", DEFAULT_CONTEXT)
            (c,) = capture_events(s, p, [event], context, runtime.settings, checks=runtime.capture_checks)
            s.commit()
            captured += not c.duplicate
        except DomainError as exc:
            s.rollback()
            errors.append(_error(exc, i))
    return captured


def _error(exc: DomainError, index: int | None = None) -> dict[str, Any]:
    status = 400 if exc.status_code == 422 else exc.status_code
    detail = exc.message if index is None else f"event {index}: {exc.message}"
    if isinstance(exc.details, list) and exc.details and isinstance(exc.details[0], str):
        detail += ": " + "; ".join(exc.details[:3])
    kind = {403: "SecurityException", 409: "ResourceAlreadyExistsException"}.get(status, "ValidationException")
    return {"type": f"epcisException:{kind}", "title": kind, "status": status, "detail": detail}


def job_body(job: CaptureJob) -> dict[str, Any]:
    def iso(t: Any) -> str | None:
        return t.isoformat(timespec="milliseconds").replace("+00:00", "Z") if t else None

    out = {"captureID": str(job.id), "createdAt": iso(job.created_at), "running": job.running,
           "success": job.success, "captureErrorBehaviour": job.error_behaviour, "errors": job.errors}  # fmt: skip
    if job.finished_at:
        out["finishedAt"] = iso(job.finished_at)
    return out


@router.get("/capture", summary="Capture jobs of the caller's organisation, newest first")
def list_jobs(p: PrincipalDep, session: SessionDep, perPage: int = 30) -> list[dict[str, Any]]:  # noqa: N803
    if not 1 <= perPage <= 1000:
        raise EpcisProblem(400, "perPage must be between 1 and 1000", "epcisException:QueryParameterException")
    q = select(CaptureJob).where(CaptureJob.org_id == p.org_id).order_by(CaptureJob.id.desc()).limit(perPage)  # type: ignore[union-attr]
    return [job_body(j) for j in session.exec(q).all()]


@router.get("/capture/{captureID}", summary="One capture job: status and errors")
def read_job(captureID: str, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:  # noqa: N803
    job = session.get(CaptureJob, job_id) if (job_id := db_id_of(captureID)) is not None else None
    if job is None or job.org_id != p.org_id:
        raise EpcisProblem(404, f"no capture job {captureID}")
    return job_body(job)


@router.post("/events", status_code=201, summary="Capture one EPCIS event synchronously")
async def capture_one(request: Request, p: PrincipalDep, runtime: RuntimeDep) -> Response:
    p.require_write()
    event = await read_json(request)
    if not isinstance(event, dict):
        raise EpcisProblem(400, "expected one EPCIS event object")
    context = event.get("@context", DEFAULT_CONTEXT)
    c = await run_in_threadpool(_capture_one, runtime, p, event, context)
    from traceability_api.epcis_rest.events import event_body

    with Session(runtime.engine) as s:
        body = event_body(s, c)
    location = f"/epcis/events/{quote(c.event_id, safe='')}"
    return Response(json.dumps(body), status_code=200 if c.duplicate else 201, headers={"Location": location},
                    media_type="application/json")  # fmt: skip


def _capture_one(runtime: Runtime, p: Principal, event: dict[str, Any], context: Any) -> Any:
    with Session(runtime.engine, expire_on_commit=False) as s:
        try:
            (c,) = capture_events(s, p, [event], context, runtime.settings, checks=runtime.capture_checks)
        except NotFound as exc:  # an identifier the event refers to: the event is what is wrong
            raise Invalid(exc.message) from exc
        s.commit()
    if not c.duplicate:
        notify.new_events(runtime)
    return c
