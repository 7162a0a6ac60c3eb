"""The EPCIS 2.0 REST binding: every ``/epcis`` router, ``OPTIONS`` on each of its paths, and the
refusals of a path or method it does not serve (problem bodies, as every other ``/epcis`` answer)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from traceability_api.epcis.body import MAX_BODY
from traceability_api.epcis_rest import capture, events, notify, queries, resources
from traceability_api.epcis_rest.common import PROBLEM, EpcisRoute, problem, version_headers
from traceability_api.route_prefix import include as include_router

options_router = APIRouter(prefix="/epcis", route_class=EpcisRoute, include_in_schema=False)
ROUTERS = (capture.router, resources.router, events.router, queries.router)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed(path: str) -> list[str]:
    """The methods the binding serves at ``path`` (none: no such resource).  HEAD is not among them:
    no route answers it."""
    found = {m for r in ROUTERS for x in r.routes if isinstance(x, APIRoute) and x.path_regex.match(path)
             for m in x.methods or ()}  # fmt: skip
    return ["OPTIONS", *(m for m in METHODS if m in found)] if found else []


@options_router.options("")
@options_router.options("/{path:path}")
def options(request: Request) -> Response:
    """What the server speaks (no authentication needed: it reveals versions and limits only)."""
    allow = ", ".join(allowed(request.scope["path"]) or ["OPTIONS"])
    headers = {**version_headers(), "Allow": allow, "GS1-EPCIS-Min": "2.0.0", "GS1-EPCIS-Max": "2.0.0",
               "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0", "GS1-EPC-Format": "Always_GS1_Digital_Link",
               "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_BODY)}  # fmt: skip
    return Response(status_code=204, headers=headers)


async def unserved(request: Request, exc: Exception) -> Response:
    """A path under /epcis that no route serves (404), or a method its routes do not serve (405, with
    the ones they do): a problem body.  The OPTIONS route matches every path, so the router said 405
    'Allow: OPTIONS' for unknown paths too.  Other paths get FastAPI's answer as before."""
    assert isinstance(exc, HTTPException)
    path = request.scope["path"]  # as routed (request.url drops a line break)
    if exc.status_code not in (404, 405) or not (path == "/epcis" or path.startswith("/epcis/")):
        return await http_exception_handler(request, exc)
    methods = allowed(path)
    if not methods:
        return problem(404, f"no resource {path!r} in the EPCIS 2.0 REST binding")  # GS1's 404: NoSuchName
    detail = f"{request.method} is not served at {path}; use {', '.join(methods[1:])}"
    body = {"type": "about:blank", "title": "Method Not Allowed", "status": 405, "detail": detail}  # no GS1 type
    return JSONResponse(
        body, status_code=405, media_type=PROBLEM, headers={**version_headers(), "Allow": ", ".join(methods)}
    )


def include(app: FastAPI) -> None:
    runtime = app.state.runtime
    runtime.on_start.append(lambda: notify.start_if_subscribed(runtime))
    app.add_exception_handler(HTTPException, unserved)
    for r in (options_router, *ROUTERS, queries.ws_router):
        include_router(app, r)
