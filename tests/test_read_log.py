"""Reads of other organisations' non-public data name their owners (docs/privacy.md): the console's
lineage graph, lot search and recall page leave a read entry naming each organisation whose lots
they show; the owner's admins and auditors list them (``/api/v1/audit-log/reads``, ``/app/reads``),
nobody else does; aggregated and public pages leave none."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from tests.workspace_helpers import accept, csrf_of, make_org
from tests.world import World, make_world, obj_event, receive, setup_rice, ship
from traceability_api.authority.models import ReadOwner, WriteLogEntry
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.runtime import Runtime
from traceability_api.workspace.invites import create_invite
from traceability_api.workspace.routes.reads import read_what

pytestmark = pytest.mark.postgres

AUTHORITY = "Chi cục QLCL Đồng Tháp"


def _console(runtime: Runtime, client: TestClient) -> int:
    """An authority member (workspace sign-in) on ``client``; its organisation's id."""
    client.cookies.clear()
    org_id, _, token = make_org(runtime, AUTHORITY, OrgKind.authority)
    accept(client, token, "chicuc")
    return org_id


def _rice_at_the_mill(runtime: Runtime, client: TestClient) -> tuple[World, dict[str, Any]]:
    w = make_world(runtime, client)
    rice = setup_rice(w)
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    return w, rice


def _reads(w: World, org: Any, role: str = "admin") -> list[dict[str, Any]]:
    r = w.get(org, "/api/v1/audit-log/reads", role=role)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _owners(runtime: Runtime, path: str) -> list[set[int]]:
    """The owners named by each read entry of ``path``, oldest first."""
    with Session(runtime.engine) as s:
        ids = s.exec(select(WriteLogEntry.id).where(WriteLogEntry.method == "GET", WriteLogEntry.path == path)
                     .order_by(col(WriteLogEntry.id))).all()  # fmt: skip
        rows = s.exec(select(ReadOwner)).all()
    return [{r.org_id for r in rows if r.entry_id == i} for i in ids]


def _get_reads(runtime: Runtime) -> int:
    with Session(runtime.engine) as s:
        return len(s.exec(select(WriteLogEntry.id).where(WriteLogEntry.method == "GET")).all())


def test_console_lineage_read_names_the_owners_who_see_it(runtime: Runtime, app_client: TestClient) -> None:
    w, rice = _rice_at_the_mill(runtime, app_client)
    authority_id = _console(runtime, app_client)
    lot_id = rice["lot"]["id"]
    path = f"/app/console/lots/{lot_id}"
    assert app_client.get(path).status_code == 200
    assert _owners(runtime, path) == [{w.coop.id, w.mill.id}]  # the owner (coop), the holder (mill)

    coop_reads = _reads(w, w.coop)
    assert [(r["path"], r["reader_org_id"], r["reader_org"], r["reader_org_kind"]) for r in coop_reads] == [
        (path, authority_id, AUTHORITY, "authority")
    ]
    assert coop_reads[0]["member"] and coop_reads[0]["status"] == 200
    assert [r["path"] for r in _reads(w, w.coop, "auditor")] == [path]  # the coop's auditor too
    assert [r["path"] for r in _reads(w, w.mill)] == [path]
    # an auditor of an organisation not in the graph sees none of it; a recorder may not look
    assert _reads(w, w.distributor, "auditor") == []
    r = w.get(w.coop, "/api/v1/audit-log/reads", role="recorder")
    assert r.status_code == 403 and "admins and auditors" in r.text
    assert w.get(w.coop, "/api/v1/audit-log/reads", params={"limit": 0}).status_code == 422
    assert _reads(w, w.coop)[0]["id"] == coop_reads[0]["id"]
    assert w.get(w.coop, "/api/v1/audit-log/reads", params={"after_id": coop_reads[0]["id"]}).json() == []


def test_search_and_recall_pages_name_the_holders(runtime: Runtime, app_client: TestClient) -> None:
    w, rice = _rice_at_the_mill(runtime, app_client)
    _console(runtime, app_client)
    assert "L1" in app_client.get("/app/console/lots", params={"by": "code", "q": "L1"}).text
    assert _owners(runtime, "/app/console/lots") == [{w.coop.id, w.mill.id}]
    assert app_client.get("/app/console/lots", params={"by": "code", "q": "NO-SUCH-LOT"}).status_code == 200
    assert len(_owners(runtime, "/app/console/lots")) == 1  # no hit, nobody's data: no entry

    lot_id = rice["lot"]["id"]
    page = app_client.get(f"/app/console/lots/{lot_id}")
    form = {"csrf": csrf_of(page.text), "reason": "Dư lượng vượt ngưỡng", "scope": "lot"}
    r = app_client.post(f"/app/console/lots/{lot_id}/recall", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    recall_path = r.headers["location"]
    assert app_client.get(recall_path).status_code == 200
    assert _owners(runtime, recall_path) == [{w.mill.id}]  # the holder of the recalled lot
    assert recall_path in {x["path"] for x in _reads(w, w.mill)}
    assert recall_path not in {x["path"] for x in _reads(w, w.coop)}


def test_authority_api_trace_recall_and_mass_balance_name_the_owners(runtime: Runtime, app_client: TestClient) -> None:
    """The API's answers with other organisations' lots (trace graph, a plot's downstream lots, a
    recall report, the mass balance) are logged as the console's pages are."""
    w, rice = _rice_at_the_mill(runtime, app_client)
    lot_id, plot_id = rice["lot"]["id"], rice["plot_id"]
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [lot_id], "reason": "Dư lượng", "scope": "lot"})
    assert r.status_code == 201, r.text
    paths = (f"/api/v1/trace/lots/{lot_id}", f"/api/v1/trace/places/{plot_id}/downstream",
             f"/api/v1/recalls/{r.json()['id']}", "/api/v1/mass-balance")  # fmt: skip
    for path in paths:
        assert w.get(w.authority, path).status_code == 200, path
    assert [_owners(runtime, path) for path in paths] == [
        [{w.coop.id, w.mill.id}],
        [{w.coop.id, w.mill.id}],
        [{w.mill.id}],
        [{w.coop.id, w.mill.id}],
    ]
    assert {x["path"] for x in _reads(w, w.coop)} == {paths[0], paths[1], paths[3]}
    assert {x["path"] for x in _reads(w, w.mill)} == set(paths)
    assert [read_what(path, "vi") for path in paths] == [
        "Sơ đồ truy xuất của lô (API)",
        "Các lô làm từ sản phẩm của một vùng trồng (API)",
        "Lệnh thu hồi (API)",
        "Cân đối khối lượng vào ra của các lô (API)",
    ]  # the reads page says what each showed


def test_api_private_reads_name_the_event_owner(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], None, "inspecting", **{"agri:visibility": "private", "agri:note": "riêng"})
    assert w.post(w.coop, "/api/v1/events", ev).status_code == 201
    assert w.get(w.authority, "/api/v1/events", params={"lot": rice["uri"]}).status_code == 200
    assert [(r["path"], r["reader_org_id"]) for r in _reads(w, w.coop)] == [("/api/v1/events", w.authority.id)]
    # the coop reading its own private data is not a read "by another organisation"
    before = _get_reads(runtime)
    assert w.get(w.coop, "/api/v1/events", params={"lot": rice["uri"]}).status_code == 200
    assert _get_reads(runtime) == before


def test_figures_map_and_public_pages_leave_no_read_entry(runtime: Runtime, app_client: TestClient) -> None:
    w, rice = _rice_at_the_mill(runtime, app_client)
    before = _get_reads(runtime)
    assert app_client.get(f"/01/{rice['gtin']}/10/L1").status_code == 200  # the consumer page
    assert app_client.get(f"/api/v1/proofs/lots/{rice['gtin']}/L1").status_code == 200  # the proof bundle
    _console(runtime, app_client)
    for path in ("/app/console", "/app/console/figures", "/app/console/map", "/app/console/lots"):
        assert app_client.get(path).status_code == 200, path
    assert _get_reads(runtime) == before
    assert _reads(w, w.coop) == []


def test_owners_page_for_admins_and_auditors(runtime: Runtime, app_client: TestClient) -> None:
    w, rice = _rice_at_the_mill(runtime, app_client)
    _console(runtime, app_client)
    assert app_client.get(f"/app/console/lots/{rice['lot']['id']}").status_code == 200
    tokens = {}
    with Session(runtime.engine) as s:
        for role in (Role.auditor, Role.recorder):
            tokens[role] = create_invite(s, runtime.settings, w.coop.id, f"Thành viên {role}", role)
        s.commit()
    app_client.cookies.clear()
    accept(app_client, tokens[Role.auditor], "htx-kiemtoan")
    page = app_client.get("/app/reads")
    assert page.status_code == 200 and "Ai đã xem dữ liệu" in page.text
    assert AUTHORITY in page.text and f"/app/console/lots/{rice['lot']['id']}" in page.text
    assert 'href="/app/reads"' in page.text
    app_client.cookies.set("agt_lang", "en")
    assert "Who read our data" in app_client.get("/app/reads").text
    app_client.cookies.clear()
    accept(app_client, tokens[Role.recorder], "htx-ghichep")
    page = app_client.get("/app/reads")
    assert page.status_code == 403 and AUTHORITY not in page.text
    assert 'href="/app/reads"' not in app_client.get("/app").text


def test_read_owners_are_append_only(runtime: Runtime, app_client: TestClient) -> None:
    w, rice = _rice_at_the_mill(runtime, app_client)
    _console(runtime, app_client)
    assert app_client.get(f"/app/console/lots/{rice['lot']['id']}").status_code == 200
    for sql in ("UPDATE audit_read_owner SET org_id = org_id", "DELETE FROM audit_read_owner"):
        with Session(runtime.engine) as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(text(sql))
            s.commit()
    assert _owners(runtime, f"/app/console/lots/{rice['lot']['id']}") == [{w.coop.id, w.mill.id}]


def test_reads_page_says_what_was_read_in_words(runtime: Runtime, app_client: TestClient) -> None:
    """A farmer does not read '/app/console/lots/7' or '/api/v1/events': each logged read says in
    words what was read (the path stays beside it, for the audit log)."""
    w, rice = _rice_at_the_mill(runtime, app_client)
    _console(runtime, app_client)
    assert app_client.get(f"/app/console/lots/{rice['lot']['id']}").status_code == 200
    app_client.cookies.clear()
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, w.coop.id, "Kiểm toán", Role.auditor)
        s.commit()
    accept(app_client, token, "htx-kiemtoan-2")
    page = app_client.get("/app/reads").text
    assert "Sơ đồ truy xuất của lô (bảng điều hành cơ quan quản lý)" in page, page
    assert f"<code>/app/console/lots/{rice['lot']['id']}</code>" in page
    app_client.cookies.set("agt_lang", "en")
    assert "A lot&#39;s lineage graph (authority console)" in app_client.get("/app/reads").text
