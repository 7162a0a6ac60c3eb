from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from traceability_api.deps import SessionDep
from traceability_api.parties.service import Principal, authenticate

# declared as OpenAPI security schemes (the Authorize button); missing keys are refused by authenticate()
_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey", description="X-API-Key: <API key>")


async def presented_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Depends(_api_key)],
) -> str | None:
    """The API key the request presents (X-API-Key, else Authorization: Bearer), not yet checked.
    Async: reading headers costs no hop to a worker thread."""
    return x_api_key if x_api_key is not None else (bearer.credentials if bearer else None)


PresentedKey = Annotated[str | None, Depends(presented_key)]


def principal_of(request: Request, session: Session, raw: str | None) -> Principal:
    """Who the key belongs to (refused if none, unknown or revoked), noted for the write log.  A
    sync endpoint on a hot path calls it in its own worker thread, not as a dependency of its own
    (each sync dependency is one more hop to a worker thread and back)."""
    principal = authenticate(session, raw)
    request.state.principal = principal  # for the write log
    return principal


def current_principal(request: Request, session: SessionDep, raw: PresentedKey) -> Principal:
    return principal_of(request, session, raw)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
