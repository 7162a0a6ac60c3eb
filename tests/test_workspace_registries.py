"""The registries in the cooperative workspace (issues 16/20): certificate records on the products
page (form with document upload, status shown), the certifier's screen to verify the certificates
naming it, a cooperative that cannot verify its own certificate from any page, the places page
showing a code's registry status, and a harvest on a suspended area refused next to its field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import auth
from tests.test_console_registries import err_of
from tests.workspace_helpers import csrf_of, make_org, member_client, sign_in
from traceability_api.parties.kinds import OrgKind
from traceability_api.places.models import Place
from traceability_api.registries.models import Certificate
from traceability_api.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MANGO = "08936000000028"


def coop(client: TestClient, runtime: Runtime) -> dict[str, Any]:
    """A cooperative admin signed in on ``client``, with a product and a plot."""
    org_id, key = member_client(client, runtime, "HTX Mỹ Xương", "htx-admin")
    product = client.post("/api/v1/products", headers=auth(key), json={"gtin": MANGO, "name": "Xoài cát Chu"})
    plot = client.post(
        "/api/v1/places",
        headers=auth(key),
        json={"kind": "plot", "name": "Vườn xoài Mỹ Xương", "planting_area_code": "VN-DTOR-0012"},
    )
    assert product.status_code == 201 and plot.status_code == 201, (product.text, plot.text)
    return {"org": org_id, "key": key, "product": product.json()["id"], "plot": plot.json()["id"]}


def add_cert(client: TestClient, c: dict[str, Any], doc: bytes | None = PDF, **form: Any) -> Any:
    page = client.get("/app/products")
    data = {
        "csrf": csrf_of(page.text),
        "scheme": "vietgap",
        "number": "VG-0815",
        "issuer": "Trung tâm Chứng nhận",
        "product_ids": [str(c["product"])],
        "valid_from": "2024-01-01",
        "valid_until": "2099-12-31",
    } | form
    files = {"document": ("chung-nhan.pdf", doc, "application/pdf")} if doc is not None else None
    return client.post("/app/certificates", data=data, files=files, follow_redirects=False)


def test_a_cooperative_records_a_certificate_with_its_document(app_client: TestClient, runtime: Runtime) -> None:
    c = coop(app_client, runtime)
    page = app_client.get("/app/products")
    assert 'name="certifications"' not in page.text  # the free-text field is gone
    r = add_cert(app_client, c, scheme="ocop", ocop_stars="4", place_ids=[str(c["plot"])])
    assert r.status_code == 303, r.text
    page = app_client.get(r.headers["location"])
    assert "OCOP 4★ · VG-0815" in page.text and "Chưa xác minh" in page.text
    with Session(runtime.engine) as s:
        cert = s.query(Certificate).one()
        assert cert.document_sha256 and cert.product_ids == [c["product"]] and cert.place_ids == [c["plot"]]
    doc = app_client.get(f"/api/v1/certificates/{cert.id}/document", headers=auth(c["key"]))
    assert doc.status_code == 200 and doc.content == PDF


def test_certificate_refusals_are_shown_next_to_their_fields(app_client: TestClient, runtime: Runtime) -> None:
    c = coop(app_client, runtime)
    r = add_cert(app_client, c, scheme="ocop")
    assert r.status_code == 422 and err_of(r.text, "ocop_stars").startswith("Chứng nhận OCOP cần số sao")
    r = add_cert(app_client, c, valid_until="2023-01-01")
    assert r.status_code == 422 and err_of(r.text, "valid_until").startswith("Ngày hết hiệu lực")
    r = add_cert(app_client, c, product_ids=[])
    assert r.status_code == 422 and err_of(r.text, "product_ids").startswith("Chọn ít nhất một")
    # a slip of one digit in a year (2205 for 2025, 1025): refused next to the field, not shown to shoppers
    r = add_cert(app_client, c, valid_until="2205-01-01")
    assert (
        r.status_code == 422
        and err_of(r.text, "valid_until") == "Ngày hết hiệu lực sau năm 2099: hãy kiểm tra lại năm."
    )
    r = add_cert(app_client, c, valid_from="1025-01-01")
    assert (
        r.status_code == 422
        and err_of(r.text, "valid_from") == "Ngày bắt đầu hiệu lực trước năm 1990: hãy kiểm tra lại năm."
    )
    r = add_cert(
        app_client, c, valid_from=f"{date.today().year + 2}-01-01", valid_until=f"{date.today().year + 3}-01-01"
    )
    assert r.status_code == 422 and err_of(r.text, "valid_from").startswith(
        "Ngày bắt đầu hiệu lực cách hôm nay hơn một năm"
    )
    r = add_cert(app_client, c, doc=b"not a pdf at all")
    assert r.status_code == 422 and err_of(r.text, "document")
    r = add_cert(app_client, c, number="")
    assert r.status_code == 422 and err_of(r.text, "number") == "Bắt buộc."
    for bad, words in ((str(2**64), "Quá lớn."), (str(2**63), "Quá lớn."), ("-5", "Phải lớn hơn 0.")):
        r = add_cert(app_client, c, product_ids=[bad])  # an id no form offers: the page says so, not JSON
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), (bad, r.text)
        assert err_of(r.text, "product_ids") == words, bad
    with Session(runtime.engine) as s:
        assert s.query(Certificate).count() == 0
    page = app_client.get("/app/products")
    data = {"scheme": "vietgap", "number": "X", "issuer": "Trung tâm", "product_ids": [str(c["product"])],
            "valid_from": "2024-01-01", "valid_until": "2099-12-31"}  # fmt: skip
    assert app_client.post("/app/certificates", data=data).status_code == 403  # no CSRF token
    assert csrf_of(page.text)


def test_only_the_named_certifier_verifies_never_the_cooperative(app_client: TestClient, runtime: Runtime) -> None:
    cert_org, _, cert_link = make_org(runtime, "Trung tâm Chứng nhận Phù hợp QUACERT", OrgKind.certifier)
    c = coop(app_client, runtime)
    assert add_cert(app_client, c, certifier_org_id=str(cert_org)).status_code == 303
    with Session(runtime.engine) as s:
        cert_id = s.query(Certificate).one().id
    csrf = csrf_of(app_client.get("/app/products").text)
    # the cooperative: not from the workspace, not from the console, not through the API
    r = app_client.post(f"/app/certificates/{cert_id}/verify", data={"csrf": csrf})
    assert r.status_code == 403 and "Chỉ cơ quan quản lý hoặc tổ chức chứng nhận" in r.text
    assert app_client.post(f"/app/console/certificates/{cert_id}/verify", data={"csrf": csrf}).status_code == 403
    assert app_client.post(f"/api/v1/certificates/{cert_id}/verify", headers=auth(c["key"])).status_code == 403
    assert 'data-shown="unverified"' in app_client.get("/app/certificates").text
    assert "Xác minh</button>" not in app_client.get("/app/certificates").text
    # the certifier it names
    app_client.cookies.clear()
    page = app_client.get(f"/app/invite/{cert_link}")
    r = app_client.post(f"/app/invite/{cert_link}", data={"csrf": csrf_of(page.text), "username": "quacert",
                        "password": "mật-khẩu-đủ-dài-1"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    screen = app_client.get("/app/certificates")
    assert 'href="/app/certificates"' in screen.text and f'data-cert="{cert_id}"' in screen.text
    r = app_client.post(f"/app/certificates/{cert_id}/verify", data={"csrf": csrf_of(screen.text)},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert f'data-cert="{cert_id}" data-shown="verified"' in app_client.get("/app/certificates").text
    with Session(runtime.engine) as s:
        cert = s.get(Certificate, cert_id)
        assert cert is not None and cert.verified_by_org_id == cert_org


def test_places_show_the_registry_status_and_a_packhouse_code(app_client: TestClient, runtime: Runtime) -> None:
    c = coop(app_client, runtime)
    app_client.cookies.clear()
    _, gov_key = member_client(app_client, runtime, "Chi cục Trồng trọt và BVTV Đồng Tháp", "chicuc", OrgKind.authority)
    body = {"kind": "planting_area", "code": "VN-DTOR-0012", "org_id": c["org"], "issuer": "Cục BVTV",
            "markets": ["CN"], "valid_from": "2024-01-01"}  # fmt: skip
    assert app_client.post("/api/v1/registry/codes", headers=auth(gov_key), json=body).status_code == 201
    r = app_client.post("/api/v1/registry/codes/VN-DTOR-0012/suspend", headers=auth(gov_key),
                        json={"reason": "phát hiện ruồi đục quả"})  # fmt: skip
    assert r.status_code == 200, r.text
    app_client.cookies.clear()
    sign_in(app_client, "htx-admin")
    page = app_client.get("/app/places")
    m = re.search(rf'data-place="{c["plot"]}">(.*?)</li>', page.text)
    assert (
        m
        and 'data-code-status="suspended"' in m.group(1)
        and "BỊ ĐÌNH CHỈ (phát hiện ruồi đục quả)" in re.sub("<[^>]+>", "", m.group(1))
    )
    form = {"csrf": csrf_of(page.text), "kind": "packhouse", "name": "Nhà đóng gói Cao Lãnh",
            "packhouse_code": "VN-DTPH-0005"}  # fmt: skip
    assert app_client.post("/app/places", data=form, follow_redirects=False).status_code == 303
    with Session(runtime.engine) as s:
        house = s.query(Place).filter(Place.kind == "packhouse").one()
        assert house.packhouse_code == "VN-DTPH-0005"
    page = app_client.get("/app/places")
    assert re.search(rf'data-place="{house.id}">.*?VN-DTPH-0005 .*?chưa có trong danh bạ mã số', page.text)
    r = app_client.post("/app/places", data=form | {"kind": "plot", "name": "Thửa 2"})
    assert r.status_code == 422 and err_of(r.text, "packhouse_code").startswith("Mã số cơ sở đóng gói chỉ ghi")
    # a harvest on the suspended plot: refused, next to the plot
    page = app_client.get("/app/harvest")
    r = app_client.post(
        "/app/harvest",
        data={
            "csrf": csrf_of(page.text),
            "gtin": MANGO,
            "plot_id": str(c["plot"]),
            "lot_code": "L1",
            "quantity": "100",
            "uom": "KGM",
            "harvest_date": "2025-03-01",
        },
    )
    assert r.status_code == 422
    assert err_of(r.text, "plot_id").startswith("Mã số vùng trồng VN-DTOR-0012 của «Vườn xoài Mỹ Xương» đang bị")
