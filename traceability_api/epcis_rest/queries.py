"""Named queries (``/epcis/queries``) and their subscriptions: webhooks (streamed or scheduled) and WebSockets."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func
from sqlmodel import Session, select

from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.epcis.body import read_json
from traceability_api.epcis_rest import notify, schedule
from traceability_api.epcis_rest.common import EpcisProblem, EpcisRoute
from traceability_api.epcis_rest.events import page_response, url_params
from traceability_api.epcis_rest.filters import compile_query
from traceability_api.epcis_rest.models import NamedQuery, Subscription
from traceability_api.epcis_rest.search import check_paging, run_query
from traceability_api.epcis_rest.values import QueryParameterError, as_time
from traceability_api.events.models import Event
from traceability_api.limits import dumps_response
from traceability_api.netguard import UnsafeDestination, check_destination
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.models import Role
from traceability_api.parties.service import Principal, authenticate
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.validation import db_id_of

router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0 named queries and subscriptions"], route_class=EpcisRoute)
ws_router = APIRouter(prefix="/epcis")
NAME_RE = re.compile(r"^[A-Za-z0-9_.~-]{1,100}$")
MAX_QUERIES = 100
MAX_SUBSCRIPTIONS = 20


def _query(session: Session, p: Principal, name: str) -> NamedQuery:
    row = session.exec(select(NamedQuery).where(NamedQuery.org_id == p.org_id, NamedQuery.name == name)).first()
    if row is None:
        raise EpcisProblem(404, f"no named query {name!r}")
    return row


def _body(q: NamedQuery) -> dict[str, Any]:
    return {"name": q.name, "query": q.query}


@router.post("/queries", status_code=201, summary="Create a named query")
async def create_query(request: Request, p: PrincipalDep, session: SessionDep) -> Response:
    body = await read_json(request, 64 * 1024)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not isinstance(body.get("query"), dict):
        raise EpcisProblem(400, 'expected {"name": "<name>", "query": {<EPCIS query parameters>}}')
    name, query = body["name"], body["query"]
    if not NAME_RE.fullmatch(name):  # match() let "abc\n" through ($ matches before a final newline)
        raise EpcisProblem(400, "a query name is 1-100 letters, digits and . _ ~ -")
    compile_query(query)  # refuses unknown parameters and bad values (400)
    check_paging(query)  # and bad paging parameters (perPage too: the run below replaces it)
    run_query(session, p, {**query, "perPage": 1})
    if session.exec(select(NamedQuery).where(NamedQuery.org_id == p.org_id, NamedQuery.name == name)).first():
        raise EpcisProblem(409, f"a query named {name!r} exists", "epcisException:ResourceAlreadyExistsException")
    if session.exec(select(func.count()).where(NamedQuery.org_id == p.org_id)).one() >= MAX_QUERIES:
        raise EpcisProblem(403, f"at most {MAX_QUERIES} named queries per organisation")
    session.add(NamedQuery(org_id=p.org_id, member_id=p.member_id, name=name, query=query))
    session.commit()
    return Response(status_code=201, headers={"Location": f"/epcis/queries/{name}"})


@router.get("/queries", summary="Named queries of the caller's organisation")
def list_queries(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(NamedQuery).where(NamedQuery.org_id == p.org_id).order_by(NamedQuery.name)).all()  # type: ignore[arg-type]
    return [_body(q) for q in rows]


@router.get("/queries/{queryName}", summary="One named query")
def read_query(queryName: str, p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:  # noqa: N803
    return [_body(_query(session, p, queryName))]


@router.delete("/queries/{queryName}", status_code=204, summary="Delete a named query and its subscriptions")
def delete_query(queryName: str, p: PrincipalDep, session: SessionDep) -> Response:  # noqa: N803
    q = _query(session, p, queryName)
    _may_delete(p, q.member_id, f"the named query {queryName!r}")
    for sub in session.exec(select(Subscription).where(Subscription.query_id == q.id)).all():
        session.delete(sub)
    session.flush()
    session.delete(q)
    session.commit()
    return Response(status_code=204)


def _may_delete(p: Principal, creator: int, what: str) -> None:
    """Any member may make named queries and subscriptions; only their maker or an admin removes
    them (a viewer deleted the webhooks an admin had set up for the organisation)."""
    if creator != p.member_id and p.role != Role.admin:
        raise EpcisProblem(403, f"only the member who created {what} or an organisation admin may delete it")


@router.get("/queries/{queryName}/events", summary="Events of a named query (a WebSocket upgrade streams new ones)")
def query_events(queryName: str, request: Request, p: PrincipalDep, session: SessionDep) -> JSONResponse:  # noqa: N803
    q = _query(session, p, queryName)
    paging = url_params(request)
    unknown = set(paging) - {"perPage", "nextPageToken"}
    if unknown:
        raise QueryParameterError(f"{sorted(unknown)[0]}: only perPage and nextPageToken go with a named query")
    params = {**q.query, **paging}
    return page_response(request, run_query(session, p, params), paging, q.name)


def _sub_body(sub: Subscription) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat(timespec="seconds").replace("+00:00", "Z") if t else None

    out: dict[str, Any] = {"subscriptionID": str(sub.id), "dest": sub.dest, "createdAt": iso(sub.created_at),
                           "reportIfEmpty": sub.report_if_empty}  # fmt: skip
    if sub.schedule is not None:
        out["schedule"] = sub.schedule
    else:
        out["stream"] = True
    if sub.last_notified_at:
        out["lastNotifiedAt"] = iso(sub.last_notified_at)
    if sub.initial_record_time:
        out["initialRecordTime"] = iso(sub.initial_record_time)
    return out


@router.post("/queries/{queryName}/subscriptions", status_code=201, summary="Subscribe a webhook to a named query")
async def subscribe(
    queryName: str, request: Request, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> JSONResponse:  # noqa: N803, E501
    q = _query(session, p, queryName)
    body = await read_json(request, 16 * 1024)
    if not isinstance(body, dict) or not isinstance(body.get("dest"), str) or len(body["dest"]) > 2000:
        raise EpcisProblem(400, "expected a subscription with a 'dest' URL (at most 2000 characters)")
    plan = _plan(body)
    token = body.get("signatureToken")
    if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 200):
        raise EpcisProblem(400, "signatureToken must be a string of 1-200 characters")
    try:
        await run_in_threadpool(check_destination, body["dest"], settings.webhook_allow_private)
    except UnsafeDestination as exc:
        raise EpcisProblem(400, str(exc)) from exc
    if session.exec(select(func.count()).where(Subscription.query_id == q.id)).one() >= MAX_SUBSCRIPTIONS:
        raise EpcisProblem(403, f"at most {MAX_SUBSCRIPTIONS} subscriptions per query")
    sub = Subscription(query_id=q.id or 0, org_id=p.org_id, member_id=p.member_id, dest=body["dest"],
                       signature_token=token, report_if_empty=body.get("reportIfEmpty") is True,
                       stream=plan is None, schedule=body.get("schedule") if plan else None,
                       next_fire_at=schedule.next_fire(plan, utcnow()) if plan else None)  # fmt: skip
    sub.last_event_id = _start_after(session, body.get("initialRecordTime"), sub)
    session.add(sub)
    session.commit()
    notify.dispatcher(request.app.state.runtime)  # from now on, look for new events
    location = f"/epcis/queries/{queryName}/subscriptions/{sub.id}"
    return JSONResponse(_sub_body(sub), status_code=201, headers={"Location": location})


def _plan(body: dict[str, Any]) -> schedule.Schedule | None:
    """The schedule of a scheduled subscription, None for a stream; 400 for neither, both or a bad schedule."""
    controls = "epcisException:SubscriptionControlsException"
    if "schedule" in body and body.get("stream") not in (None, False):
        raise EpcisProblem(400, '"stream": true and "schedule" exclude each other', controls)
    if "reportIfEmpty" in body and not isinstance(body["reportIfEmpty"], bool):
        raise EpcisProblem(400, "reportIfEmpty must be true or false", controls)
    if "schedule" in body:
        try:
            return schedule.parse(body["schedule"])
        except schedule.ScheduleError as exc:
            raise EpcisProblem(400, str(exc), controls) from exc
    if body.get("stream") is not True:
        raise EpcisProblem(400, 'a subscription needs "stream": true or a "schedule"', controls)
    return None


def _start_after(session: Session, initial: Any, sub: Subscription) -> int:
    """Deliver events recorded from ``initialRecordTime`` on; without it, only events from now on."""
    q = select(func.max(Event.id))
    if initial is not None:
        sub.initial_record_time = as_time([str(initial)])
        q = q.where(Event.record_time < sub.initial_record_time)  # type: ignore[operator]
    return int(session.exec(q).one() or 0)


def _subscription(session: Session, p: Principal, name: str, sid: str) -> Subscription:
    q = _query(session, p, name)
    sub = session.get(Subscription, i) if (i := db_id_of(sid)) is not None else None
    if sub is None or sub.query_id != q.id:
        raise EpcisProblem(404, f"no subscription {sid} on query {name!r}")
    return sub


@router.get("/queries/{queryName}/subscriptions", summary="Subscriptions of a named query")
def subscriptions(queryName: str, p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:  # noqa: N803
    q = _query(session, p, queryName)
    return [_sub_body(s) for s in session.exec(select(Subscription).where(Subscription.query_id == q.id)).all()]


@router.get("/queries/{queryName}/subscriptions/{subscriptionID}", summary="One subscription")
def subscription(queryName: str, subscriptionID: str, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:  # noqa: N803
    return _sub_body(_subscription(session, p, queryName, subscriptionID))


@router.delete("/queries/{queryName}/subscriptions/{subscriptionID}", status_code=204, summary="Unsubscribe")
def unsubscribe(queryName: str, subscriptionID: str, p: PrincipalDep, session: SessionDep) -> Response:  # noqa: N803
    sub = _subscription(session, p, queryName, subscriptionID)
    _may_delete(p, sub.member_id, f"subscription {subscriptionID}")
    session.delete(sub)
    session.commit()
    return Response(status_code=204)


@ws_router.websocket("/queries/{queryName}/events")
async def stream(websocket: WebSocket, queryName: str) -> None:  # noqa: N803
    """New events matching the named query, one EPCISQueryDocument per message, while the socket is open."""
    runtime: Runtime = websocket.app.state.runtime
    auth = websocket.headers.get("authorization", "")
    raw = websocket.headers.get("x-api-key") or (auth[7:] if auth.lower().startswith("bearer ") else None)

    def setup() -> tuple[Principal, NamedQuery, int] | str:
        with Session(runtime.engine, expire_on_commit=False) as s:
            try:
                p = authenticate(s, raw)
                q = _query(s, p, queryName)
            except Exception as exc:  # noqa: BLE001 - any refusal closes the socket with its reason
                return str(getattr(exc, "message", None) or getattr(exc, "detail", None) or exc)
            return p, q, int(s.exec(select(func.max(Event.id))).one() or 0)

    found = await run_in_threadpool(setup)
    if isinstance(found, str):
        await websocket.close(code=1008, reason=found[:120])
        return
    p, q, top = found
    listener = notify.Listener(p, dict(q.query), q.name, top, asyncio.get_running_loop())
    d = notify.dispatcher(runtime)
    with d.lock:  # each open socket is one more query per poll: an organisation's are bounded
        full = sum(li.principal.org_id == p.org_id for li in d.listeners) >= runtime.settings.epcis_streams_per_org
        if not full:
            d.listeners.append(listener)
    if full:
        reason = f"at most {runtime.settings.epcis_streams_per_org} open WebSockets per organisation"
        if "websocket.http.response" in websocket.scope.get("extensions", {}):  # uvicorn: a real HTTP answer
            await websocket.send_denial_response(JSONResponse({"detail": reason}, status_code=429))
        else:
            await websocket.close(code=1008, reason=reason)
        return
    try:
        await websocket.accept()
        await _pump(websocket, listener)
    finally:
        with d.lock:
            d.listeners.remove(listener)


async def _pump(websocket: WebSocket, listener: notify.Listener) -> None:
    """Send each queued document until the client disconnects; a client that fell more than
    ``notify.LISTENER_QUEUE`` documents behind is closed (1008) so that it reconnects and asks
    again for what it missed, instead of the server holding every document for it; a socket the
    dispatcher ends (``notify.Listener.end``) is closed with its reason."""
    recv: asyncio.Future[Any] = asyncio.ensure_future(websocket.receive())
    get: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(listener.queue.get())
    over: asyncio.Future[Any] = asyncio.ensure_future(listener.closing.wait())
    try:
        while True:
            done, _ = await asyncio.wait({recv, get, over}, return_when=asyncio.FIRST_COMPLETED)
            if over in done:
                await websocket.close(code=1008, reason=listener.reason)
                return
            if recv in done:
                if recv.result().get("type") == "websocket.disconnect":
                    return
                recv = asyncio.ensure_future(websocket.receive())
            if get in done:
                await websocket.send_text(dumps_response(get.result()).decode())
                get = asyncio.ensure_future(listener.queue.get())
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        recv.cancel()
        get.cancel()
        over.cancel()
