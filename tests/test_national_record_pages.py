"""The national record on people's pages: the workspace lot page tells the cooperative what is
missing before it publishes (Vietnamese first, English by the switch) and offers the record as a
file; the authority console shows completeness by organisation, as the database has it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from lxml import etree
from sqlmodel import Session

from tests.conftest import auth
from tests.workspace_helpers import member_client
from traceability_api.national.completeness import completeness_by_org
from traceability_api.national.export import XSD
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

GTIN = "08931234560010"


def _harvest(client: TestClient, key: str) -> int:
    h = auth(key)
    assert client.post("/api/v1/products", headers=h, json={"gtin": GTIN, "name": "Xoài cát Chu"}).status_code == 201
    plot = client.post("/api/v1/places", headers=h, json={"kind": "plot", "name": "Vườn ông Ba",
                                                          "planting_area_code": "VN-DT-0012"})  # fmt: skip
    assert plot.status_code == 201, plot.text
    body = {
        "gtin": GTIN,
        "lot_code": "MX-01",
        "quantity": 500,
        "plot_id": plot.json()["id"],
        "harvest_date": "2025-05-07",
    }
    lot = client.post("/api/v1/lots", headers=h, json=body)
    assert lot.status_code == 201, lot.text
    return int(lot.json()["id"])


def _missing(html: str) -> set[str]:
    return set(re.findall(r'data-missing="([a-z_]+)"', html))


def test_lot_page_lists_what_the_record_lacks_until_it_is_complete(app_client: TestClient, runtime: Runtime) -> None:
    _, key = member_client(app_client, runtime, "HTX Xoài Mỹ Xương", "htx-admin")
    lot_id = _harvest(app_client, key)
    page = app_client.get(f"/app/lots/{lot_id}").text
    assert "Hồ sơ truy xuất quốc gia" in page and "Còn thiếu trước khi công bố" in page
    assert _missing(page) == {"product_image", "producer_address", "brand", "shelf_life", "standards"}
    assert "Địa chỉ đơn vị sản xuất" in page and "Tiêu chuẩn áp dụng" in page
    app_client.get("/app/lang?to=en&next=/app")
    assert "Producer address" in app_client.get(f"/app/lots/{lot_id}").text
    app_client.get("/app/lang?to=vi&next=/app")

    h = auth(key)
    product_id = app_client.get("/api/v1/products", headers=h).json()[0]["id"]
    r = app_client.patch(f"/api/v1/products/{product_id}", headers=h, json={
        "brand": "Xoài Mỹ Xương", "image_url": "/app/static/product-mango.svg", "shelf_life_days": 14,
        "standards": [{"kind": "TCVN", "number": "11892-1:2017", "title": "VietGAP – Trồng trọt"}],
    })  # fmt: skip
    assert r.status_code == 200, r.text
    assert app_client.patch("/api/v1/organisations/me", headers=h, json={"address": "Xã Mỹ Xương, Cao Lãnh"}).is_success
    page = app_client.get(f"/app/lots/{lot_id}").text
    assert _missing(page) == set() and "Đủ các thông tin bắt buộc" in page
    assert app_client.get("/app/static/product-mango.svg").headers["content-type"] == "image/svg+xml"

    xml = app_client.get(f"/app/lots/{lot_id}/national-record.xml")
    assert xml.status_code == 200 and "attachment" in xml.headers["content-disposition"]
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(etree.fromstring(xml.content))
    assert app_client.get(f"/app/lots/{lot_id}/national-record.json").json()["completeness"]["complete"] is True

    app_client.cookies.clear()
    member_client(app_client, runtime, "Công ty Sa Giang", "sagiang")  # another organisation
    assert app_client.get(f"/app/lots/{lot_id}/national-record.json").status_code == 404


def test_console_shows_completeness_by_organisation(app_client: TestClient, runtime: Runtime) -> None:
    _, key = member_client(app_client, runtime, "HTX Xoài Mỹ Xương", "htx-admin")
    _harvest(app_client, key)
    assert app_client.get("/app/console/national-record").status_code == 403
    app_client.cookies.clear()
    member_client(app_client, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    page = app_client.get("/app/console/national-record")
    assert page.status_code == 200 and "Hồ sơ truy xuất quốc gia" in page.text
    with Session(runtime.engine) as s:
        (row,) = completeness_by_org(s)
    html = page.text
    assert re.search(
        rf'data-org="{row["orgId"]}"><th scope="row">HTX Xoài Mỹ Xương</th><td data-figure="lots">1<', html
    )
    assert row["complete"] == 0 and _missing(html) == set(row["missing"]) == {
        "product_image", "producer_address", "brand", "shelf_life", "standards"}  # fmt: skip
    later = app_client.get("/app/console/national-record", params={"since": "2999-01-01"})
    assert "Chưa có lô hàng" in later.text
    bad = app_client.get("/app/console/national-record", params={"since": "01/02/2025"})
    assert bad.status_code == 422 and "Ngày không hợp lệ" in bad.text
    # a period that ends before it starts is said so (it read 'no lot in this period'), as the API's 422
    reversed_ = app_client.get("/app/console/national-record", params={"since": "2025-12-01", "until": "2025-01-01"})
    assert reversed_.status_code == 422 and "phải trước" in reversed_.text and "Chưa có lô hàng" not in reversed_.text
