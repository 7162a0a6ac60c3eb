from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from traceability_api.deps import SessionDep
from traceability_api.parties.deps import PrincipalDep
from traceability_api.privacy.grants import GrantCreate, create_grant, grant_json, grants_of, revoke_grant
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["privacy"])


@router.post("/grants", status_code=status.HTTP_201_CREATED, summary="Share a lot's records with an organisation")
def add_grant(data: GrantCreate, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """Until ``expires_at`` the grantee reads your records of the lot, non-public ones included;
    each such read is in the audit log (``/api/v1/audit-log``, method GET).  409 while a grant of
    yours for the same lot and grantee is live: revoke it to share again with another end."""
    grant = create_grant(session, p, data)
    session.commit()
    return grant_json(grant)


@router.get("/grants", summary="Grants your organisation gave or holds")
def list_grants(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    return [grant_json(g) for g in grants_of(session, p)]


@router.delete("/grants/{grant_id}", summary="Revoke a grant your organisation gave")
def delete_grant(grant_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    grant = revoke_grant(session, p, grant_id)
    session.commit()
    return grant_json(grant)
