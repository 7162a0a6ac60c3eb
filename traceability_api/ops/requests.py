"""Every request gets an id (the client's ``X-Request-ID`` when it is sane, else a new one),
echoed in the response and carried by every log line of the request; its route template,
status and duration feed the request metrics.  The response says how long the server took until
it started answering (``Server-Timing: app;dur=<ms>``, W3C Server Timing: shown by browsers'
developer tools, read by the benchmarks as the server's own latency, without the client's).
A pure ASGI middleware: it neither buffers nor wraps bodies, so streaming responses and WebSockets pass untouched."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability_api.ops.logs import request_id
from traceability_api.ops.metrics import observe_request

HEADER = b"x-request-id"
TIMING = b"server-timing"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # no spaces, quotes or control characters in our logs


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = bytes(value).decode("latin-1")
            if _SANE.match(text):
                return text
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The matched route's template (``/api/v1/lots/{lot_id}``), never the raw path: bounded labels."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        status = 500  # what the client sees if the app fails before answering
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                took = f"app;dur={(time.perf_counter() - start) * 1000:.1f}".encode()
                message = {**message, "headers": [*message.get("headers", ()), (HEADER, rid.encode()), (TIMING, took)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            observe_request(scope["method"], route_of(scope), status, time.perf_counter() - start)
            request_id.reset(token)
