"""Sign-in for people: Argon2id password hashes (argon2-cffi), lock-out after repeated failures,
server-side sessions (the cookie holds a random id; the table holds its SHA-256, a CSRF token and
an expiry).  A new session id is issued at every sign-in (no fixation) and sign-out deletes it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, case, delete, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.db import insert_ignore
from traceability_api.outbox import add_write_request, take_write_requests
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.models import Member, Organisation
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow
from traceability_api.workspace.models import SignInFailure, WorkspaceLogin, WorkspaceSession

_hasher = PasswordHasher()  # Argon2id with the library's RFC 9106 "low memory" defaults


@lru_cache(maxsize=1)
def _dummy() -> str:
    """A hash to verify against for unknown usernames (equal work), made on first use: hashing at
    import cost every command and worker start ~0.3 s."""
    return _hasher.hash("not a password of anyone")


USERNAME_RE = r"^[a-z0-9._-]{3,64}$"
MIN_PASSWORD = 8


class SignInFailed(Exception):
    """Wrong username or password, or the sign-in is locked (``locked`` says which)."""

    def __init__(self, locked: bool = False) -> None:
        super().__init__("locked" if locked else "wrong username or password")
        self.locked = locked


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    username: str
    org_name: str
    csrf: str


def hash_password(password: str) -> str:
    return _hasher.hash(unicodedata.normalize("NFC", password))


def _spellings(password: str) -> list[str]:
    """A password as it is kept (NFC), then its other forms.  Vietnamese letters come precomposed
    from a phone (NFC) and combining from a PC keyboard in Unikey's "Unicode tổ hợp" (NFD): the same
    password typed on the other was "Sai tên đăng nhập hoặc mật khẩu."  Hashes made before passwords
    were kept NFC may hold either form, whichever was typed: tried after, then rehashed NFC."""
    forms = (unicodedata.normalize("NFC", password), password, unicodedata.normalize("NFD", password))
    return list(dict.fromkeys(forms))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _equal_work(password: str) -> None:
    """The Argon2 verifications every refusal costs (each spelling against a hash none matches),
    so that timing tells no username apart."""
    _verify(_dummy(), password)


def _verify(password_hash: str, password: str) -> str | None:
    """The spelling of ``password`` that ``password_hash`` verifies, or None."""
    for spelling in _spellings(password):
        try:
            _hasher.verify(password_hash, spelling)
            return spelling
        except (VerificationError, InvalidHashError):
            continue
    return None


UNKNOWN_NAMES_KEPT = 10_000  # usernames nobody has, with their failures (least recently tried forgotten first)


def _unknown_failure(session: Session, settings: Settings, name: str) -> bool:
    """Count a failure for a username nobody has exactly as a login row counts it, in the
    database, and say whether it is now locked: the 'locked' answer came only for existing
    usernames, so five tries told an attacker which usernames exist.  Kept per process before,
    a run of tries spread over the workers (or across a restart) still told them apart."""
    t = SignInFailure.__table__  # type: ignore[attr-defined]
    now = utcnow()
    key = hashlib.sha256(name.encode()).hexdigest()
    if insert_ignore(session, SignInFailure, [{"name_hash": key, "failed_count": 0, "last_at": now}]):
        newest = sa_select(t.c.last_at).order_by(t.c.last_at.desc()).offset(UNKNOWN_NAMES_KEPT).limit(1)
        session.connection().execute(delete(t).where(t.c.last_at <= newest.scalar_subquery()))
    place = _take_attempt(session, settings, t, t.c.name_hash == key, last_at=now)
    return place is None or place >= settings.workspace_lockout_failures


def _take_attempt(session: Session, settings: Settings, t: Any, row: Any, **also: Any) -> int | None:
    """Count this attempt before its password is checked, in one UPDATE of the ``row`` of table
    ``t`` (failed_count, locked_until), and commit: its place in the run of failures, or None
    while the sign-in is locked.  The attempt that reaches ``workspace_lockout_failures`` sets the
    lock in the same statement (a right password lifts it).  Read in Python, incremented and
    written back after the Argon2 check, the count let every request in flight at once have its
    guess checked: they all read the same count."""
    now = utcnow()
    lock_expired = t.c.locked_until.is_not(None)  # the WHERE leaves only an expired lock here
    place = case((lock_expired, 1), else_=t.c.failed_count + 1)
    until = now + timedelta(minutes=settings.workspace_lockout_minutes)
    statement = (
        update(t)
        .where(row, or_(t.c.locked_until.is_(None), t.c.locked_until <= now))
        .values(failed_count=place,
                locked_until=case((place >= settings.workspace_lockout_failures, until), else_=None), **also)
        .returning(t.c.failed_count)
    )  # fmt: skip
    taken = session.connection().execute(statement).scalar()
    if taken is None:  # locked: nothing was written (and a commit would log the request as a write)
        session.rollback()
    else:  # the count is no write of the member's: the request is logged only if it signs in (each
        pending = take_write_requests(session.info)  # guess was an anchored "POST /app/login 200")
        session.commit()
        for request in pending:
            add_write_request(session.info, request)
    return taken


def check_password(session: Session, settings: Settings, username: str, password: str) -> WorkspaceLogin:
    """The login row if the password is right and the sign-in not locked; counts failures and
    locks for ``workspace_lockout_minutes`` after ``workspace_lockout_failures`` in a row (an
    unknown username alike, with the same work: no answer says whether a username exists)."""
    name = username.strip().lower()
    login = None
    # a name as accept_invite makes them, or an unknown one (with NUL, PostgreSQL refused the query)
    if re.fullmatch(USERNAME_RE, name):
        login = session.exec(select(WorkspaceLogin).where(WorkspaceLogin.username == name)).first()
    if login is None:
        _equal_work(password)
        raise SignInFailed(locked=_unknown_failure(session, settings, name))
    t = WorkspaceLogin.__table__  # type: ignore[attr-defined]
    place = _take_attempt(session, settings, t, t.c.id == login.id)
    if place is None:
        _equal_work(password)
        raise SignInFailed(locked=True)
    spelling = _verify(login.password_hash, password)
    if spelling is None:
        raise SignInFailed(locked=place >= settings.workspace_lockout_failures)
    member = session.get(Member, login.member_id)
    if member is None or not member.active:
        raise SignInFailed()
    values: dict[str, Any] = {"failed_count": 0, "locked_until": None}
    if _hasher.check_needs_rehash(login.password_hash) or spelling != unicodedata.normalize("NFC", password):
        values["password_hash"] = hash_password(password)
    session.exec(update(WorkspaceLogin).where(WorkspaceLogin.id == login.id).values(**values))  # type: ignore[call-overload, arg-type]
    return login


def start_session(session: Session, settings: Settings, member_id: int, old_token: str | None) -> str:
    """A fresh session id for the member (the one the browser came with is deleted: no fixation)."""
    if old_token:
        end_session(session, old_token)
    token = secrets.token_urlsafe(32)
    session.add(
        WorkspaceSession(
            token_hash=token_hash(token), member_id=member_id, csrf=secrets.token_urlsafe(24),
            expires_at=utcnow() + timedelta(hours=settings.workspace_session_hours),
        )
    )  # fmt: skip
    session.exec(delete(WorkspaceSession).where(WorkspaceSession.expires_at < utcnow()))  # type: ignore[call-overload, arg-type]
    session.commit()
    return token


def end_session(session: Session, token: str) -> None:
    session.exec(delete(WorkspaceSession).where(WorkspaceSession.token_hash == token_hash(token)))  # type: ignore[call-overload, arg-type]


@lru_cache(maxsize=1)
def _session_statement() -> Any:
    """Built once (every page runs it; building a statement costs more than running it)."""
    return (
        sa_select(WorkspaceSession.expires_at, WorkspaceSession.csrf, Member.id, Member.name, Member.role,  # type: ignore[call-overload]
                  Member.active, Organisation.id, Organisation.kind, Organisation.name, WorkspaceLogin.username)
        .join(Member, Member.id == WorkspaceSession.member_id)
        .join(Organisation, Organisation.id == Member.org_id)
        .join(WorkspaceLogin, WorkspaceLogin.member_id == Member.id)
        .where(WorkspaceSession.token_hash == bindparam("token_hash"))
    )  # fmt: skip


def signed_in(session: Session, token: str | None) -> SignedIn | None:
    """Who holds this session id, if it is live and the member still active (every page asks:
    one query of plain columns, run as Core, no ORM objects)."""
    if not token or len(token) > 100:
        return None
    row = session.connection().execute(_session_statement(), {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    expires_at, csrf, member_id, name, role, active, org_id, kind, org_name, username = row
    if expires_at <= utcnow() or not active:
        return None
    principal = Principal(member_id, name, Role(role), org_id, OrgKind(kind))
    return SignedIn(principal, username, org_name, csrf)


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time equality; compared as UTF-8 bytes: ``compare_digest`` raises TypeError on a str
    holding any non-ASCII character (a forged token "é" answered 500)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())
