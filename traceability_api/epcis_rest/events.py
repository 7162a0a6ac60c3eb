"""``GET /epcis/events`` (the EPCIS query language over URL parameters) and ``/epcis/events/{eventID}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import or_
from sqlmodel import Session

from traceability_api.deps import SessionDep
from traceability_api.epcis_rest.common import EpcisProblem, EpcisRoute
from traceability_api.epcis_rest.search import Page, run_query
from traceability_api.events.declarations import latest_declarations
from traceability_api.events.models import Event
from traceability_api.events.service import export_event
from traceability_api.json_response import StoredJSONResponse
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.service import Principal

router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0 query"], route_class=EpcisRoute)
LD_JSON = "application/json"  # JSON-LD bodies, served as the binding's OpenAPI declares them
MAX_URL = 8000


def url_params(request: Request) -> dict[str, Any]:
    """Query parameters as one value each (repeated ones joined with ``|``, the binding's delimiter)."""
    if len(str(request.url)) > MAX_URL:
        raise EpcisProblem(414, f"the URL is longer than {MAX_URL} characters", "epcisException:URITooLongException")
    keys = list(dict.fromkeys(request.query_params.keys()))
    return {k: "|".join(request.query_params.getlist(k)) for k in keys}


def page_response(
    request: Request, page: Page, params: dict[str, Any], query_name: str = "SimpleEventQuery"
) -> JSONResponse:
    doc = page.document(query_name)
    headers = {}
    if page.next_token:
        doc["epcisBody"]["queryResults"]["nextPageToken"] = page.next_token
        nxt = urlencode({**params, "nextPageToken": page.next_token})
        headers["Link"] = f'<{request.url.path}?{nxt}>; rel="next"'
    return StoredJSONResponse(doc, headers=headers, media_type=LD_JSON)


@router.get("/events", summary="EPCIS events matching the query parameters (EQ_, GE_, LT_, MATCH_, EXISTS_ ...)")
def events(request: Request, p: PrincipalDep, session: SessionDep) -> JSONResponse:
    params = url_params(request)
    return page_response(request, run_query(session, p, params), params)


def find_event(session: Session, p: Principal, event_id: str) -> Page:
    """The page of the one event ``event_id`` (its eventID or hash ID), 404 when ``p`` may not read one."""
    same = or_(Event.client_event_id == event_id, Event.hash_id == event_id)  # type: ignore[arg-type]
    page = run_query(session, p, {"perPage": 1}, extra=[same])
    if not page.events:
        raise EpcisProblem(404, f"no event {event_id!r}")
    return page


@router.get("/events/{eventID:path}", summary="One event by its eventID (URL-encoded)")
def event(eventID: str, p: PrincipalDep, session: SessionDep) -> JSONResponse:  # noqa: N803
    return StoredJSONResponse(find_event(session, p, eventID).document(), media_type=LD_JSON)


@router.delete("/nextPageToken/{token}", status_code=204, summary="Expire a page token")
def expire_token(token: str) -> Response:
    """Page tokens here are stateless cursors (the caller's access rules apply on every page): nothing to delete."""
    return Response(status_code=204)


def event_body(session: Session, captured: Any) -> dict[str, Any]:
    e = session.get(Event, captured.id)
    assert e is not None
    return export_event(e, latest_declarations(session, [captured.id]).get(captured.id)) | {
        "@context": e.document.get("@context")
    }
