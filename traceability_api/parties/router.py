from __future__ import annotations

from fastapi import APIRouter, status
from sqlmodel import select

from traceability_api.deps import SessionDep
from traceability_api.errors import Forbidden
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.models import (
    ApiKeyIssued,
    Member,
    MemberCreate,
    MemberPublic,
    Organisation,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
)
from traceability_api.parties.service import (
    create_member,
    create_organisation,
    deactivate_member,
    get_org,
    party_uri,
    update_org,
)
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["parties"])


def _public(org: Organisation) -> OrganisationPublic:
    return OrganisationPublic.model_validate(org.model_dump() | {"party_uri": party_uri(org)})


@router.post("/organisations", status_code=status.HTTP_201_CREATED, response_model=dict)
def create_org(data: OrganisationCreate, p: PrincipalDep, session: SessionDep) -> dict[str, object]:
    """An authority admin registers an organisation; the response holds its admin's API key (shown once)."""
    if not p.is_authority:
        raise Forbidden("only a market authority may register organisations")
    p.require_admin()
    org, issued = create_organisation(session, data)
    session.commit()
    return {"organisation": _public(org).model_dump(), "admin": issued.model_dump()}


@router.get("/organisations/me", response_model=OrganisationPublic)
def my_org(p: PrincipalDep, session: SessionDep) -> OrganisationPublic:
    return _public(get_org(session, p.org_id))


@router.patch("/organisations/me", response_model=OrganisationPublic)
def change_my_org(data: OrganisationUpdate, p: PrincipalDep, session: SessionDep) -> OrganisationPublic:
    """An admin sets the organisation's address (required for public national records) or profile."""
    org = update_org(session, p, data)
    session.commit()
    return _public(org)


@router.get("/organisations", response_model=list[OrganisationPublic])
def list_orgs(p: PrincipalDep, session: SessionDep) -> list[OrganisationPublic]:
    """All organisations (names and party identifiers are needed to address shipments)."""
    return [_public(o) for o in session.exec(select(Organisation).order_by(Organisation.id)).all()]  # type: ignore[arg-type]


@router.post("/members", status_code=status.HTTP_201_CREATED, response_model=ApiKeyIssued)
def add_member(data: MemberCreate, p: PrincipalDep, session: SessionDep) -> ApiKeyIssued:
    """An organisation admin adds a member; the API key is returned once and stored hashed."""
    p.require_admin()
    issued = create_member(session, p.org_id, data)
    session.commit()
    return issued


@router.get("/members", response_model=list[MemberPublic])
def list_members(p: PrincipalDep, session: SessionDep) -> list[MemberPublic]:
    rows = session.exec(select(Member).where(Member.org_id == p.org_id).order_by(Member.id)).all()  # type: ignore[arg-type]
    return [MemberPublic.model_validate(m, from_attributes=True) for m in rows]


@router.delete("/members/{member_id}/keys", response_model=dict)
def revoke_member(member_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, int]:
    """Deactivate a member of your organisation (not yourself) and revoke all of their keys."""
    n = deactivate_member(session, p, member_id)
    session.commit()
    return {"revoked": n}
