from __future__ import annotations

from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability_api.parties.kinds import OrgKind as OrgKind
from traceability_api.parties.kinds import Role as Role
from traceability_api.timeutil import UTCDateTime, utcnow
from traceability_api.validation import check_gln

WRITE_ROLES = frozenset({Role.admin, Role.recorder})


class OrganisationBase(SQLModel):
    name: str = Field(min_length=2, max_length=200)
    kind: OrgKind
    gln: str | None = Field(default=None, description="GS1 Global Location Number of the party")
    address: str | None = Field(default=None, max_length=500)
    province: str | None = Field(default=None, max_length=100)
    public_profile: bool = Field(default=True, description="show name and address on consumer pages")
    phone: str | None = Field(
        default=None, max_length=40, regex=r"^\+?[0-9 ().-]{6,40}$",
        description="business phone (FSMA 204 location descriptions, the traceability plan's point of contact)",
    )  # fmt: skip
    contact_name: str | None = Field(default=None, max_length=200, description="traceability point of contact")


class OrganisationCreate(OrganisationBase):
    admin_name: str = Field(min_length=1, max_length=200)
    _gln = field_validator("gln")(check_gln)


class Organisation(OrganisationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class OrganisationUpdate(SQLModel):
    """An admin completes the organisation's public profile (the national record needs the address).
    Texts are stripped before their length is checked: spaces alone do not empty the address."""

    address: str | None = Field(default=None, min_length=5, max_length=500)
    province: str | None = Field(default=None, min_length=2, max_length=100)
    public_profile: bool | None = None

    @field_validator("address", "province", mode="before")
    @classmethod
    def _stripped(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v


class OrganisationPublic(OrganisationBase):
    id: int
    party_uri: str


class MemberBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class MemberCreate(MemberBase):
    pass


class Member(MemberBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MemberPublic(MemberBase):
    id: int
    org_id: int
    active: bool


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    prefix: str = Field(max_length=16, unique=True)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ApiKeyIssued(SQLModel):
    """Returned once, at creation: the secret is never shown again."""

    member: MemberPublic
    api_key: str
