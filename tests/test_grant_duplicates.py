"""A lot is shared with a partner once at a time: a second grant of the same lot to the same
partner while the first is live is refused (409 in the API, said next to the partner in the
workspace, Vietnamese first), through the one rule in ``privacy.grants.create_grant``; once the
first is revoked or has expired, the lot may be shared again."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import auth
from tests.workspace_helpers import csrf_of, make_org, member_client
from traceability_api.errors import Conflict
from traceability_api.parties.service import authenticate
from traceability_api.privacy.grants import GrantCreate, create_grant
from traceability_api.privacy.models import SharingGrant
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow


def _lot(c: TestClient, key: str, code: str = "DUP-1") -> int:
    if code == "DUP-1":  # the first lot: its product first
        product = {"gtin": "08930000000989", "name": "Xoài", "unit": "KGM"}
        r = c.post("/api/v1/products", json=product, headers=auth(key))
        assert r.status_code == 201, r.text
    r = c.post("/api/v1/lots", json={"gtin": "08930000000989", "lot_code": code, "quantity": 10}, headers=auth(key))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _grants(runtime: Runtime, lot_id: int) -> list[SharingGrant]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(SharingGrant).where(SharingGrant.lot_id == lot_id)).all())


def test_api_refuses_a_second_live_grant_of_a_lot_to_the_same_partner(runtime: Runtime, app_client: TestClient) -> None:
    c = app_client
    _, key = member_client(c, runtime, "HTX Một Lần", "admin-ml")
    partner, _, _ = make_org(runtime, "Công ty Đối Tác")
    other, _, _ = make_org(runtime, "Chi cục Kiểm tra")
    lot_id = _lot(c, key)
    body = {"lot_id": lot_id, "grantee_org_id": partner, "expires_at": (utcnow() + timedelta(days=7)).isoformat()}
    first = c.post("/api/v1/grants", json=body, headers=auth(key))
    assert first.status_code == 201, first.text

    # the same, or the same lot and partner with another end: refused, saying which grant is live
    for again in (body, body | {"expires_at": (utcnow() + timedelta(days=30)).isoformat(), "note": "gia hạn"}):
        r = c.post("/api/v1/grants", json=again, headers=auth(key))
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert f"lot {lot_id} is already shared with organisation {partner}" in detail, detail
        assert f"grant {first.json()['id']}" in detail and "revoke" in detail, detail
    assert len(_grants(runtime, lot_id)) == 1

    # another partner, or another lot for the same partner, is a new grant
    assert c.post("/api/v1/grants", json=body | {"grantee_org_id": other}, headers=auth(key)).status_code == 201
    lot2 = _lot(c, key, "DUP-2")
    assert c.post("/api/v1/grants", json=body | {"lot_id": lot2}, headers=auth(key)).status_code == 201

    # revoked: the lot may be shared with the partner again (once more only)
    assert c.delete(f"/api/v1/grants/{first.json()['id']}", headers=auth(key)).status_code == 200
    again = c.post("/api/v1/grants", json=body, headers=auth(key))
    assert again.status_code == 201, again.text
    assert c.post("/api/v1/grants", json=body, headers=auth(key)).status_code == 409

    # expired: likewise
    with Session(runtime.engine) as s:
        g = s.get(SharingGrant, again.json()["id"])
        assert g is not None
        g.expires_at = utcnow() - timedelta(seconds=1)
        s.add(g)
        s.commit()
    assert c.post("/api/v1/grants", json=body, headers=auth(key)).status_code == 201
    live = [g for g in c.get("/api/v1/grants", headers=auth(key)).json() if g["live"] and g["lot_id"] == lot_id]
    assert sorted(g["grantee_org_id"] for g in live) == sorted([partner, other])


def test_workspace_says_the_lot_is_already_shared_next_to_the_partner(runtime: Runtime, app_client: TestClient) -> None:
    """The admin submits the sharing form twice (a double tap, or forgetting it was shared): the
    second answer is 409 with the form again, the refusal next to the partner in Vietnamese (English
    with the language switch), and the list still holds one grant."""
    c = app_client
    _, key = member_client(c, runtime, "HTX Chạm Hai Lần", "admin-hl")
    partner, _, _ = make_org(runtime, "Công ty Đối Tác")
    lot_id = _lot(c, key)
    until = (utcnow() + timedelta(days=3)).date().isoformat()
    form = {"csrf": csrf_of(c.get("/app/grants").text), "lot_id": str(lot_id), "grantee_org_id": str(partner),
            "until": until}  # fmt: skip
    assert c.post("/app/grants", data=form, follow_redirects=False).status_code == 303
    r = c.post("/app/grants", data=form | {"until": (utcnow() + timedelta(days=9)).date().isoformat()})
    assert r.status_code == 409, r.status_code
    shown = re.search(r'<p class="err" id="grantee_org_id-err">([^<]*)</p>', r.text)
    assert shown and "đang được chia sẻ" in shown.group(1), re.findall(r'<p class="err"[^>]*>[^<]*</p>', r.text)
    assert "already" not in shown.group(1) and "grant " not in shown.group(1)  # none of the API's English
    assert len(re.findall(r'<li data-grant="\d+">', r.text)) == 1
    assert len(_grants(runtime, lot_id)) == 1

    c.cookies.set("agt_lang", "en")
    r = c.post("/app/grants", data=form)
    assert r.status_code == 409
    shown = re.search(r'<p class="err" id="grantee_org_id-err">([^<]*)</p>', r.text)
    assert shown and "already shared" in shown.group(1) and "revoke" in shown.group(1), shown
    c.cookies.set("agt_lang", "vi")

    # revoked in the workspace: shared again from the same form
    (grant,) = c.get("/api/v1/grants", headers=auth(key)).json()
    page = c.get("/app/grants")
    r = c.post(f"/app/grants/{grant['id']}/revoke", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.post("/app/grants", data=form, follow_redirects=False).status_code == 303
    assert [g["live"] for g in c.get("/api/v1/grants", headers=auth(key)).json()] == [True, False]


def test_two_grants_at_once_make_one(runtime: Runtime, app_client: TestClient) -> None:
    """Two requests sharing the same lot with the same partner at the same moment (two tabs, two
    workers): the rule reads the grants under the lot's write lock, so one is stored, the other
    refused."""
    c = app_client
    _, key = member_client(c, runtime, "HTX Cùng Lúc", "admin-cl")
    partner, _, _ = make_org(runtime, "Công ty Đối Tác")
    lot_id = _lot(c, key)
    data = GrantCreate(lot_id=lot_id, grantee_org_id=partner, expires_at=utcnow() + timedelta(days=7))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def share() -> None:
        with Session(runtime.engine) as s:
            p = authenticate(s, key)
            barrier.wait()
            try:
                create_grant(s, p, data)
                s.commit()
                outcomes.append("stored")
            except Conflict:
                s.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=share) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert len(_grants(runtime, lot_id)) == 1
