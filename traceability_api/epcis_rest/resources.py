"""Top-level resources of the REST binding: ``/eventTypes``, ``/epcs``, ``/bizSteps``, ``/bizLocations``,
``/readPoints``, ``/dispositions``, each with ``/{x}`` and ``/{x}/events``.

bizSteps and dispositions come from indexed columns; EPCs and locations from the stored events of the
most recent ``SCAN_MAX`` events the caller may read (a bounded scan, no extra tables)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from traceability_api.deps import SessionDep
from traceability_api.epcis_rest.common import EpcisProblem, EpcisRoute
from traceability_api.epcis_rest.events import LD_JSON, page_response, url_params
from traceability_api.epcis_rest.filters import EVENT_TYPES
from traceability_api.epcis_rest.search import SCAN_MAX, run_query
from traceability_api.epcis_rest.values import QueryParameterError, norm_uri
from traceability_api.events.capture import DEFAULT_CONTEXT
from traceability_api.events.models import Event
from traceability_api.events.service import visible_to
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.service import Principal

router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0 top-level resources"], route_class=EpcisRoute)
TOP_LEVEL = ["events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture",
             "queries"]  # fmt: skip
_EPC_KEYS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QTY_KEYS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def collection(members: list[str]) -> JSONResponse:
    return JSONResponse({"@context": DEFAULT_CONTEXT, "type": "Collection", "member": members}, media_type=LD_JSON)


@router.get("", summary="The top-level resources")
@router.get("/", include_in_schema=False)
def root(p: PrincipalDep) -> JSONResponse:
    return collection(TOP_LEVEL)


def _epcs(doc: dict[str, Any]) -> Iterable[str]:
    for k in _EPC_KEYS:
        yield from (str(x) for x in doc.get(k) or [] if isinstance(x, str))
    if isinstance(doc.get("parentID"), str):
        yield doc["parentID"]
    for k in _QTY_KEYS:
        yield from (str(q["epcClass"]) for q in doc.get(k) or [] if isinstance(q, dict) and "epcClass" in q)


def _location(key: str) -> Callable[[dict[str, Any]], Iterable[str]]:
    def get(doc: dict[str, Any]) -> Iterable[str]:
        x = doc.get(key)
        return [str(x["id"])] if isinstance(x, dict) and isinstance(x.get("id"), str) else []

    return get


_SCANNED: dict[str, Callable[[dict[str, Any]], Iterable[str]]] = {
    "epcs": _epcs, "bizLocations": _location("bizLocation"), "readPoints": _location("readPoint"),
}  # fmt: skip
_COLUMN = {"bizSteps": Event.biz_step, "dispositions": Event.disposition}
_FILTER = {"eventTypes": "eventType", "bizSteps": "EQ_bizStep", "dispositions": "EQ_disposition",
           "bizLocations": "EQ_bizLocation", "readPoints": "EQ_readPoint"}  # fmt: skip


def members(session: Session, p: Principal, kind: str) -> list[str]:
    if kind == "eventTypes":
        return list(EVENT_TYPES)
    if kind in _COLUMN:
        col = _COLUMN[kind]
        q = select(col).where(visible_to(p), col.is_not(None)).distinct()  # type: ignore[union-attr]
        return sorted(str(v) for v in session.exec(q).all())
    q2 = select(Event.document).where(visible_to(p)).order_by(Event.id.desc()).limit(SCAN_MAX)  # type: ignore[union-attr]
    seen = dict.fromkeys(v for doc in session.exec(q2).all() for v in _SCANNED[kind](dict(doc)))
    return sorted(seen)


def _paged(request: Request, items: list[str]) -> JSONResponse:
    params = url_params(request)
    unknown = set(params) - {"perPage", "nextPageToken"}
    if unknown:
        raise QueryParameterError(f"unknown parameter {sorted(unknown)[0]}")
    try:
        per_page = int(params.get("perPage", 30))
        start = int(params.get("nextPageToken", 0))
    except ValueError as exc:
        raise QueryParameterError("perPage and nextPageToken must be integers") from exc
    if not 1 <= per_page <= 1000 or start < 0:
        raise QueryParameterError("perPage must be between 1 and 1000, nextPageToken >= 0")
    response = collection(items[start : start + per_page])
    if start + per_page < len(items):
        response.headers["Link"] = (
            f'<{request.url.path}?perPage={per_page}&nextPageToken={start + per_page}>; rel="next"'
        )
    return response


def _events_of(session: Session, p: Principal, kind: str, value: str, params: dict[str, Any]) -> Any:
    if kind == "epcs":
        return run_query(session, p, params, pred=lambda d: norm_uri(value) in {norm_uri(x) for x in _epcs(d)})
    if kind in _FILTER and _FILTER[kind] in params:
        raise QueryParameterError(f"{_FILTER[kind]} is given by the path")
    if kind == "eventTypes" and value not in EVENT_TYPES:
        raise EpcisProblem(404, f"no event type {value!r}")
    return run_query(session, p, {**params, _FILTER[kind]: value})


def _register(kind: str, label: str) -> None:
    @router.get(f"/{kind}", summary=f"{label} in the events the caller may read", name=f"list_{kind}")
    def listing(request: Request, p: PrincipalDep, session: SessionDep) -> JSONResponse:
        return _paged(request, members(session, p, kind))

    @router.get(f"/{kind}/{{value:path}}/events", summary=f"Events of one of the {label}", name=f"events_of_{kind}")
    def events_of(value: str, request: Request, p: PrincipalDep, session: SessionDep) -> JSONResponse:
        params = url_params(request)
        return page_response(request, _events_of(session, p, kind, value, params), params)

    @router.get(f"/{kind}/{{value:path}}", summary=f"One of the {label}: its sub-resources", name=f"one_of_{kind}")
    def one(value: str, p: PrincipalDep, session: SessionDep) -> JSONResponse:
        if kind == "eventTypes" and value in EVENT_TYPES:
            return collection(["events"])
        if not _events_of(session, p, kind, value, {"perPage": 1}).events:
            raise EpcisProblem(404, f"no {kind} {value!r} in the events you may read")
        return collection(["events"])


for _kind, _label in (("eventTypes", "event types"), ("epcs", "EPCs and EPC classes"), ("bizSteps", "business steps"),
                      ("bizLocations", "business locations"), ("readPoints", "read points"),
                      ("dispositions", "dispositions")):  # fmt: skip
    _register(_kind, _label)
