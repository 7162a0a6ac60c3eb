from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from traceability_api.deps import SessionDep
from traceability_api.parties.service import Principal, authenticate

# declared as OpenAPI security schemes (the Authorize button); missing keys are refused by authenticate()
_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey", description="X-API-Key: <API key>")


def current_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    raw = x_api_key if x_api_key is not None else (bearer.credentials if bearer else None)
    principal = authenticate(session, raw)
    request.state.principal = principal  # for the write log
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
