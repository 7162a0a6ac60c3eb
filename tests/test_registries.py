"""The registries the province keeps (issues 16, 20): registered planting-area and packing-house
codes with their importing markets stop harvests and export shipments when they do not hold;
certificates are records whose expiry and revocation consumer pages show; only the authority (or
the named certifier) vouches; codes are printed on carton labels."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.world import Org, World, gtin, lot_uri, make_org, make_world, obj_event
from traceability_api.registries.models import CertScheme, scheme_of
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.postgres
MANGO = gtin(201)
AREA, HOUSE = "VN-DTOR-0012", "VN-DTPH-0005"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def places(w: World) -> dict[str, Any]:
    assert w.post(w.coop, "/api/v1/products", {"gtin": MANGO, "name": "Xoài cát Chu", "unit": "KGM"}).status_code == 201
    plot = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Vườn xoài Mỹ Xương", "planting_area_code": AREA})
    house = w.post(w.coop, "/api/v1/places", {"kind": "packhouse", "name": "Nhà đóng gói Cao Lãnh",
                                              "packhouse_code": "vn-dtph0005"})  # fmt: skip
    assert plot.status_code == 201 and house.status_code == 201, (plot.text, house.text)
    return {"plot": plot.json(), "house": house.json()}


def register(w: World, kind: str, code: str, markets: list[str], who: Org | None = None) -> Any:
    body = {"kind": kind, "code": code, "org_id": w.coop.id, "issuer": "Cục Bảo vệ thực vật", "markets": markets,
            "valid_from": "2024-01-01", "valid_until": "2030-12-31"}  # fmt: skip
    return w.post(who or w.authority, "/api/v1/registry/codes", body)


def harvest(w: World, pl: dict[str, Any], lot: str) -> Any:
    body = {"gtin": MANGO, "lot_code": lot, "quantity": 500, "harvest_date": "2025-02-28",
            "plot_id": pl["plot"]["id"], "event_time": "2025-02-28T08:00:00+07:00"}  # fmt: skip
    return w.post(w.coop, "/api/v1/lots", body)


def pack(w: World, pl: dict[str, Any], lot: str) -> None:
    ev = obj_event(lot_uri(MANGO, lot), None, "packing", time="2025-02-28T15:00:00+07:00",
                   bizLocation={"id": pl["house"]["uri"]})  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", ev)
    assert r.status_code == 201, r.text


def ship(w: World, lot: str, market: str) -> Any:
    ev = obj_event(lot_uri(MANGO, lot), None, "shipping", time="2025-03-01T08:00:00+07:00",
                   destinationList=[{"type": "possessing_party", "destination": w.distributor.party}],
                   sourceList=[{"type": "possessing_party", "source": w.coop.party}])  # fmt: skip
    ev["agri:destinationMarket"] = market
    return w.post(w.coop, "/api/v1/events", ev)


def test_shipment_to_china_from_an_area_not_registered_for_china_is_refused(w: World) -> None:
    pl = places(w)
    assert register(w, "planting_area", AREA, ["US", "jp"]).json()["markets"] == ["JP", "US"]
    r = register(w, "packhouse", "VNDTPH0005", ["CN", "US"])
    assert r.status_code == 201 and r.json()["code"] == HOUSE and r.json()["places"] == [pl["house"]["id"]], r.text
    assert harvest(w, pl, "M1").status_code == 201
    pack(w, pl, "M1")
    r = ship(w, "M1", "CN")
    assert r.status_code == 422, r.text
    msg = r.json()["detail"] if "detail" in r.json() else r.text
    assert "lot M1" in str(msg) and f"planting-area code {AREA}" in str(msg) and "not registered for CN" in str(msg)
    assert ship(w, "M1", "US").status_code == 201  # registered for the US: through
    assert ship(w, "M1", "China").status_code == 422  # not an ISO code


def test_a_lot_that_passed_no_registered_packhouse_is_refused(w: World) -> None:
    pl = places(w)
    register(w, "planting_area", AREA, ["CN"])
    assert harvest(w, pl, "M2").status_code == 201
    r = ship(w, "M2", "CN")  # never packed at a packhouse
    assert r.status_code == 422 and "passed through no packhouse" in r.text, r.text
    pack(w, pl, "M2")
    r = ship(w, "M2", "CN")  # the packhouse's code is not in the registry
    assert r.status_code == 422 and f"packing-house code {HOUSE}" in r.text and "not registered" in r.text


def test_suspended_code_stops_harvests_and_export_shipments_until_reinstated(w: World) -> None:
    pl = places(w)
    register(w, "planting_area", AREA, ["CN"])
    register(w, "packhouse", HOUSE, ["CN"])
    assert harvest(w, pl, "M3").status_code == 201
    pack(w, pl, "M3")
    assert w.post(w.authority, f"/api/v1/registry/codes/{AREA}/suspend", {}).status_code == 422  # reason required
    r = w.post(w.authority, f"/api/v1/registry/codes/{AREA}/suspend", {"reason": "dư lượng vượt ngưỡng"})
    assert r.status_code == 200 and r.json()["status"] == "suspended", r.text
    r = harvest(w, pl, "M4")
    assert r.status_code == 422 and AREA in r.text and "suspended" in r.text and "dư lượng" in r.text, r.text
    r = ship(w, "M3", "CN")
    assert r.status_code == 422 and f"{AREA}" in r.text and "is suspended" in r.text, r.text
    r = w.post(w.authority, f"/api/v1/registry/codes/{AREA}/reinstate", {})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert harvest(w, pl, "M4").status_code == 201
    assert ship(w, "M3", "CN").status_code == 201
    w.post(w.authority, f"/api/v1/registry/codes/{HOUSE}/suspend", {"reason": "kiểm tra lại"})
    pack(w, pl, "M4")
    r = ship(w, "M4", "CN")
    assert r.status_code == 422 and f"packing-house code {HOUSE}" in r.text and "suspended" in r.text


def test_only_the_authority_keeps_codes_and_vouches_for_certificates(w: World, runtime: Runtime) -> None:
    pl = places(w)
    assert register(w, "planting_area", AREA, ["CN"], who=w.coop).status_code == 403
    assert register(w, "planting_area", AREA, ["CN"], who=w.mill).status_code == 403
    assert register(w, "planting_area", AREA, ["CN"]).status_code == 201
    assert register(w, "planting_area", AREA, ["US"]).status_code == 409  # unique
    assert register(w, "planting_area", "DT-0012", ["CN"]).status_code == 422  # format
    assert register(w, "planting_area", HOUSE, ["CN"]).status_code == 422  # a packhouse code
    assert register(w, "packhouse", HOUSE, ["C1"]).status_code == 422  # market
    assert w.post(w.coop, f"/api/v1/registry/codes/{AREA}/suspend", {"reason": "x"}).status_code == 403
    r = w.post(w.authority, f"/api/v1/registry/codes/{AREA}/suspend", {"reason": "x"}, role="auditor")
    assert r.status_code == 403  # an authority member who may not write
    with Session(runtime.engine) as s:
        certifier, other = make_org(s, "Trung tâm Chứng nhận VietGAP", "certifier"), make_org(s, "Cert B", "certifier")
        s.commit()
    product_id = w.get(w.coop, "/api/v1/products").json()[0]["id"]
    body = {"scheme": "vietgap", "number": "VietGAP-TT-12-34-0001", "issuer": "Trung tâm Chứng nhận VietGAP",
            "certifier_org_id": certifier.id, "product_ids": [product_id], "place_ids": [pl["plot"]["id"]],
            "valid_from": "2024-01-01", "valid_until": "2030-01-01"}  # fmt: skip
    r = w.post(w.coop, "/api/v1/certificates", body)
    assert r.status_code == 201 and r.json()["status"] == "active" and not r.json()["verified"], r.text
    cid = r.json()["id"]
    assert w.post(w.coop, f"/api/v1/certificates/{cid}/verify", {}).status_code == 403
    assert w.post(w.mill, f"/api/v1/certificates/{cid}/verify", {}).status_code == 404  # not even visible
    assert w.post(other, f"/api/v1/certificates/{cid}/verify", {}).status_code == 404
    assert w.post(w.coop, f"/api/v1/certificates/{cid}/revoke", {"reason": "tự thu hồi"}).status_code == 403
    r = w.post(certifier, f"/api/v1/certificates/{cid}/verify", {})
    assert r.status_code == 200 and r.json()["verified"] is True
    assert w.post(w.coop, "/api/v1/certificates", body | {"product_ids": [999999]}).status_code == 422
    assert w.post(w.mill, "/api/v1/certificates", body).status_code == 422  # not the mill's product or place
    assert w.post(w.coop, "/api/v1/certificates", body | {"scheme": "ocop"}).status_code == 422  # stars missing
    assert w.post(w.coop, "/api/v1/certificates", body | {"certifier_org_id": w.mill.id}).status_code == 422


def test_expired_and_revoked_certificates_show_as_such_on_the_consumer_page(w: World) -> None:
    pl = places(w)
    register(w, "planting_area", AREA, ["CN", "US"])
    product_id = w.get(w.coop, "/api/v1/products").json()[0]["id"]
    old = date.today() - timedelta(days=30)
    certs = {
        "valid": {"scheme": "globalgap", "number": "GG-4063061", "valid_until": "2031-01-01"},
        "expired": {"scheme": "vietgap", "number": "VG-2020-77", "valid_until": old.isoformat()},
        "revoked": {"scheme": "ocop", "ocop_stars": 4, "number": "OCOP-DT-0042", "valid_until": "2031-01-01"},
    }
    ids = {}
    for name, c in certs.items():
        r = w.post(w.coop, "/api/v1/certificates", c | {"issuer": "Sở NN&PTNT Đồng Tháp", "product_ids": [product_id],
                                                        "valid_from": "2020-01-01"})  # fmt: skip
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    assert w.get(w.coop, f"/api/v1/certificates/{ids['expired']}").json()["status"] == "expired"
    r = w.post(w.authority, f"/api/v1/certificates/{ids['revoked']}/revoke", {"reason": "không duy trì tiêu chuẩn"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert harvest(w, pl, "M5").status_code == 201
    html = w.client.get(f"/01/{MANGO}/10/M5", headers={"Accept-Language": "vi"}).text
    assert 'data-status="expired"' in html and "VG-2020-77" in html and "HẾT HIỆU LỰC" in html
    assert 'data-status="revoked"' in html and "OCOP-DT-0042" in html and "ĐÃ BỊ THU HỒI" in html
    assert 'data-status="active"' in html and "GG-4063061" in html
    assert AREA in html and "CN, US" in html  # the registered code and its markets
    en = w.client.get(f"/01/{MANGO}/10/M5?lang=en").text
    assert "EXPIRED" in en and "REVOKED" in en


def test_codes_appear_on_the_carton_label_pdf(w: World) -> None:
    pl = places(w)
    register(w, "planting_area", AREA, ["CN"])
    register(w, "packhouse", HOUSE, ["CN"])
    assert harvest(w, pl, "M6").status_code == 201
    pack(w, pl, "M6")
    lot_id = next(x["id"] for x in w.get(w.coop, "/api/v1/lots").json() if x["lot_code"] == "M6")
    pdf = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"copies": 2})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert text.count(AREA) == 2 and text.count(HOUSE) == 2, text


def test_free_text_certifications_map_to_schemes() -> None:
    assert scheme_of("VietGAP") == (CertScheme.vietgap, None, None)
    assert scheme_of("OCOP 4 sao") == (CertScheme.ocop, 4, None)
    assert scheme_of("Hữu cơ") == (CertScheme.organic, None, None)
    assert scheme_of("ASC") == (CertScheme.other, None, "ASC")


def test_migration_moves_free_text_certifications_into_records(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from traceability_api.db import alembic_config, make_engine

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0013_wsoffline")
        with engine.begin() as c:
            c.execute(text("INSERT INTO organisation (id, name, kind, public_profile, created_at) "
                           "VALUES (1, 'HTX Mỹ Xương', 'cooperative', true, CURRENT_TIMESTAMP)"))  # fmt: skip
            c.execute(text("INSERT INTO product (id, gtin, org_id, name, unit, max_yield, ocop_stars, certifications, "
                           "created_at) VALUES (1, :g, 1, 'Xoài', 'KGM', 1, 4, :c, CURRENT_TIMESTAMP)"),
                      {"g": MANGO, "c": '["VietGAP", "OCOP 4 sao"]'})  # fmt: skip
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as c:
            rows = c.execute(text("SELECT scheme, ocop_stars, verified_at FROM certificate ORDER BY id")).all()
            left = c.execute(text("SELECT certifications FROM product")).scalar_one()
        assert [(r[0], r[1], r[2]) for r in rows] == [("vietgap", None, None), ("ocop", 4, None)]
        assert left in ([], "[]")
    finally:
        engine.dispose()


def test_codes_with_non_ascii_digits_are_refused(w: World) -> None:
    """Python's ``\\d`` matches any Unicode digit: a look-alike code (full-width or Arabic-Indic
    digits) must not be registered beside the real one, nor given to a place."""
    for code in ("VN-DTOR-００１２", "VN-DTOR-٠٠١٢", "VN-DTPH-0０05"):
        kind = "packhouse" if "PH" in code else "planting_area"
        r = register(w, kind, code, ["CN"])
        assert r.status_code == 422 and "registry format" in r.text, (code, r.text)
    assert register(w, "planting_area", AREA, ["CN"]).status_code == 201
    assert w.get(w.authority, "/api/v1/registry/codes/VN-DTOR-００１２").status_code == 404


def test_markets_are_countries_or_the_eu(w: World) -> None:
    """Two letters are not enough: ZZ (unknown region) or XA (pseudo-locale) is no importing market."""
    for markets in (["ZZ"], ["CN", "XA"], ["QQ"]):
        r = register(w, "planting_area", AREA, markets)
        assert r.status_code == 422 and "ISO 3166-1" in r.text, (markets, r.text)
    r = register(w, "planting_area", AREA, ["cn", "EU", "JP"])
    assert r.status_code == 201 and r.json()["markets"] == ["CN", "EU", "JP"], r.text


def test_texts_of_spaces_are_refused_not_stored_empty(w: World) -> None:
    """A certificate number or issuer, a code's issuer or a revocation reason of spaces passed the
    length check and was stored stripped, i.e. empty (201/200): a certificate with no number, a
    revocation with no reason on the consumer page. Texts are stripped before the checks."""
    pl = places(w)
    cert = {"scheme": "vietgap", "number": "VG-1", "issuer": "Trung tâm", "place_ids": [pl["plot"]["id"]],
            "valid_from": "2025-01-01", "valid_until": "2027-01-01"}  # fmt: skip
    for blank in ({"number": "   "}, {"issuer": "    "}, {"number": "\t\n "}):
        r = w.post(w.coop, "/api/v1/certificates", cert | blank)
        assert r.status_code == 422, (blank, r.text)
    body = {"kind": "planting_area", "code": AREA, "org_id": w.coop.id, "issuer": "    ", "markets": ["CN"],
            "valid_from": "2024-01-01"}  # fmt: skip
    assert w.post(w.authority, "/api/v1/registry/codes", body).status_code == 422
    r = w.post(w.coop, "/api/v1/certificates", cert | {"number": "  VG-1  "})
    assert r.status_code == 201 and r.json()["number"] == "VG-1", r.text
    cid = r.json()["id"]
    r = w.post(w.authority, f"/api/v1/certificates/{cid}/revoke", {"reason": "     "})
    assert r.status_code == 422, r.text
    r = w.post(w.authority, f"/api/v1/certificates/{cid}/revoke", {"reason": " giả mạo "})
    assert r.status_code == 200 and r.json()["revoke_reason"] == "giả mạo", r.text


def test_a_certifier_does_not_vouch_for_its_own_certificate(w: World, runtime: Runtime) -> None:
    """A certifier organisation that grows or sells (it may register products and places like anyone)
    recorded a certificate naming itself as certifier, then verified it: its products showed
    'verified' with no third party. Naming oneself as certifier is refused, and an existing
    self-named certificate is not verified by its holder."""
    with Session(runtime.engine) as s:
        certifier = make_org(s, "Trung tâm Chứng nhận kiêm HTX", "certifier")
        s.commit()
    assert w.post(certifier, "/api/v1/products", {"gtin": MANGO, "name": "Xoài", "unit": "KGM"}).status_code == 201
    product_id = w.get(certifier, "/api/v1/products").json()[0]["id"]
    body = {"scheme": "vietgap", "number": "VG-SELF-1", "issuer": "Trung tâm", "certifier_org_id": certifier.id,
            "product_ids": [product_id], "valid_from": "2024-01-01", "valid_until": "2030-01-01"}  # fmt: skip
    r = w.post(certifier, "/api/v1/certificates", body)
    assert r.status_code == 422 and "certifier" in r.text, r.text
    r = w.post(certifier, "/api/v1/certificates", body | {"certifier_org_id": None})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    with Session(runtime.engine) as s:  # one recorded before the rule
        from traceability_api.registries.models import Certificate

        row = s.get(Certificate, cid)
        assert row is not None
        row.certifier_org_id = certifier.id
        s.add(row)
        s.commit()
    assert w.post(certifier, f"/api/v1/certificates/{cid}/verify", {}).status_code == 403
    assert w.post(w.authority, f"/api/v1/certificates/{cid}/verify", {}).json()["verified"] is True


def test_a_code_is_not_held_by_an_authority(w: World) -> None:
    """An authority (or a certification body) grows, packs and processes nothing: a planting-area
    code in its name is refused, and the console's holder list does not offer it."""
    body = {"kind": "planting_area", "code": AREA, "org_id": w.authority.id, "issuer": "Cục Bảo vệ thực vật",
            "markets": ["CN"], "valid_from": "2024-01-01"}  # fmt: skip
    r = w.post(w.authority, "/api/v1/registry/codes", body)
    assert r.status_code == 422 and "grower, packer or processor" in r.text, r.text
    assert register(w, "planting_area", AREA, ["CN"]).status_code == 201  # the cooperative may hold it


def test_a_validity_with_a_slipped_year_is_refused_for_codes_and_certificates(w: World) -> None:
    """2205 typed for 2025 made a planting-area code or a certificate valid for two centuries (and
    1025 valid since the Middle Ages): the consumer page and the export checks believed it."""
    base = {"kind": "planting_area", "code": AREA, "org_id": w.coop.id, "issuer": "Cục Bảo vệ thực vật",
            "markets": ["CN"], "valid_from": "2024-01-01"}  # fmt: skip
    for dates, words in (
        ({"valid_until": "2205-12-31"}, "after 2099"),
        ({"valid_from": "1025-01-01"}, "before 1990"),
        ({"valid_from": f"{date.today().year + 2}-01-01"}, "more than a year ahead"),
    ):
        r = w.post(w.authority, "/api/v1/registry/codes", base | dates)
        assert r.status_code == 422 and words in r.text, (dates, r.text)
    assert w.post(w.authority, "/api/v1/registry/codes", base | {"valid_until": "2099-12-31"}).status_code == 201
    product = w.post(w.coop, "/api/v1/products", {"gtin": MANGO, "name": "Xoài cát Hòa Lộc", "unit": "KGM"})
    assert product.status_code == 201, product.text
    cert = {"scheme": "vietgap", "number": "VG-1", "issuer": "Trung tâm", "product_ids": [product.json()["id"]],
            "valid_from": "2025-01-01", "valid_until": "2205-01-01"}  # fmt: skip
    r = w.post(w.coop, "/api/v1/certificates", cert)
    assert r.status_code == 422 and "valid_until 2205-01-01 is after 2099: check the year" in r.text, r.text
    assert w.post(w.coop, "/api/v1/certificates", cert | {"valid_until": "2027-01-01"}).status_code == 201
