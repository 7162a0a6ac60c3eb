from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from traceability_api.deps import SessionDep
from traceability_api.parties.service import Principal, authenticate


def current_principal(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    raw = x_api_key
    if raw is None and authorization and authorization.lower().startswith("bearer "):
        raw = authorization[7:]
    principal = authenticate(session, raw)
    request.state.principal = principal  # for the write log
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
