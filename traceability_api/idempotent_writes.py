"""Composition of the idempotency keys (``idempotency/``): which write paths take them and who
asks (an API key's organisation, or the signed-in workspace member's).  Lives here, not in the
package, because it knows both the API keys (parties) and the workspace sessions (the top layer)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection
from starlette.types import Scope

from traceability_api.errors import DomainError
from traceability_api.idempotency.middleware import IdempotencyMiddleware, Identify
from traceability_api.parties.service import authenticate
from traceability_api.runtime import Runtime
from traceability_api.workspace.auth import signed_in
from traceability_api.workspace.web import SESSION_COOKIE

WRITE_PATHS = (
    r"/api/v1/(events|capture|lots|diary/import)",
    r"/api/v1/events/\d+/corrections",
    r"/api/v1/places/\d+/diary",
    r"/epcis/(events|capture)",
    # not /app/members: its answer is the page holding the new invitation's link, whose token is
    # stored nowhere but as its SHA-256 (a first response kept for replays would keep it in clear)
    r"/app/(diary|diary/import|harvest|ship|process|places|products)",
    r"/app/receive/\d+",
)


def identify_with(engine: Engine) -> Identify:
    def identify(scope: Scope) -> tuple[int, str] | None:
        conn = HTTPConnection(scope)
        raw = conn.headers.get("x-api-key")
        auth = conn.headers.get("authorization", "")
        if raw is None and auth.lower().startswith("bearer "):
            raw = auth[7:]
        with Session(engine) as s:
            if raw is not None:
                try:
                    p = authenticate(s, raw)
                except DomainError:
                    return None  # the route refuses the key itself
                return p.org_id, f"member:{p.member_id}"
            user = signed_in(s, conn.cookies.get(SESSION_COOKIE)) if scope["path"].startswith("/app/") else None
            if user is None:
                return None
            return user.principal.org_id, f"member:{user.principal.member_id}"

    return identify


def install(app: FastAPI, runtime: Runtime) -> None:
    app.add_middleware(
        IdempotencyMiddleware, engine=runtime.engine, ttl_h=runtime.settings.idempotency_ttl_h,
        identify=identify_with(runtime.engine), paths=WRITE_PATHS,
    )  # fmt: skip
