"""Rate limits (the ``limits`` library, in-memory by default, any of its storages by URL):

- public endpoints (resolver ``/01/...``, consumer pages, embed, badge, oEmbed, proof bundles, open data):
  ``AGRITRACE_RATE_PUBLIC`` per client address;
- failed authentication: every 401 answered to a client counts against ``AGRITRACE_RATE_AUTH_FAILURES``;
  once spent, that client's requests carrying credentials get 429 until the window moves on.

Both answer 429 with ``Retry-After`` (seconds)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
PUBLIC_PREFIXES = ("/01/", "/embed/", "/badge/", "/oembed", "/api/v1/proofs/", "/opendata")
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key", b"x-device-signature")
PASSWORD_FORMS = ("/app/login",)  # the workspace's sign-in form carries credentials too (password spraying)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, public: str, auth_failures: str, storage_url: str) -> None:
        self.app = app
        self.public: RateLimitItem = parse(public)
        self.auth_failures: RateLimitItem = parse(auth_failures)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown", 0))[0]
        path: str = scope.get("path", "")
        if path.startswith(PUBLIC_PREFIXES) and not self.limiter.hit(self.public, "public", client):
            return await self._too_many(send, self.public, "public", client)
        credentials = any(k.lower() in CREDENTIAL_HEADERS for k, _ in scope.get("headers", []))
        credentials = credentials or (path in PASSWORD_FORMS and scope.get("method") == "POST")
        if credentials and not self.limiter.test(self.auth_failures, "auth", client):
            return await self._too_many(send, self.auth_failures, "auth", client, "failed authentications")

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.limiter.hit(self.auth_failures, "auth", client)
            await send(message)

        await self.app(scope, receive, watch)

    async def _too_many(self, send: Send, item: RateLimitItem, *key: str) -> None:
        what = key[2] if len(key) > 2 else "requests"
        reset = self.limiter.get_window_stats(item, *key[:2]).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        detail = f"too many {what}: at most {item} from one client; retry after {retry} s"
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"retry-after", str(retry).encode()),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
