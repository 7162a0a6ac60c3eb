"""Shared steps of the workspace tests: an organisation with an admin invitation, accepting an
invitation, signing in, and reading a page's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.models import OrganisationCreate
from traceability_api.parties.service import create_organisation
from traceability_api.runtime import Runtime
from traceability_api.workspace.invites import create_invite

PASSWORD = "mật-khẩu-đủ-dài-1"


def make_org(runtime: Runtime, name: str, kind: OrgKind = OrgKind.cooperative) -> tuple[int, str, str]:
    """(organisation id, admin API key, admin invitation token)."""
    with Session(runtime.engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name=name, kind=kind, admin_name="Quản trị"))
        token = create_invite(s, runtime.settings, org.id or 0, issued.member.name, Role.admin, issued.member.id)
        s.commit()
        return org.id or 0, issued.api_key, token


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


def accept(client: TestClient, token: str, username: str, password: str = PASSWORD) -> None:
    page = client.get(f"/app/invite/{token}")
    assert page.status_code == 200, page.text
    r = client.post(f"/app/invite/{token}", data={"csrf": csrf_of(page.text), "username": username,
                                                  "password": password}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


def sign_in(client: TestClient, username: str, password: str = PASSWORD, expect: int = 303) -> str:
    page = client.get("/app/login")
    r = client.post("/app/login", data={"csrf": csrf_of(page.text), "username": username, "password": password},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == expect, r.text
    return r.text


def member_client(client: TestClient, runtime: Runtime, org: str, username: str,
                  kind: OrgKind = OrgKind.cooperative) -> tuple[int, str]:  # fmt: skip
    """An organisation whose admin ``username`` is signed in on ``client``: (org id, admin API key)."""
    org_id, key, token = make_org(runtime, org, kind)
    accept(client, token, username)
    return org_id, key


def invited_member(admin: TestClient, name: str, role: str, username: str) -> TestClient:
    """A member ``name`` with ``role``, invited from the members page by the signed-in ``admin``,
    signed in as ``username`` on a client of their own."""
    r = admin.post("/app/members", data={"csrf": csrf_of(admin.get("/app/members").text), "name": name, "role": role})
    link = re.search(r'id="invite-link" href="[^"]*(/app/invite/[^"]+)"', r.text)
    assert link is not None, r.text
    member = TestClient(admin.app)
    accept(member, link.group(1).rsplit("/", 1)[1], username)
    return member
