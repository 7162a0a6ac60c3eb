"""Workspace sign-in security: CSRF, session fixation, other organisations' pages, sign-out,
lock-out, one-time and expiring invitations."""

from __future__ import annotations

import re
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import auth
from tests.workspace_helpers import PASSWORD, accept, csrf_of, invited_member, make_org, member_client, sign_in
from traceability_api.authority.models import WriteLogEntry
from traceability_api.idempotency.models import IdempotentRequest
from traceability_api.parties.kinds import Role
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.workspace import auth as ws_auth
from traceability_api.workspace.invites import create_invite
from traceability_api.workspace.models import WorkspaceInvite, WorkspaceLogin


def test_pages_need_a_session_and_forms_need_the_csrf_token(app_client: TestClient, runtime: Runtime) -> None:
    r = app_client.get("/app/diary", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/app/login?next=/app/diary"
    member_client(app_client, runtime, "HTX A", "admin.a")
    page = app_client.get("/app")
    assert page.status_code == 200 and 'lang="vi"' in page.text and "HTX A" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    cookie = next(c for c in app_client.cookies.jar if c.name == "agt_ws")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/app"
    # a form post without (or with a wrong) token is refused and changes nothing
    for data in ({}, {"csrf": "forged"}):
        r = app_client.post("/app/logout", data=data, follow_redirects=False)
        assert r.status_code == 403, r.text
    assert app_client.get("/app", follow_redirects=False).status_code == 200  # still signed in
    # sign-in itself: the double-submit cookie must match the form field
    app_client.get("/app/login")
    r = app_client.post("/app/login", data={"csrf": "x", "username": "admin.a", "password": PASSWORD},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 403


def test_a_csrf_token_with_non_ascii_characters_is_refused_not_a_crash(
    app_client: TestClient, runtime: Runtime
) -> None:
    """``hmac.compare_digest`` raises TypeError on str holding non-ASCII characters: a forged token
    "é" answered 500 on sign-in, on an invitation and on every signed-in form; now 403 like any
    other wrong token."""
    _, _, token = make_org(runtime, "HTX Lúa")
    app_client.get("/app/login")
    r = app_client.post("/app/login", data={"csrf": "é", "username": "x.y", "password": PASSWORD})
    assert r.status_code == 403, r.text[:300]
    app_client.get(f"/app/invite/{token}")
    r = app_client.post(f"/app/invite/{token}", data={"csrf": "mã-é", "username": "lan.a", "password": PASSWORD})
    assert r.status_code == 403, r.text[:300]
    accept(app_client, token, "lan.a")
    r = app_client.post("/app/places", data={"csrf": "ký-hiệu", "kind": "plot", "name": "Thửa 1"})
    assert r.status_code == 403, r.text[:300]


def test_sign_in_issues_a_new_session_id_and_sign_out_kills_it(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX B", "admin.b")
    app_client.cookies.clear()
    planted = "attacker-chosen-session-id"
    app_client.cookies.set("agt_ws", planted, domain="testserver.local", path="/app")
    sign_in(app_client, "admin.b")
    sid = app_client.cookies.get("agt_ws", path="/app")
    assert sid and sid != planted
    stolen = TestClient(app_client.app)
    stolen.cookies.set("agt_ws", sid, path="/app")
    assert stolen.get("/app", follow_redirects=False).status_code == 200
    r = app_client.post("/app/logout", data={"csrf": csrf_of(app_client.get("/app").text)}, follow_redirects=False)
    assert r.status_code == 303
    assert stolen.get("/app", follow_redirects=False).status_code == 303  # the copied id no longer works


def test_another_organisations_pages_are_refused(app_client: TestClient, runtime: Runtime) -> None:
    _, key_a = member_client(app_client, runtime, "HTX C", "admin.c")
    plot = app_client.post("/api/v1/places", json={"kind": "plot", "name": "Thửa C1"}, headers=auth(key_a)).json()
    prod = app_client.post("/api/v1/products", json={"gtin": "08930000000019", "name": "Lúa C"},
                           headers=auth(key_a)).json()  # fmt: skip
    lot = app_client.post("/api/v1/lots", json={"gtin": prod["gtin"], "lot_code": "C-1", "quantity": 10,
                                                "plot_id": plot["id"]}, headers=auth(key_a)).json()  # fmt: skip
    assert app_client.get(f"/app/lots/{lot['id']}").status_code == 200
    other = TestClient(app_client.app)
    member_client(other, runtime, "HTX D", "admin.d")
    assert other.get(f"/app/lots/{lot['id']}").status_code == 404
    r = other.post("/app/diary", data={"csrf": csrf_of(other.get("/app/diary").text), "plot_id": str(plot["id"]),
                                       "activity": "irrigating", "time": "2026-01-01T07:00"})  # fmt: skip
    assert r.status_code == 404 and "Thửa C1" not in r.text


def _write_log_size(runtime: Runtime) -> int:
    with Session(runtime.engine) as s:
        return len(s.exec(select(WriteLogEntry.id)).all())


def test_lock_out_after_repeated_failures(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX E", "admin.e")
    app_client.cookies.clear()
    before = _write_log_size(runtime)
    for _ in range(runtime.settings.workspace_lockout_failures - 1):
        assert "Sai tên đăng nhập" in sign_in(app_client, "admin.e", "wrong-password", expect=401)
    assert "Tạm khóa" in sign_in(app_client, "admin.e", "wrong-password", expect=401)  # the last failure locks
    # locked: even the right password is refused, with its own message, and writes nothing (each
    # refusal while locked committed an empty transaction: an entry in the write log, anchored)
    # nor did the failures: each was an entry "POST /app/login 200" in the anchored write log, so a
    # guessing run filled it and it could not tell a failed sign-in from one that succeeded
    assert _write_log_size(runtime) == before
    for _ in range(3):
        assert "Tạm khóa" in sign_in(app_client, "admin.e", expect=401)
    assert _write_log_size(runtime) == before
    with Session(runtime.engine) as s:
        login = s.exec(select(WorkspaceLogin).where(WorkspaceLogin.username == "admin.e")).one()
        login.locked_until = utcnow() - timedelta(seconds=1)
        s.add(login)
        s.commit()
    sign_in(app_client, "admin.e")
    assert _write_log_size(runtime) == before + 1  # the sign-in that succeeded
    # an unknown user gets the same answer as a wrong password
    assert "Sai tên đăng nhập" in sign_in(app_client, "nobody", expect=401)


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_lock_out_allows(
    app_client: TestClient, runtime: Runtime, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure count was read, incremented in Python and written back, after the Argon2 check:
    wrong passwords sent at once all read the same count, so an attacker had a guess checked for
    every request in flight (30 at once: 30 guesses, and the count ended below the limit).  Each
    attempt now takes its place in the database (one UPDATE) before its password is checked."""
    member_client(app_client, runtime, "HTX Khóa", "admin.k")
    limit = runtime.settings.workspace_lockout_failures
    checked: list[str] = []  # passwords checked against the member's real hash

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Any:  # noqa: A002 - the library's name
            if hash != ws_auth._dummy():
                checked.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(ws_auth, "_hasher", CountingHasher())
    attempts = 30
    start = threading.Barrier(attempts)

    def attempt(i: int) -> int:
        with httpx.Client(base_url=served, timeout=60) as c:
            token = csrf_of(c.get("/app/login").text)
            start.wait()
            r = c.post("/app/login", data={"csrf": token, "username": "admin.k", "password": f"wrong-{i:04d}"})
            assert r.status_code == 401, r.text[:300]
            return 0 if "Tạm khóa" in r.text else 1

    with ThreadPoolExecutor(attempts) as pool:
        wrong_answers = sum(pool.map(attempt, range(attempts)))
    assert len(checked) <= limit, f"{len(checked)} guesses checked; the lock-out allows {limit}"
    assert wrong_answers <= limit - 1
    assert "Tạm khóa" in sign_in(TestClient(app_client.app), "admin.k", expect=401)  # locked, even the right one


def test_a_username_no_sign_in_can_have_is_a_wrong_login_not_a_database_error(
    app_client: TestClient, runtime: Runtime
) -> None:
    """A username holding NUL reached the database: PostgreSQL refused the query and the sign-in
    form answered JSON ('a value cannot be stored or compared ...', 422) instead of its page.  A
    name no sign-in can have (accept_invite allows 3-64 of a-z 0-9 . _ -) is now an unknown one."""
    member_client(app_client, runtime, "HTX N", "admin.n")
    app_client.cookies.clear()
    for name in ("admin\x00.n", "admin.n\x00", "ad", "Quản-trị"):
        page = sign_in(app_client, name, expect=401)
        assert "Sai tên đăng nhập" in page, (name, page[:300])
    sign_in(app_client, " Admin.N ")  # spaces and capitals are still the user's own name


def test_invitations_are_single_use_and_expire(app_client: TestClient, runtime: Runtime) -> None:
    _, _, token = make_org(runtime, "HTX F")
    accept(app_client, token, "admin.f")
    again = TestClient(app_client.app)
    assert again.get(f"/app/invite/{token}").status_code == 404
    r = again.post(f"/app/invite/{token}", data={"csrf": "x", "username": "x.f", "password": PASSWORD})
    assert r.status_code == 404
    # an admin invites a recorder; the link expires
    page = app_client.get("/app/members")
    r = app_client.post("/app/members", data={"csrf": csrf_of(page.text), "name": "Chị Lan", "role": "recorder"})
    assert r.status_code == 200 and "/app/invite/" in r.text
    link = r.text.split("/app/invite/", 1)[1].split('"', 1)[0].split("<", 1)[0]
    with Session(runtime.engine) as s:
        for inv in s.exec(select(WorkspaceInvite).where(WorkspaceInvite.used_at.is_(None))).all():  # type: ignore[union-attr]
            inv.expires_at = utcnow() - timedelta(seconds=1)
            s.add(inv)
        s.commit()
    assert again.get(f"/app/invite/{link}").status_code == 404


def test_a_second_link_for_a_member_who_has_signed_in_says_so_in_the_pages_language(
    app_client: TestClient, runtime: Runtime
) -> None:
    """The demo prints a new admin link at each start until one is used: an older link, opened after,
    said "Chưa lưu được: this member already has a sign-in" (the service's English) on the Vietnamese page."""
    org_id, _, token = make_org(runtime, "HTX G")
    with Session(runtime.engine) as s:
        inv = s.exec(select(WorkspaceInvite).where(WorkspaceInvite.org_id == org_id)).one()
        second = create_invite(s, runtime.settings, org_id, inv.name, Role.admin, inv.member_id)
        s.commit()
    accept(app_client, token, "admin.g")
    other = TestClient(app_client.app)
    page = other.get(f"/app/invite/{second}")
    r = other.post(f"/app/invite/{second}", data={"csrf": csrf_of(page.text), "username": "admin.g2",
                                                  "password": PASSWORD})  # fmt: skip
    assert r.status_code == 409, r.text
    assert "Thành viên này đã có tài khoản đăng nhập" in r.text and "already has a sign-in" not in r.text, r.text


def test_an_invitation_dies_with_its_issuers_admin_role(app_client: TestClient, runtime: Runtime) -> None:
    """An admin demoted or deactivated (someone leaving the organisation) left their invitations
    live: an admin invitation they had sent, even to themselves, still made an admin until it
    expired.  Now an invitation works only while its issuer is an active admin."""
    from traceability_api.parties.models import Member

    _, _, token = make_org(runtime, "HTX Q")
    accept(app_client, token, "admin.q")
    page = app_client.get("/app/members")
    links = []
    for name in ("Anh Tư", "Chị Năm"):
        r = app_client.post("/app/members", data={"csrf": csrf_of(page.text), "name": name, "role": "admin"})
        assert r.status_code == 200 and "/app/invite/" in r.text
        links.append(r.text.split("/app/invite/", 1)[1].split('"', 1)[0].split("<", 1)[0])
    other = TestClient(app_client.app)
    assert other.get(f"/app/invite/{links[0]}").status_code == 200  # live while its issuer is an admin
    with Session(runtime.engine) as s:
        issuer = s.exec(select(WorkspaceInvite.issued_by).where(WorkspaceInvite.issued_by.is_not(None))).first()  # type: ignore[union-attr]
        admin = s.get(Member, issuer)
        assert admin is not None and admin.name
        admin.role = "recorder"  # type: ignore[assignment]
        s.add(admin)
        s.commit()
    for link in links:
        assert other.get(f"/app/invite/{link}").status_code == 404
        r = other.post(f"/app/invite/{link}", data={"csrf": "x", "username": "x.q", "password": PASSWORD})
        assert r.status_code in (403, 404)
    with Session(runtime.engine) as s:
        admin = s.get(Member, issuer)
        assert admin is not None
        admin.role, admin.active = "admin", False  # type: ignore[assignment]
        s.add(admin)
        s.commit()
    assert other.get(f"/app/invite/{links[1]}").status_code == 404


def test_an_invitation_link_is_not_kept_in_clear_by_an_idempotency_key(
    app_client: TestClient, runtime: Runtime
) -> None:
    """An invitation's token is stored only as its SHA-256, but POST /app/members took an
    idempotency key, and the first response kept for replays (the page showing the link) held the
    token in clear in idempotent_request, for anyone reading the database or a backup to sign up
    with (as an admin, for an admin's invitation).  The invitation form takes no key now."""
    member_client(app_client, runtime, "HTX K", "admin.k2")
    form = {"csrf": csrf_of(app_client.get("/app/members").text), "name": "Chị Hoa", "role": "admin",
            "idempotency_key": "invite-hoa-1"}  # fmt: skip
    r = app_client.post("/app/members", data=form)
    assert r.status_code == 200 and "/app/invite/" in r.text
    token = re.search(r'id="invite-link" href="[^"]*/app/invite/([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    with Session(runtime.engine) as s:
        kept = [bytes(b or b"") for b in s.exec(select(IdempotentRequest.body)).all()]
    assert not any(token.encode() in b for b in kept)
    accept(TestClient(app_client.app), token, "chi.hoa")  # the link itself works


def test_admin_sets_roles_and_deactivates_members(app_client: TestClient, runtime: Runtime) -> None:
    admin = app_client
    member_client(admin, runtime, "HTX G", "admin.g")
    tu = invited_member(admin, "Anh Tư", "recorder", "anh.tu")
    assert tu.post("/app/members", data={"csrf": csrf_of(tu.get("/app").text), "name": "X"}).status_code == 403
    member_id = re.search(r'action="/app/members/(\d+)"', admin.get("/app/members").text).group(1)  # type: ignore[union-attr]
    token = csrf_of(admin.get("/app/members").text)
    assert admin.post(f"/app/members/{member_id}", data={"csrf": token, "role": "viewer"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    r = tu.post("/app/places", data={"csrf": csrf_of(tu.get("/app/places").text), "kind": "plot", "name": "T"})
    assert r.status_code == 403 and "không được ghi dữ liệu" in r.text
    r = admin.post(f"/app/members/{member_id}", data={"csrf": token, "action": "deactivate"}, follow_redirects=False)
    assert r.status_code == 303
    assert tu.get("/app", follow_redirects=False).status_code == 303  # signed out at once
    assert "Sai tên đăng nhập" in sign_in(tu, "anh.tu", expect=401)


def test_a_vietnamese_password_signs_in_precomposed_or_combining(app_client: TestClient, runtime: Runtime) -> None:
    """PASSWORD has Vietnamese letters ("mật-khẩu"): set on a phone they come precomposed (NFC);
    typed on a PC with Unikey in "Unicode tổ hợp" they come combining (NFD).  The same password
    in the other form was "Sai tên đăng nhập hoặc mật khẩu."; a hash made from the combining form
    (before passwords were kept NFC) still signs in, and is then kept NFC."""
    nfd = unicodedata.normalize("NFD", PASSWORD)
    assert nfd != PASSWORD
    _, _, token = make_org(runtime, "HTX A")
    accept(app_client, token, "admin.a")  # typed NFC
    app_client.cookies.clear()
    sign_in(app_client, "admin.a", nfd)
    app_client.cookies.clear()
    sign_in(app_client, "admin.a", PASSWORD)
    with Session(runtime.engine) as s:  # a hash of the combining form, as one made before
        row = s.exec(select(WorkspaceLogin).where(WorkspaceLogin.username == "admin.a")).one()
        row.password_hash = PasswordHasher().hash(nfd)
        s.add(row)
        s.commit()
    app_client.cookies.clear()
    sign_in(app_client, "admin.a", PASSWORD)
    with Session(runtime.engine) as s:
        kept = s.exec(select(WorkspaceLogin.password_hash).where(WorkspaceLogin.username == "admin.a")).one()
    assert PasswordHasher().verify(kept, PASSWORD)
    app_client.cookies.clear()
    assert "Sai tên đăng nhập" in sign_in(app_client, "admin.a", PASSWORD + "x", expect=401)


def test_a_viewer_is_told_before_filling_a_form_not_after(app_client: TestClient, runtime: Runtime) -> None:
    """A viewer (or auditor) was shown every write form, filled it in, and only then read "Vai trò
    của bạn không được ghi dữ liệu.": the forms are replaced by that sentence; reading is unchanged."""
    admin = app_client
    member_client(admin, runtime, "HTX Xem", "admin.xem")
    lan = invited_member(admin, "Chị Lan", "viewer", "chi.lan")
    for page in ("/app/diary", "/app/harvest", "/app/ship", "/app/process", "/app/places", "/app/products"):
        action = page
        seen = lan.get(page)
        assert seen.status_code == 200, page
        assert f'action="{action}"' not in seen.text, page
        assert "data-read-only" in seen.text and "không được ghi dữ liệu" in seen.text, page
        mine = admin.get(page).text
        assert f'action="{action}"' in mine and "data-read-only" not in mine, page
