"""The authority console's door: only members of authority organisations get in; the overview's
figures are the database's counts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from tests.conftest import auth
from tests.workspace_helpers import member_client
from traceability_api.events.models import Event
from traceability_api.lots.models import Lot
from traceability_api.parties.kinds import OrgKind
from traceability_api.parties.models import Organisation
from traceability_api.runtime import Runtime


def figure(html: str, key: str) -> int:
    m = re.search(rf'data-figure="{key}">([^<]*)<', html)
    assert m, html[:2000]
    return int(re.sub(r"\D", "", m.group(1)))


def test_console_is_for_authority_members_only(app_client: TestClient, runtime: Runtime) -> None:
    r = app_client.get("/app/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/app/login")
    member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    r = app_client.get("/app/console")
    assert r.status_code == 403 and "cơ quan quản lý" in r.text
    assert 'href="/app/console"' not in app_client.get("/app").text  # no menu entry for them


def test_overview_counts_what_the_database_holds(app_client: TestClient, runtime: Runtime) -> None:
    _, coop_key = member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    app_client.cookies.clear()
    member_client(app_client, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    assert 'href="/app/console"' in app_client.get("/app").text
    r = app_client.post("/api/v1/products", headers=auth(coop_key), json={"gtin": "08936000000011", "name": "Xoài"})
    assert r.status_code in (200, 201), r.text
    page = app_client.get("/console")
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    with Session(runtime.engine) as s:
        assert figure(page.text, "organisations") == s.exec(select(func.count()).select_from(Organisation)).one() == 2
        assert figure(page.text, "lots") == s.exec(select(func.count()).select_from(Lot)).one()
        assert figure(page.text, "events") == s.exec(select(func.count()).select_from(Event)).one()


def test_a_malformed_address_gets_a_page_in_the_persons_language(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    html = {"Accept": "text/html,application/xhtml+xml"}
    for url in ("/app/console/lots/abc", "/app/console/lots?page=abc"):
        r = app_client.get(url, headers=html)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), (url, r.text[:300])
        assert '<html lang="vi">' in r.text and "không hợp lệ" in r.text
    r = app_client.get("/app/console/lots/abc")  # a script asking without text/html keeps the JSON answer
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid request")
