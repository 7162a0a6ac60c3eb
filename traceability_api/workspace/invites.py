"""One-time invitation links: an admin invites a person with a role (or ``agritrace create-org``
invites its first admin); the link holds a random token (only its SHA-256 is stored), expires,
and works once: accepting it creates the member (if new) and their username and password."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.errors import Conflict, Invalid, NotFound
from traceability_api.parties.kinds import Role
from traceability_api.parties.models import Member
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow
from traceability_api.workspace.auth import MIN_PASSWORD, USERNAME_RE, hash_password, token_hash
from traceability_api.workspace.models import WorkspaceInvite, WorkspaceLogin


def invite_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/app/invite/{token}"


def create_invite(
    session: Session, settings: Settings, org_id: int, name: str, role: Role, member_id: int | None = None,
    issued_by: int | None = None,
) -> str:  # fmt: skip
    """The token of a new invitation (shown once, as a link)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("name must be 1-200 characters")
    token = secrets.token_urlsafe(24)
    session.add(
        WorkspaceInvite(
            token_hash=token_hash(token), org_id=org_id, name=name, role=role.value, member_id=member_id,
            issued_by=issued_by, expires_at=utcnow() + timedelta(hours=settings.workspace_invite_hours),
        )
    )  # fmt: skip
    session.flush()
    return token


def invite_by_admin(session: Session, settings: Settings, p: Principal, name: str, role: str) -> str:
    p.require_admin()
    try:
        r = Role(role)
    except ValueError:
        raise Invalid(f"unknown role {role!r}") from None
    return create_invite(session, settings, p.org_id, name, r, issued_by=p.member_id)


def open_invite(session: Session, token: str) -> WorkspaceInvite:
    """The invitation if it is live; NotFound for unknown, used or expired ones (one message: a
    guess learns nothing)."""
    if not token or len(token) > 100:
        raise NotFound("invitation not found, used or expired")
    inv = session.exec(select(WorkspaceInvite).where(WorkspaceInvite.token_hash == token_hash(token))).first()
    if inv is None or inv.used_at is not None or inv.expires_at <= utcnow() or not _issuer_is_admin(session, inv):
        raise NotFound("invitation not found, used or expired")
    return inv


def _issuer_is_admin(session: Session, inv: WorkspaceInvite) -> bool:
    """An admin demoted or deactivated since issuing it (someone who left the organisation) takes
    their invitations with them: they no longer make members."""
    if inv.issued_by is None:
        return True
    issuer = session.get(Member, inv.issued_by)
    return issuer is not None and issuer.active and issuer.org_id == inv.org_id and issuer.role == Role.admin


def accept_invite(session: Session, token: str, username: str, password: str) -> int:
    """Creates the sign-in (and the member) and marks the invitation used; returns the member id.
    The used mark is a conditional update, so two tabs racing on one link make one account."""
    inv = open_invite(session, token)
    username = username.strip().lower()
    if not re.fullmatch(USERNAME_RE, username):
        raise Invalid("username: 3-64 lower-case letters, digits and . _ -", details={"field": "username"})
    if len(password) < MIN_PASSWORD or len(password) > 200:
        raise Invalid(f"password: {MIN_PASSWORD}-200 characters", details={"field": "password"})
    if session.exec(select(WorkspaceLogin).where(WorkspaceLogin.username == username)).first() is not None:
        raise Conflict("username already taken", details={"field": "username"})
    claimed = session.exec(
        update(WorkspaceInvite)  # type: ignore[call-overload]
        .where(WorkspaceInvite.id == inv.id, WorkspaceInvite.used_at.is_(None))  # type: ignore[union-attr, arg-type]
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise NotFound("invitation not found, used or expired")
    member_id = inv.member_id
    if member_id is None:
        member = Member(org_id=inv.org_id, name=inv.name, role=Role(inv.role))
        session.add(member)
        session.flush()
        member_id = member.id
    assert member_id is not None
    if session.exec(select(WorkspaceLogin).where(WorkspaceLogin.member_id == member_id)).first() is not None:
        raise Conflict("this member already has a sign-in")
    session.add(WorkspaceLogin(member_id=member_id, username=username, password_hash=hash_password(password)))
    try:
        session.commit()
    except IntegrityError:  # the same username taken by a concurrent sign-up
        session.rollback()
        raise Conflict("username already taken", details={"field": "username"}) from None
    return member_id
