"""What a request asks, as one SHA-256: method, path, query, who asks, and the body read for its
meaning (JSON re-serialised with sorted keys; a form's fields sorted, each file by its own
SHA-256), so a form re-sent by a phone with a new multipart boundary or a new CSRF token is the
same request, and a changed value is a different one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Scope

IGNORED_FIELDS = frozenset({"csrf", "idempotency_key"})


async def request_hash(scope: Scope, body: bytes, actor: str) -> str:
    h = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), actor):
        h.update(part.encode() + b"\x00")
    h.update(await _meaning(scope, body))
    return h.hexdigest()


async def form_key(scope: Scope, body: bytes) -> str | None:
    """The ``idempotency_key`` field of a form (forms posted without JavaScript carry it there)."""
    form = await _form(scope, body)
    value = form.get("idempotency_key") if form is not None else None
    return value if isinstance(value, str) else None


async def _meaning(scope: Scope, body: bytes) -> bytes:
    ctype = _content_type(scope)
    if ctype.startswith("application/json") or ctype.endswith("+json"):
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except (ValueError, RecursionError):
            return body
    form = await _form(scope, body)
    if form is None:
        return body
    items: list[tuple[str, str]] = []
    for name, value in form.multi_items():
        if name in IGNORED_FIELDS:
            continue
        if isinstance(value, UploadFile):
            data = await value.read()
            items.append((name, "file:" + hashlib.sha256(data).hexdigest() if data else ""))
        else:
            items.append((name, value))
    return json.dumps(sorted(items), ensure_ascii=False).encode()


def _content_type(scope: Scope) -> str:
    for k, v in scope.get("headers", []):
        if k == b"content-type":
            return str(v.decode("latin-1").lower())
    return ""


async def _form(scope: Scope, body: bytes) -> Any:
    ctype = _content_type(scope)
    if not (ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded")):
        return None
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(scope, receive).form()
    except Exception:  # noqa: BLE001 - an unreadable form is hashed as bytes; the route refuses it itself
        return None
