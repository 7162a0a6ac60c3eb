"""The EPCIS 2.0 REST binding: every ``/epcis`` router, and ``OPTIONS`` on each of its paths."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Response

from traceability_api.epcis.body import MAX_BODY
from traceability_api.epcis_rest import capture, events, notify, queries, resources
from traceability_api.epcis_rest.common import EpcisRoute, version_headers
from traceability_api.route_prefix import include as include_router

options_router = APIRouter(prefix="/epcis", route_class=EpcisRoute, include_in_schema=False)


@options_router.options("")
@options_router.options("/{path:path}")
def options(path: str = "") -> Response:
    """What the server speaks (no authentication needed: it reveals versions and limits only)."""
    allow = "OPTIONS, GET, HEAD"
    if path in ("capture", "events", "queries") or path.endswith("/subscriptions"):
        allow += ", POST"
    if path.startswith("queries/") and path.count("/") in (1, 3):
        allow += ", DELETE"
    headers = {**version_headers(), "Allow": allow, "GS1-EPCIS-Min": "2.0.0", "GS1-EPCIS-Max": "2.0.0",
               "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0", "GS1-EPC-Format": "Always_GS1_Digital_Link",
               "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_BODY)}  # fmt: skip
    return Response(status_code=204, headers=headers)


def include(app: FastAPI) -> None:
    runtime = app.state.runtime
    runtime.on_start.append(lambda: notify.start_if_subscribed(runtime))
    for r in (options_router, capture.router, resources.router, events.router, queries.router, queries.ws_router):
        include_router(app, r)
