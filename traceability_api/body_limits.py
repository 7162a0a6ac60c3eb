"""ASGI middleware bounding every request before any route parses it: body size (413), JSON nesting
depth and NUL characters (422), NUL in the path or query string (422), a compressed body (415:
bodies are read as sent; RFC 9110 section 15.5.16 with Accept-Encoding: identity).

JSON bodies (no content type, ``application/json`` or ``*+json``: what FastAPI parses as JSON) are
read up to the limit, scanned without recursion (traceability_api.limits) and replayed to the app.
Other bodies (multipart uploads) are streamed through a byte counter."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from traceability_api.limits import JsonTooLarge, check_json_bounds

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
MULTIPART_OVERHEAD = 64 * 1024


class TooLarge(Exception):
    pass


EPCIS_PREFIX = "/epcis"  # GS1's REST binding answers refusals as RFC 7807 problems, bad input as 400


_EPCIS_KINDS = {400: "ValidationException", 413: "CaptureLimitExceededException", 415: "UnsupportedMediaTypeException"}


async def _reply(
    send: Send, status: int, detail: str, path: str = "", extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    media = b"application/json"
    payload: dict[str, object] = {"detail": detail}
    if path == EPCIS_PREFIX or path.startswith(EPCIS_PREFIX + "/"):
        status = 400 if status == 422 else status
        kind = "epcisException:" + _EPCIS_KINDS[status]
        payload = {"type": kind, "title": kind.split(":", 1)[1], "status": status, "detail": detail}
        media = b"application/problem+json"
    body = json.dumps(payload).encode()
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/plain") or (media.startswith("application/") and media.endswith("+json"))


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, json_max_bytes: int, json_max_depth: int, upload_max_bytes: int,
        page_refusal: Callable[[Scope, int], ASGIApp | None] | None = None,
    ) -> None:  # fmt: skip
        """``page_refusal(scope, limit)``: the answer to a too-large body for a person's browser (the
        workspace's page in their language), or None for the JSON refusal."""
        self.app, self.json_max_bytes, self.json_max_depth = app, json_max_bytes, json_max_depth
        self.upload_max_bytes = upload_max_bytes + MULTIPART_OVERHEAD
        self.page_refusal = page_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            return await _reply(send, 422, "the URL must not contain the NUL character (%00)", path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return await self.app(scope, receive, send)  # no body
        coding = headers.get("content-encoding", "").strip().lower()
        if coding not in ("", "identity"):  # read as is, a gzip body failed its signature or JSON check
            detail = f"Content-Encoding {coding[:40]!r} is not accepted: send the body uncompressed"
            return await _reply(send, 415, detail, path, [(b"accept-encoding", b"identity")])
        is_json = _is_json(headers.get("content-type"))
        limit = self.json_max_bytes if is_json else self.upload_max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            shown = limit if is_json else limit - MULTIPART_OVERHEAD  # the file's own limit, as configured
            page = self.page_refusal(scope, shown) if self.page_refusal is not None else None
            if page is not None:
                return await page(scope, receive, send)
            return await _reply(
                send, 413, f"request body of {int(declared):,} bytes exceeds the limit of {limit:,}", path
            )
        if not is_json:
            return await self._streamed(scope, receive, send, limit)
        try:
            body = await self._read(receive, limit)
            if body is None:
                return  # the client went away
            if len(body) > 64 * 1024:  # a big scan off the event loop, so other requests keep going
                await run_in_threadpool(check_json_bounds, body, limit, self.json_max_depth)
            else:
                check_json_bounds(body, limit, self.json_max_depth)
        except (TooLarge, JsonTooLarge):
            return await _reply(send, 413, f"request body exceeds the limit of {limit:,} bytes", path)
        except ValueError as exc:
            return await _reply(send, 422, f"invalid request: {exc}", path)
        await self.app(scope, replay_body(body, receive), send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge()
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from starlette.exceptions import HTTPException

        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"request body exceeds the limit of {limit:,} bytes")
            return message

        await self.app(scope, counted, send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` for the app after a middleware read the whole ``body``: the body once, then
    the client's own ``receive`` (the disconnect).  Also the idempotency middleware's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as the app expects

    return replay
