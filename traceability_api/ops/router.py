"""``GET /metrics``: the Prometheus text exposition, for loopback clients, or for anyone with
``Authorization: Bearer <AGRITRACE_METRICS_TOKEN>`` when that setting is given, then from
every client (behind a reverse proxy every client looks local to us: see docs/deploy.md)."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST

from traceability_api.deps import RuntimeDep
from traceability_api.errors import Forbidden
from traceability_api.ops.metrics import exposition

router = APIRouter(tags=["operations"])


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "testclient"  # starlette's TestClient


@router.get("/metrics", summary="Prometheus metrics (loopback, or a bearer token)", include_in_schema=False)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    token = runtime.settings.metrics_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token is not None:  # then required of everyone: behind a local reverse proxy all clients are loopback
        allowed = hmac.compare_digest(given.encode(), token.get_secret_value().encode())
    else:
        allowed = _loopback(request)
    if not allowed:
        raise Forbidden("metrics are served to loopback clients or with AGRITRACE_METRICS_TOKEN")
    body = await run_in_threadpool(exposition, runtime)  # database reads: not on the event loop
    return Response(body, media_type=CONTENT_TYPE_LATEST)
