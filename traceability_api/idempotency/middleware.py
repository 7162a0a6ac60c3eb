"""``IdempotencyMiddleware``: for a POST to a write path carrying an ``Idempotency-Key`` header (or
an ``idempotency_key`` form field) from a known organisation, run the request once per key and
answer replays with the stored first response (header ``Idempotent-Replayed: true``); a key reused
for a different request gets 422, a key whose first request is still running 409 (Retry-After).

Who asks is found by ``identify`` (passed in by the composition: API key or workspace session),
so this package imports no domain.  Responses that say nothing about the request itself (5xx,
401/403 credential and CSRF refusals, 409, 429) are not stored: a retry runs the request again."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

import anyio
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability_api.body_limits import replay_body
from traceability_api.idempotency import service
from traceability_api.idempotency.fingerprint import form_key, request_hash

Identify = Callable[[Scope], "tuple[int, str] | None"]  # (organisation id, actor) of a request, or None
KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as the events route has always taken
NOT_STORED = frozenset({401, 403, 409, 429})
MAX_STORED_BYTES = 256 * 1024


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, ttl_h: float, identify: Identify,
                 paths: Sequence[str]) -> None:  # fmt: skip
        self.app, self.engine, self.identify = app, engine, identify
        self.ttl = timedelta(hours=ttl_h)
        self.paths = re.compile("|".join(f"(?:{p})" for p in paths))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.paths.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = replay_body(body, receive)
        key = _header(scope, b"idempotency-key") or await form_key(scope, body)
        who = await anyio.to_thread.run_sync(self.identify, scope) if key is not None else None
        if key is None or who is None:
            await self.app(scope, replay, send)
            return
        if not KEY_RE.fullmatch(key):
            await _json(send, 400, "Idempotency-Key: 1 to 200 visible ASCII characters")
            return
        digest = await request_hash(scope, body, who[1])
        outcome = await anyio.to_thread.run_sync(service.begin, self.engine, who[0], key, digest, self.ttl)
        if isinstance(outcome, service.Replay):
            await _replay(send, outcome)
        elif isinstance(outcome, service.Mismatch):
            await _json(send, 422, "this Idempotency-Key was already used for a different request")
        elif isinstance(outcome, service.InProgress):
            await _json(send, 409, "a request with this Idempotency-Key is still running; retry", retry=True)
        else:
            await self._run(scope, replay, send, outcome.row_id)

    async def _run(self, scope: Scope, receive: Receive, send: Send, row_id: int) -> None:
        status, ctype, location, chunks, size = 500, None, None, [], 0

        async def capture(message: Message) -> None:
            nonlocal status, ctype, location, size
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))
                ctype = _text(headers.get(b"content-type"))
                location = _text(headers.get(b"location"))
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_STORED_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await anyio.to_thread.run_sync(service.abandon, self.engine, row_id)
            raise
        if status >= 500 or status in NOT_STORED or size > MAX_STORED_BYTES:
            await anyio.to_thread.run_sync(service.abandon, self.engine, row_id)
        else:
            body = b"".join(chunks)
            await anyio.to_thread.run_sync(service.finish, self.engine, row_id, status, ctype, location, body)


async def _read_body(receive: Receive) -> bytes:
    """The whole body (already bounded by the body-limit middleware outside this one)."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return str(v.decode("latin-1")).strip()
    return None


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1")[:2000] if value is not None else None


async def _replay(send: Send, r: service.Replay) -> None:
    headers = [(b"content-length", str(len(r.body)).encode()), (b"idempotent-replayed", b"true"),
               (b"cache-control", b"no-store")]  # fmt: skip
    if r.content_type:
        headers.append((b"content-type", r.content_type.encode("latin-1")))
    if r.location:
        headers.append((b"location", r.location.encode("latin-1")))
    await send({"type": "http.response.start", "status": r.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": r.body})


async def _json(send: Send, status: int, detail: str, retry: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
