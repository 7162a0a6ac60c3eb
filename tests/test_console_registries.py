"""The console's registry pages (issues 16/20): authority members list, register, suspend,
reinstate and revoke codes, and verify or revoke certificates, through forms with CSRF; each
refusal is shown next to its field in Vietnamese; cooperative members get 403."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import auth
from tests.workspace_helpers import csrf_of, member_client
from traceability_api.parties.kinds import OrgKind
from traceability_api.places.models import Place
from traceability_api.registries.models import Certificate, RegisteredCode
from traceability_api.runtime import Runtime


def err_of(html: str, field: str) -> str:
    """The error shown right after the field ``field`` (its ``<p class="err" id="field-err">``)."""
    f = re.escape(field)
    m = re.search(rf'id="{f}"[^>]*>(?:(?!<label|<input).)*?<p class="err" id="{f}-err">([^<]*)</p>', html, re.S)
    assert m, html[html.find("<main") :][:4000]
    return m.group(1)


def setup(client: TestClient, runtime: Runtime) -> tuple[int, str, int]:
    """A cooperative with a plot (its admin's key), then an authority member signed in on ``client``."""
    coop_id, coop_key = member_client(client, runtime, "HTX Mỹ Xương", "htx-admin")
    r = client.post(
        "/api/v1/places",
        headers=auth(coop_key),
        json={"kind": "plot", "name": "Vườn xoài Mỹ Xương", "address": "xã Mỹ Xương, Cao Lãnh"},
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    member_client(client, runtime, "Chi cục Trồng trọt và BVTV Đồng Tháp", "chicuc", OrgKind.authority)
    return coop_id, coop_key, r.json()["id"]


def register(client: TestClient, **form: str) -> object:
    page = client.get("/app/console/codes")
    data = {"csrf": csrf_of(page.text), "kind": "planting_area", "code": "vndtor0012", "issuer": "Cục BVTV",
            "markets": "CN, us", "valid_from": "2024-01-01", "valid_until": ""} | form  # fmt: skip
    return client.post("/app/console/codes", data=data, follow_redirects=False)


def test_register_a_code_on_a_plot_and_refusals_next_to_their_fields(app_client: TestClient, runtime: Runtime) -> None:
    coop_id, _, plot_id = setup(app_client, runtime)
    r = register(app_client, org_id=str(coop_id), place_id=str(plot_id))
    assert r.status_code == 303, r.text
    with Session(runtime.engine) as s:
        place = s.get(Place, plot_id)
        assert place is not None and place.planting_area_code == "VN-DTOR-0012"
    page = app_client.get("/app/console/codes")
    assert 'data-code="VN-DTOR-0012" data-status="active"' in page.text and "Vườn xoài Mỹ Xương" in page.text
    assert re.search(r'id="codes-count">[^<]*: 1<', page.text) and 'rel="next"' not in page.text
    # refusals, each next to its field, in Vietnamese
    r = register(app_client, org_id=str(coop_id))  # the same code again
    assert r.status_code == 409 and err_of(r.text, "code") == "Mã số VN-DTOR-0012 đã được đăng ký."
    r = register(app_client, org_id=str(coop_id), code="DT-0012")
    assert r.status_code == 422 and "không đúng định dạng" in err_of(r.text, "code")
    r = register(app_client, org_id=str(coop_id), code="VN-DTPH-0005")
    assert r.status_code == 422 and "mã cơ sở đóng gói" in err_of(r.text, "code")
    r = register(app_client, org_id=str(coop_id), code="VN-DTOR-0013", markets="China")
    assert r.status_code == 422 and "ISO 3166-1" in err_of(r.text, "markets")
    r = register(app_client, org_id=str(coop_id), code="VN-DTOR-0013", valid_until="2023-01-01")
    assert r.status_code == 422 and err_of(r.text, "valid_until").startswith("Ngày hết hiệu lực")
    r = register(app_client, org_id=str(coop_id), kind="packhouse", code="VN-DTPH-0005", place_id=str(plot_id))
    assert r.status_code == 422 and "nhà sơ chế" in err_of(r.text, "place_id")  # a packhouse code on a plot
    r = register(app_client, org_id=str(coop_id), code="VN-DTOR-0013", markets=" ,; ")  # no market at all
    assert r.status_code == 422 and err_of(r.text, "markets") == "Bắt buộc.", err_of(r.text, "markets")
    r = register(app_client, org_id="999999", code="VN-DTOR-0013")
    assert r.status_code == 422 and err_of(r.text, "org_id") == "Tổ chức này không tồn tại."
    with Session(runtime.engine) as s:
        assert len(s.query(RegisteredCode).all()) == 1  # none of the refused forms wrote anything
    # the filters: by status, market, holder and commune
    listed = 'data-code="VN-DTOR-0012"'
    assert listed in app_client.get("/app/console/codes?status=active&market=cn&commune=mỹ xương").text
    assert listed not in app_client.get("/app/console/codes?status=suspended").text
    assert listed not in app_client.get("/app/console/codes?market=JP").text
    assert listed not in app_client.get("/app/console/codes?commune=Tân Thuận").text
    assert listed in app_client.get(f"/app/console/codes?org={coop_id}&kind=planting_area").text
    assert listed not in app_client.get(f"/app/console/codes?org={coop_id + 1}").text
    bad = app_client.get("/app/console/codes?market=CHN")
    assert bad.status_code == 422 and err_of(bad.text, "market").startswith("Mã thị trường")


def test_suspend_needs_a_reason_then_reinstate_and_revoke(app_client: TestClient, runtime: Runtime) -> None:
    coop_id, _, plot_id = setup(app_client, runtime)
    assert register(app_client, org_id=str(coop_id), place_id=str(plot_id)).status_code == 303
    csrf = csrf_of(app_client.get("/app/console/codes").text)
    url = "/app/console/codes/VN-DTOR-0012"
    r = app_client.post(f"{url}/suspend", data={"csrf": csrf, "reason": "  "})
    assert r.status_code == 422
    assert re.search(r'<p class="err" id="err-VN-DTOR-0012">Cần ghi lý do.</p>', r.text)
    r = app_client.post(f"{url}/suspend", data={"csrf": csrf, "reason": "phát hiện sâu đục trái"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = app_client.get("/app/console/codes")
    assert 'data-status="suspended"' in page.text and "phát hiện sâu đục trái" in page.text
    r = app_client.post(f"{url}/suspend", data={"csrf": csrf, "reason": "lần nữa"})
    assert r.status_code == 409 and "đang bị đình chỉ rồi" in r.text
    assert app_client.post(f"{url}/reinstate", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert 'data-status="active"' in app_client.get("/app/console/codes").text
    r = app_client.post(f"{url}/revoke", data={"csrf": csrf, "reason": "hết đăng ký"}, follow_redirects=False)
    assert r.status_code == 303
    with Session(runtime.engine) as s:
        row = s.query(RegisteredCode).one()
        assert (row.status, row.status_reason) == ("revoked", "hết đăng ký")


def test_console_forms_need_csrf_and_an_authority_member(app_client: TestClient, runtime: Runtime) -> None:
    coop_id, coop_key, plot_id = setup(app_client, runtime)
    r = app_client.post(
        "/app/console/codes",
        data={
            "kind": "planting_area",
            "code": "VN-DTOR-0012",
            "org_id": str(coop_id),
            "issuer": "Cục BVTV",
            "markets": "CN",
            "valid_from": "2024-01-01",
        },
    )
    assert r.status_code == 403
    assert register(app_client, org_id=str(coop_id)).status_code == 303
    r = app_client.post("/app/console/codes/VN-DTOR-0012/suspend", data={"reason": "không có csrf"})
    assert r.status_code == 403
    app_client.cookies.clear()
    member_client(app_client, runtime, "HTX Tân Thuận", "htx2")
    for path in ("/app/console/codes", "/app/console/certificates"):
        r = app_client.get(path)
        assert r.status_code == 403 and "cơ quan quản lý" in r.text
    csrf = csrf_of(app_client.get("/app").text)
    r = app_client.post("/app/console/codes/VN-DTOR-0012/suspend", data={"csrf": csrf, "reason": "thử"})
    assert r.status_code == 403
    with Session(runtime.engine) as s:
        assert s.query(RegisteredCode).one().status == "active"


def test_console_lists_certificates_and_the_authority_verifies_or_revokes(
    app_client: TestClient, runtime: Runtime
) -> None:
    coop_id, coop_key, plot_id = setup(app_client, runtime)
    body = {"scheme": "vietgap", "number": "VG-0815", "issuer": "Trung tâm Chứng nhận", "place_ids": [plot_id],
            "valid_from": "2024-01-01", "valid_until": "2099-01-01"}  # fmt: skip
    one = app_client.post("/api/v1/certificates", headers=auth(coop_key), json=body).json()["id"]
    old = body | {"number": "VG-0001", "valid_until": "2024-12-31"}
    two = app_client.post("/api/v1/certificates", headers=auth(coop_key), json=old).json()["id"]
    page = app_client.get("/app/console/certificates")
    assert page.status_code == 200
    assert f'data-cert="{one}" data-shown="unverified"' in page.text
    assert f'data-cert="{two}" data-shown="expired"' in page.text and "HẾT HIỆU LỰC" in page.text
    csrf = csrf_of(page.text)
    assert app_client.post(f"/app/console/certificates/{one}/verify", data={}).status_code == 403  # no CSRF
    r = app_client.post(f"/app/console/certificates/{one}/verify", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert f'data-cert="{one}" data-shown="verified"' in app_client.get("/app/console/certificates").text
    r = app_client.post(f"/app/console/certificates/{one}/revoke", data={"csrf": csrf, "reason": ""})
    assert r.status_code == 422 and re.search(rf'<p class="err" id="cert-err-{one}">Bắt buộc.</p>', r.text)
    r = app_client.post(f"/app/console/certificates/{one}/revoke", data={"csrf": csrf, "reason": "giả mạo"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = app_client.get("/app/console/certificates").text
    assert f'data-cert="{one}" data-shown="revoked"' in page and "ĐÃ BỊ THU HỒI" in page
    r = app_client.post(f"/app/console/certificates/{one}/verify", data={"csrf": csrf})
    assert r.status_code == 409 and "không thể xác minh" in r.text
    with Session(runtime.engine) as s:
        c = s.get(Certificate, one)
        assert c is not None and c.revoke_reason == "giả mạo"
