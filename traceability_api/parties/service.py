"""Organisations, members and API keys.  Keys are random 256-bit secrets; only their SHA-256
is stored (a slow KDF adds nothing for secrets of that entropy), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from traceability_api.db import lock_for_write
from traceability_api.errors import ApiKeyRefused, Conflict, Forbidden, Invalid, NotFound
from traceability_api.parties.models import (
    WRITE_ROLES,
    ApiKey,
    ApiKeyIssued,
    Member,
    MemberCreate,
    MemberPublic,
    Organisation,
    OrganisationCreate,
    OrganisationUpdate,
    OrgKind,
    Role,
)
from traceability_api.timeutil import utcnow

KEY_PREFIX = "agt"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a member of an organisation, with a role."""

    member_id: int
    member_name: str
    role: Role
    org_id: int
    org_kind: OrgKind

    @property
    def is_authority(self) -> bool:
        return self.org_kind == OrgKind.authority

    @property
    def reads_everything(self) -> bool:
        """Reading across organisations is for members of authority organisations only; an
        auditor of a cooperative (or any other organisation) audits that organisation alone."""
        return self.is_authority

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    def require_write(self) -> None:
        if not self.can_write:
            raise Forbidden(f"role {self.role.value!r} may not write; admin or recorder required")

    def require_admin(self) -> None:
        if self.role != Role.admin:
            raise Forbidden("only an organisation admin may do this")


class Owned(Protocol):
    org_id: int


RowT = TypeVar("RowT", bound=Owned)


def readable(p: Principal, row: RowT | None, missing: str) -> RowT:
    """``row`` if ``p`` may read it (its own organisation's, or ``p`` reads everything); else
    NotFound(``missing``), the same answer as when there is no such row (no hint that it exists)."""
    if row is None or (row.org_id != p.org_id and not p.reads_everything):
        raise NotFound(missing)
    return row


def party_uri(org: Organisation) -> str:
    return f"https://id.gs1.org/417/{org.gln}" if org.gln else f"urn:agritrace:party:{org.id}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(session: Session, member: Member) -> str:
    assert member.id is not None
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKey(member_id=member.id, prefix=prefix, secret_hash=_hash(secret)))
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def create_organisation(session: Session, data: OrganisationCreate) -> tuple[Organisation, ApiKeyIssued]:
    """A GLN is an organisation's party identifier (``party_uri``): shipments, owners and the key
    registry find the organisation by it, so two organisations may not share one."""
    if data.gln is not None:
        holder = session.exec(select(Organisation).where(Organisation.gln == data.gln)).first()
        if holder is not None:
            raise Conflict(
                f"GLN {data.gln} is already the party identifier of organisation {holder.id} ({holder.name})"
            )
    org = Organisation.model_validate(data.model_dump(exclude={"admin_name"}))
    session.add(org)
    session.flush()
    assert org.id is not None
    admin = Member(org_id=org.id, name=data.admin_name, role=Role.admin)
    session.add(admin)
    session.flush()
    key = issue_key(session, admin)
    return org, ApiKeyIssued(member=MemberPublic.model_validate(admin, from_attributes=True), api_key=key)


def create_member(session: Session, org_id: int, data: MemberCreate) -> ApiKeyIssued:
    member = Member(org_id=org_id, name=data.name, role=data.role)
    session.add(member)
    session.flush()
    key = issue_key(session, member)
    return ApiKeyIssued(member=MemberPublic.model_validate(member, from_attributes=True), api_key=key)


def revoke_keys_of(session: Session, member: Member) -> int:
    keys = session.exec(select(ApiKey).where(ApiKey.member_id == member.id, ApiKey.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    for k in keys:
        k.revoked_at = utcnow()
        session.add(k)
    member.active = False
    session.add(member)
    return len(keys)


def deactivate_member(session: Session, p: Principal, member_id: int) -> int:
    """An admin deactivates a member of their own organisation and revokes their keys (the number
    revoked); not themselves: an organisation keeps the admin doing it (the last admin signing
    themselves out left an organisation nobody could administer again)."""
    _still_admin(session, p)
    member = session.get(Member, member_id)
    if member is None or member.org_id != p.org_id:
        raise NotFound(f"member {member_id} not found in your organisation")
    if member.id == p.member_id:
        raise Forbidden("an admin may not deactivate themselves; another admin of the organisation may")
    return revoke_keys_of(session, member)


def _still_admin(session: Session, p: Principal) -> None:
    """The caller is an active admin now, read under the write lock with the organisation's admins
    (locked in one order: two such changes wait for each other instead of deadlocking).  ``p`` was
    read when the request was authenticated: two admins demoting (or deactivating) each other at
    the same moment both passed, and the organisation was left without an admin."""
    p.require_admin()
    lock_for_write(session)
    admins = session.exec(
        select(Member.id)
        .where(Member.org_id == p.org_id, Member.role == Role.admin, Member.active)
        .order_by(Member.id)  # type: ignore[arg-type]
        .with_for_update()
    ).all()
    if p.member_id not in admins:
        raise Forbidden("only an organisation admin may do this (your admin role or membership has just ended)")


def authenticate(session: Session, raw_key: str | None) -> Principal:
    """One indexed lookup per request, no cache: a key revoked (or a member deactivated) through
    any worker is refused by every worker from the next request on."""
    if not raw_key:
        raise ApiKeyRefused("missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    parts = raw_key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise ApiKeyRefused("malformed API key")
    _, prefix, secret = parts
    digest = _hash(secret)
    row = session.connection().execute(_key_lookup(), {"prefix": prefix}).first()  # plain columns, no ORM objects
    if row is None:
        raise ApiKeyRefused("unknown API key")
    secret_hash, revoked_at, active, member_id, name, role, org_id, kind = row
    if revoked_at is not None or not active or not hmac.compare_digest(secret_hash, digest):
        raise ApiKeyRefused("invalid or revoked API key")
    return Principal(member_id, name, Role(role), org_id, OrgKind(kind))


@lru_cache(maxsize=1)
def _key_lookup() -> Any:
    """The key's hash and state with its member and organisation: a Core query over the table
    columns (no ORM compile step per request), built once."""
    key, member, org = (m.__table__ for m in (ApiKey, Member, Organisation))  # type: ignore[union-attr]
    return (
        sa_select(
            key.c.secret_hash, key.c.revoked_at, member.c.active, member.c.id, member.c.name, member.c.role,
            org.c.id, org.c.kind,
        )
        .select_from(key.join(member, member.c.id == key.c.member_id).join(org, org.c.id == member.c.org_id))
        .where(key.c.prefix == bindparam("prefix"))
    )  # fmt: skip


def get_org(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


def set_role(session: Session, p: Principal, member_id: int, role: Role) -> Member:
    """An admin changes the role of a member of their own organisation (not their own: an
    organisation keeps the admin who is changing roles)."""
    _still_admin(session, p)
    member = session.get(Member, member_id)
    if member is None or member.org_id != p.org_id:
        raise NotFound(f"member {member_id} not found in your organisation")
    if member.id == p.member_id and role != Role.admin:
        raise Forbidden("an admin may not take away their own admin role")
    member.role = role
    session.add(member)
    return member


def update_org(session: Session, p: Principal, data: OrganisationUpdate) -> Organisation:
    p.require_admin()
    org = get_org(session, p.org_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None and key != "province":
            raise Invalid(f"{key} cannot be emptied")
        setattr(org, key, value.strip() if isinstance(value, str) else value)
    session.add(org)
    session.flush()
    return org
