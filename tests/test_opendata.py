"""Open data: the DCAT-AP catalogue expands as JSON-LD (pyld) and every distribution it lists
downloads with its media type and checksum; no personal or private data reaches any file; the
datasets hold the aggregates they promise; rebuilds are idempotent; only authorities rebuild."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from sqlmodel import Session, select

from chain.merkle import keccak
from tests.conftest import REPO
from tests.world import gtin, lot_uri, make_org
from traceability_api.anchoring import lease
from traceability_api.audit.service import audit
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.consensus.proofs import leaf_of_digest_hex
from traceability_api.consensus.records import file_digest
from traceability_api.main import create_app
from traceability_api.opendata.build import build
from traceability_api.opendata.models import OpenDataFile
from traceability_api.opendata.public import commune_of
from traceability_api.opendata.schedule import OpenDataSchedule
from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.parties.models import MemberCreate, OrganisationCreate, Role
from traceability_api.parties.service import create_member, create_organisation
from traceability_api.runtime import Runtime

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SPDX = "http://spdx.org/rdf/terms#"
BASE = "https://trace.example.vn"

# personal and private things seeded below: none may appear in any open-data file
SECRETS = (
    "Nguyễn Thị Hoa", "0912 345 678", "hoa.nguyen@example.vn",  # a member
    "Trần Văn Tư", "0987654321", "tu.tran@example.vn",  # another member
    "Vườn nhà ông Lê Văn Sáu",  # a place named after its farmer
    "số 7 hẻm 12", "0292 3841 555",  # the place's street address and phone
    "Lô 9 đường Trần Hưng Đạo",  # the cooperative's street address
    "HTX Bí Mật Kín Đáo",  # an organisation whose profile is not public
    "gọi 0901 222 333 gặp chị Lan",  # a diary note (private farm record)
    "mô tả riêng 0933 444 555",  # a product description
    "0292 3999 888", "Phạm Thị Mai",  # the cooperative's phone and point of contact (FSMA 204 fields)
    "liên hệ 0977 888 999",  # a certificate's note
    "gian lận, báo 0966 111 222",  # a revocation's reason
)  # fmt: skip


@pytest.fixture
def od(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, TestClient]]:
    st = Settings(data_dir=tmp_path / "var", database_url=database_url, chain_enabled=False, public_base_url=BASE,
                  rate_limit_enabled=False, opendata_interval_h=0)  # fmt: skip
    rt = build_runtime(st)
    with TestClient(create_app(rt)) as client:
        yield rt, client
    rt.close()


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def seed(rt: Runtime, client: TestClient) -> dict[str, str]:
    """An authority, a public cooperative with members, a plot and lots; a private-profile one."""
    with Session(rt.engine) as s:
        authority = make_org(s, "Chi cục QLCL Cần Thơ", "authority")
        coop, issued = create_organisation(s, OrganisationCreate(
            name="HTX Lúa gạo Thạnh Phú", kind="cooperative", admin_name="Nguyễn Thị Hoa",  # type: ignore[arg-type]
            address="Lô 9 đường Trần Hưng Đạo, xã Thạnh Phú, huyện Cờ Đỏ, Cần Thơ", phone="0292 3999 888",
            contact_name="Phạm Thị Mai"))  # fmt: skip
        assert coop.id is not None
        create_member(s, coop.id, MemberCreate(name="Trần Văn Tư 0987654321 tu.tran@example.vn", role=Role.recorder))
        create_member(s, coop.id, MemberCreate(name="Hoa 0912 345 678 hoa.nguyen@example.vn", role=Role.viewer))
        hidden, hidden_issued = create_organisation(s, OrganisationCreate(
            name="HTX Bí Mật Kín Đáo", kind="cooperative", admin_name="Ẩn danh", public_profile=False))  # type: ignore[arg-type]  # fmt: skip
        s.commit()
    keys = {"authority": authority.keys["admin"], "coop": issued.api_key, "hidden": hidden_issued.api_key}
    rice, mango = gtin(1), gtin(2)
    r = client.post("/api/v1/products", headers=h(keys["coop"]), json={
        "gtin": rice, "name": "Lúa ST25 – Thạnh Phú", "name_en": "ST25 paddy", "unit": "KGM",
        "certifications": ["VietGAP", "OCOP 4 sao"], "description": "mô tả riêng 0933 444 555"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/products", headers=h(keys["hidden"]), json={"gtin": mango, "name": "Xoài cát Hòa Lộc"})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/places", headers=h(keys["coop"]), json={
        "kind": "plot", "name": "Vườn nhà ông Lê Văn Sáu", "planting_area_code": "CT-TP-001", "area_ha": 4.5,
        "address": "số 7 hẻm 12, ấp Thới Hòa, xã Thạnh Phú, ĐT 0292 3841 555",
        "geo": {"type": "Point", "coordinates": [105.58, 10.12]}})  # fmt: skip
    assert r.status_code == 201, r.text
    plot = r.json()["id"]
    r = client.post("/api/v1/places", headers=h(keys["hidden"]), json={
        "kind": "plot", "name": "Vườn xoài", "planting_area_code": "TG-CB-0045"})  # fmt: skip
    hidden_plot = r.json()["id"]
    certificates = (  # a verified one on the plot, an expired one and a revoked one on the paddy
        {"scheme": "vietgap", "number": "VG-CT-0123", "issuer": "QUACERT", "place_ids": [plot],
         "valid_from": "2024-06-01", "valid_until": "2099-06-01", "note": "liên hệ 0977 888 999"},
        {"scheme": "ocop", "ocop_stars": 4, "number": "OCOP-2023-45", "issuer": "UBND TP Cần Thơ",
         "product_ids": [1], "valid_from": "2023-01-01", "valid_until": "2024-12-31"},
        {"scheme": "globalgap", "number": "GG-4049929", "issuer": "Control Union", "product_ids": [1],
         "valid_from": "2024-01-01", "valid_until": "2099-01-01"},
    )  # fmt: skip
    ids = []
    for body in certificates:
        r = client.post("/api/v1/certificates", headers=h(keys["coop"]), json=body)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = client.post(f"/api/v1/certificates/{ids[0]}/verify", headers=h(keys["authority"]))
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/certificates/{ids[2]}/revoke", headers=h(keys["authority"]),
                    json={"reason": "gian lận, báo 0966 111 222"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/places/{plot}/diary", headers=h(keys["coop"]), json={
        "activity": "pest_observation", "time": "2025-01-10T07:00:00+07:00", "pest": "rầy nâu",
        "note": "gọi 0901 222 333 gặp chị Lan"})  # fmt: skip
    assert r.status_code == 201, r.text
    for code, qty, day in (("TP-01", 1000, "2025-02-27"), ("TP-02", 500.5, "2025-02-28"), ("TP-03", 300, "2025-03-02")):
        r = client.post("/api/v1/lots", headers=h(keys["coop"]), json={
            "gtin": rice, "lot_code": code, "quantity": qty, "plot_id": plot, "harvest_date": day,
            "event_time": f"{day}T17:00:00+07:00"})  # fmt: skip
        assert r.status_code == 201, r.text
    r = client.post("/api/v1/places", headers=h(keys["coop"]), json={
        "kind": "plot", "name": "Ruộng thử nghiệm", "planting_area_code": "CT-TP-PRIV"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/lots", headers=h(keys["coop"]), json={  # a private harvest: not in open data
        "gtin": rice, "lot_code": "TP-PRIV", "quantity": 7777, "plot_id": r.json()["id"], "harvest_date": "2025-02-20",
        "event_time": "2025-02-20T17:00:00+07:00", "visibility": "private"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/lots", headers=h(keys["hidden"]), json={
        "gtin": mango, "lot_code": "M1", "quantity": 80, "plot_id": hidden_plot,
        "event_time": "2025-04-01T05:00:00+07:00"})  # fmt: skip
    # no harvest date: the month is the event's in Vietnam (1 April; still 31 March in UTC)
    assert r.status_code == 201, r.text
    return keys


def _path(url: str) -> str:
    assert url.startswith(BASE), url
    return urlsplit(url).path


def _rebuild(client: TestClient, keys: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/opendata/build", headers=h(keys["authority"]))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _files(client: TestClient) -> dict[str, bytes]:
    out = {}
    for name in ("products", "planting_areas", "monthly_volumes", "certifications"):
        for fmt in ("csv", "json"):
            r = client.get(f"/opendata/{name}.{fmt}")
            assert r.status_code == 200, r.text
            out[f"{name}.{fmt}"] = r.content
    return out


def _csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())  # UTF-8 with BOM
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_catalogue_expands_as_json_ld_and_every_distribution_downloads(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    _rebuild(client, keys)
    r = client.get("/opendata/catalog.jsonld")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    expanded = jsonld.expand(r.json())  # inline context: no document loader needed
    catalog = next(n for n in expanded if DCAT + "Catalog" in n.get("@type", []))
    assert {t["@language"] for t in catalog[DCT + "title"]} == {"vi", "en"}
    datasets = catalog[DCAT + "dataset"]
    assert len(datasets) == 4
    checked = 0
    for ds in datasets:
        assert DCAT + "Dataset" in ds["@type"]
        assert {t["@language"] for t in ds[DCT + "title"]} == {"vi", "en"}
        assert ds[DCT + "description"] and ds[DCT + "modified"]
        assert ds[DCT + "license"][0]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
        assert ds[DCT + "publisher"][0]["@id"] == BASE + "/opendata#publisher"
        for dist in ds[DCAT + "distribution"]:
            url = dist[DCAT + "downloadURL"][0]["@id"]
            media = dist[DCAT + "mediaType"][0]["@id"].rsplit("/media-types/", 1)[1]
            checksum = dist[SPDX + "checksum"][0]
            assert checksum[SPDX + "algorithm"][0]["@id"] == SPDX + "checksumAlgorithm_sha256"
            digest = checksum[SPDX + "checksumValue"][0]["@value"]
            got = client.get(_path(url))
            assert got.status_code == 200, url
            assert got.headers["content-type"].split(";")[0] == media
            fmt = dist[DCT + "format"][0]["@id"].rsplit("/", 1)[1]
            assert fmt == url.rsplit(".", 1)[1].upper()  # EU file-type vocabulary: CSV, JSON
            assert hashlib.sha256(got.content).hexdigest() == digest
            assert int(dist[DCAT + "byteSize"][0]["@value"]) == len(got.content)
            proof = client.get(_path(dist["https://ns.agritrace.vn/voc/merkleProof"][0]["@id"]))
            assert proof.status_code == 200 and proof.json()["sha256"] == digest
            assert proof.json()["status"] == "pending"  # no chain here: queued for anchoring
            checked += 1
    assert checked == 8  # four datasets, CSV and JSON each
    with rt.engine.connect() as conn:
        items = conn.execute(select(AnchorItem.kind, AnchorItem.digest)).all()
    assert sum(1 for k, _ in items if k == ItemKind.opendata) == 8


def test_no_personal_or_private_data_in_any_open_data_file(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    _rebuild(client, keys)
    files = _files(client)
    catalogue = client.get("/opendata/catalog.jsonld").content
    for name, content in [*files.items(), ("catalog.jsonld", catalogue)]:
        text = content.decode("utf-8-sig")
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in {name}"
        digits = re.sub(r"(0x)?[0-9a-fA-F]{32,}", "#", text)  # a SHA-256 or tx hash may hold "7777" by chance
        for part in ("0912", "0987654321", "0901", "0933", "0977", "0966", "3999", "@example.vn", "ông Lê", "7777"):
            assert part not in digits, f"{part!r} in {name}"
    # what is there: the cooperative (a legal entity) by name, the hidden one blank
    products = {r["gtin"]: r for r in _csv(files["products.csv"])}
    assert products[gtin(1)]["organisation"] == "HTX Lúa gạo Thạnh Phú"
    assert products[gtin(2)]["organisation"] == ""


def test_datasets_hold_the_promised_aggregates(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    rice = gtin(5)  # milled from paddy: a product of kind "processed", its lot not a harvest
    assert (
        client.post("/api/v1/products", headers=h(keys["coop"]), json={"gtin": rice, "name": "Gạo ST25"}).status_code
        == 201
    )
    t = {"type": "TransformationEvent", "eventTime": "2025-03-05T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
         "bizStep": "commissioning",
         "inputQuantityList": [{"epcClass": lot_uri(gtin(1), "TP-01"), "quantity": 1000, "uom": "KGM"}],
         "outputQuantityList": [{"epcClass": lot_uri(rice, "G-01"), "quantity": 620, "uom": "KGM"}]}  # fmt: skip
    r = client.post("/api/v1/events", headers=h(keys["coop"]), json=t)
    assert r.status_code == 201, r.text
    serials = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-06T08:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "epcList": [f"https://id.gs1.org/01/{rice}/21/G-01-1"],
        "quantityList": [{"epcClass": lot_uri(rice, "G-01")}],
    }  # its bags serialised for labels: no harvest
    r = client.post("/api/v1/events", headers=h(keys["coop"]), json=serials)
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/places", headers=h(keys["coop"]), json={
        "kind": "plot", "name": "Vườn sầu riêng, xã Thới Lai", "planting_area_code": "VN-CTOR-0001"})  # fmt: skip
    assert r.status_code == 201, r.text
    coop_org = client.get("/api/v1/places", headers=h(keys["coop"])).json()[0]["org_id"]
    r = client.post("/api/v1/registry/codes", headers=h(keys["authority"]), json={
        "kind": "planting_area", "code": "VN-CTOR-0001", "org_id": coop_org, "issuer": "Cục Bảo vệ thực vật",
        "markets": ["CN", "EU"], "valid_from": "2024-01-01"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/registry/codes/VN-CTOR-0001/suspend", headers=h(keys["authority"]),
                    json={"reason": "dư lượng vượt ngưỡng"})  # fmt: skip
    assert r.status_code == 200, r.text
    _rebuild(client, keys)
    files = _files(client)
    products = {r["gtin"]: r for r in _csv(files["products.csv"])}
    assert products[gtin(1)]["name"] == "Lúa ST25 – Thạnh Phú" and products[gtin(1)]["kind"] == "crop"
    assert products[gtin(5)]["kind"] == "processed"
    areas = {r["code"]: r for r in _csv(files["planting_areas.csv"])}
    assert areas["CT-TP-001"] == {"code": "CT-TP-001", "place_kind": "plot", "commune": "Xã Thạnh Phú",
                                  "area_ha": "4.5", "crop": "Lúa ST25 – Thạnh Phú",
                                  "organisation": "HTX Lúa gạo Thạnh Phú",
                                  "registry_status": "", "markets": ""}  # fmt: skip
    # an export code registered by the authority, then suspended: its status and markets are published
    assert areas["VN-CTOR-0001"]["registry_status"] == "suspended" and areas["VN-CTOR-0001"]["markets"] == "CN EU"
    assert areas["VN-CTOR-0001"]["commune"] == "Xã Thới Lai"
    assert areas["CT-TP-PRIV"]["crop"] == ""  # its only harvest is private
    assert "geometry" not in areas["CT-TP-001"]  # geometry only when AGRITRACE_OPENDATA_GEOMETRY allows
    volumes = [
        (r["month"], r["gtin"], r["commune"], r["quantity"], r["lots"]) for r in _csv(files["monthly_volumes.csv"])
    ]
    assert volumes == [
        ("2025-02", gtin(1), "Xã Thạnh Phú", "1500.5", "2"),
        ("2025-03", gtin(1), "Xã Thạnh Phú", "300.0", "1"),
        ("2025-04", gtin(2), "", "80.0", "1"),
    ]
    certs = [(r["gtin"], r["area_code"], r["certification"], r["number"], r["status"], r["verified"])
             for r in _csv(files["certifications.csv"])]  # fmt: skip
    assert certs == [
        ("", "CT-TP-001", "VietGAP", "VG-CT-0123", "active", "True"),  # verified by the authority
        (gtin(1), "", "GlobalGAP", "GG-4049929", "revoked", "False"),
        (gtin(1), "", "OCOP 4★", "OCOP-2023-45", "expired", "False"),
        (gtin(1), "", "OCOP 4 sao", "", "self_declared", "False"),  # the product's own free text
        (gtin(1), "", "VietGAP", "", "self_declared", "False"),
    ]
    doc = json.loads(files["monthly_volumes.json"])
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["rows"][0] == {"month": "2025-02", "gtin": gtin(1), "product": "Lúa ST25 – Thạnh Phú",
                              "commune": "Xã Thạnh Phú", "quantity": 1500.5, "unit": "KGM", "lots": 2}  # fmt: skip


def test_text_that_looks_like_a_formula_stays_text_in_the_csv_files(od: tuple[Runtime, TestClient]) -> None:
    """The CSV files carry a BOM for spreadsheet programs, and their texts are written by any
    organisation (brand, certificate number and issuer): a leading =, +, - or @ must not
    become a live formula (CSV injection). The JSON files keep the text exactly as written."""
    rt, client = od
    keys = seed(rt, client)
    brand, number, issuer = '=HYPERLINK("http://evil.example")', "+1-555", "@SUM(1+1)*cmd"
    r = client.patch("/api/v1/products/1", headers=h(keys["coop"]), json={"brand": brand})
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/places", headers=h(keys["coop"]), json={
        "kind": "plot", "name": "Ruộng", "planting_area_code": "CT-TP-777"})  # fmt: skip
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/certificates", headers=h(keys["coop"]), json={
        "scheme": "vietgap", "number": number, "issuer": issuer, "place_ids": [r.json()["id"]],
        "valid_from": "2024-06-01", "valid_until": "2099-06-01"})  # fmt: skip
    assert r.status_code == 201, r.text
    _rebuild(client, keys)
    files = _files(client)
    products = {r["gtin"]: r for r in _csv(files["products.csv"])}
    assert products[gtin(1)]["brand"] == "'" + brand
    cert = next(r for r in _csv(files["certifications.csv"]) if r["area_code"] == "CT-TP-777")
    assert (cert["number"], cert["issuer"]) == ("'" + number, "'" + issuer)
    for name in ("products.csv", "planting_areas.csv", "certifications.csv"):
        for row in _csv(files[name]):
            assert not any(v.startswith(("=", "+", "-", "@")) for v in row.values()), (name, row)
    rows = json.loads(files["certifications.json"])["rows"]
    row = next(x for x in rows if x["area_code"] == "CT-TP-777")
    assert (row["number"], row["issuer"]) == (number, issuer)
    assert json.loads(files["products.json"])["rows"][0]["brand"] == brand


def test_geometry_and_licence_follow_their_settings(tmp_path: Path, database_url: str) -> None:
    st = Settings(data_dir=tmp_path / "var", database_url=database_url, chain_enabled=False, public_base_url=BASE,
                  rate_limit_enabled=False, opendata_interval_h=0, opendata_geometry=True,
                  opendata_license="https://creativecommons.org/publicdomain/zero/1.0/")  # fmt: skip
    rt = build_runtime(st)
    try:
        with TestClient(create_app(rt)) as client:
            keys = seed(rt, client)
            _rebuild(client, keys)
            areas = {r["code"]: r for r in _csv(client.get("/opendata/planting_areas.csv").content)}
            assert json.loads(areas["CT-TP-001"]["geometry"]) == {"coordinates": [105.58, 10.12], "type": "Point"}
            cat = client.get("/opendata").json()
            assert cat["dct:license"]["@id"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    finally:
        rt.close()


def test_rebuild_is_idempotent_and_new_data_makes_new_files(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    first = _rebuild(client, keys)
    assert first["changed"] == 8
    again = _rebuild(client, keys)
    assert again["changed"] == 0 and again["files"] == first["files"]  # same bytes: not stored or anchored again
    old = client.get("/opendata/products.csv")
    r = client.post("/api/v1/products", headers=h(keys["coop"]), json={"gtin": gtin(3), "name": "Gạo lứt"})
    assert r.status_code == 201
    third = build(rt.engine, rt.settings)
    assert third.changed == 2  # products.csv and products.json
    old_file = next(f for f in first["files"] if f["dataset"] == "products" and f["format"] == "csv")
    kept = client.get(f"/opendata/files/{old_file['id']}/products.csv")  # an earlier download stays checkable
    assert kept.status_code == 200 and kept.content == old.content
    assert kept.headers["cache-control"].endswith("immutable")
    etag = kept.headers["etag"]
    assert etag == f'"{hashlib.sha256(kept.content).hexdigest()}"'
    same = client.get(f"/opendata/files/{old_file['id']}/products.csv", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""  # a harvester that has the bytes gets no body
    head = client.head("/opendata/products.csv")  # link checkers: headers, no body
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] != etag
    assert client.get("/opendata/products.csv", headers={"If-None-Match": etag}).status_code == 200  # changed since
    assert client.get("/opendata/products.csv").content != old.content


def test_landing_page_links_the_catalogue(od: tuple[Runtime, TestClient]) -> None:
    _, client = od
    page = client.get("/").text
    assert 'href="/opendata"' in page and "Dữ liệu mở" in page


def test_only_authorities_rebuild_and_bad_names_are_refused(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    assert client.post("/api/v1/opendata/build", headers=h(keys["coop"])).status_code == 403
    assert client.post("/api/v1/opendata/build").status_code == 401
    assert client.get("/opendata/products.csv").status_code == 404  # nothing built yet
    _rebuild(client, keys)
    for bad in ("/opendata/products.xlsx", "/opendata/../etc.csv", "/opendata/files/1/planting_areas.csv",
                "/opendata/proofs/" + "z" * 64, "/opendata/proofs/" + "0" * 64):  # fmt: skip
        assert client.get(bad).status_code in (404, 422), bad
    assert client.get("/opendata/proofs/" + "0" * 64).status_code == 404


def test_commune_is_read_from_addresses_and_names() -> None:
    assert commune_of("Ấp 3, xã Thạnh Phú, huyện Cờ Đỏ") == "Xã Thạnh Phú"
    assert commune_of(None, "Nhà đóng gói xã Mỹ Hiệp") == "Xã Mỹ Hiệp"
    assert commune_of("12 đường 30/4, Phường An Hòa, Ninh Kiều") == "Phường An Hòa"
    assert commune_of("thị trấn Cái Bè, Tiền Giang") == "Thị trấn Cái Bè"
    assert commune_of("số 3 đường Lý Thường Kiệt, Phường 5, TP Cao Lãnh") == "Phường 5"  # numbered wards
    assert commune_of("Cần Thơ", None, "") == ""


def test_anchored_digest_of_a_download_verifies_against_the_chain(runtime: Runtime) -> None:
    """Download a file, hash it, fetch its proof, and check leaf, proof and root, the root on the
    anvil chain through the contract (its anchorOf and its own MerkleProof verify)."""
    from traceability_api.anchoring.worker import make_worker
    from traceability_api.consensus.proofs import proof_leads_to

    assert runtime.chain is not None
    with TestClient(create_app(runtime)) as client:
        keys = seed(runtime, client)
        _rebuild(client, keys)
        make_worker(runtime.engine, runtime.chain, runtime.settings).run_once()
        got = client.get("/opendata/monthly_volumes.csv")
        assert got.status_code == 200
        digest = hashlib.sha256(got.content).hexdigest()
        proof = client.get(f"/opendata/proofs/{digest}").json()
    assert proof["status"] == "anchored"
    leaf = leaf_of_digest_hex(digest)
    assert proof["leaf"] == "0x" + leaf.hex()
    assert proof_leads_to(leaf, proof["proof"], proof["root"])
    contract = runtime.chain.contract
    root = bytes.fromhex(proof["root"][2:])
    record = contract.anchor_of(root)
    assert record is not None and record.timestamp == proof["blockTimestamp"]
    assert contract.verify([bytes.fromhex(p[2:]) for p in proof["proof"]], root, leaf)
    rep = audit(runtime.engine, contract)
    assert rep.ok and rep.opendata_files == 8 and rep.pending == 0, rep.problems
    # a byte changed in the download no longer matches the anchored digest
    tampered = got.content.replace(b"1500.5", b"1600.5")
    assert hashlib.sha256(tampered).hexdigest() != digest
    assert not proof_leads_to(leaf_of_digest_hex(hashlib.sha256(tampered).hexdigest()), proof["proof"], proof["root"])


def test_audit_finds_a_published_file_changed_behind_the_services_back(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    _rebuild(client, keys)
    clean = audit(rt.engine, None)
    assert clean.ok and clean.opendata_files == 8 and clean.pending >= 8  # no chain here: queued
    with Session(rt.engine) as s:
        f = s.exec(
            select(OpenDataFile).where(OpenDataFile.dataset == "monthly_volumes", OpenDataFile.fmt == "csv")
        ).one()
        f.content, fid = f.content.replace(b"1500.5", b"1600.5"), f.id
        s.add(f)
        s.commit()
    rep = audit(rt.engine, None)
    assert [p for p in rep.problems if "open-data" in p] == [
        f"open-data file {fid} (monthly_volumes.csv): changed after it was published"
    ]


def test_schedule_builds_and_waits_while_another_process_builds(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    sched = OpenDataSchedule(rt.engine, rt.settings.model_copy(update={"opendata_interval_h": 24}), first_delay_s=0)
    assert sched.run_once() == 24 * 3600 and sched.builds == 1
    assert lease.acquire(rt.engine, "opendata", "elsewhere:1", ttl_s=600)  # another process is building
    try:
        r = client.post("/api/v1/opendata/build", headers=h(keys["authority"]))
        assert r.status_code == 409 and "another process" in r.text
        assert sched.run_once() == 24 * 3600 and sched.builds == 1
    finally:
        lease.release(rt.engine, "opendata", "elsewhere:1")
    sched.start()  # the thread builds after its first delay (0 here), then waits a day; stop ends the wait
    try:
        deadline = time.monotonic() + 60
        while sched.builds < 2:
            assert time.monotonic() < deadline, "the schedule thread did not build"
            time.sleep(0.05)
    finally:
        sched.stop()
    assert not sched._thread.is_alive()


def test_cli_builds_the_files_the_catalogue_then_lists(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    seed(rt, client)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": rt.settings.effective_database_url,
            "AGRITRACE_DATA_DIR": str(rt.settings.data_dir), "AGRITRACE_CHAIN_ENABLED": "false"}  # fmt: skip
    cmd = [sys.executable, "-m", "traceability_api.cli", "opendata", "build"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "8 files, 8 changed" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("products.csv"))
    digest = line.rsplit("sha256 ", 1)[1]
    assert hashlib.sha256(client.get("/opendata/products.csv").content).hexdigest() == digest
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "8 files, 0 changed" in again.stdout


def test_open_data_is_rate_limited_like_public_pages(tmp_path: Path, database_url: str) -> None:
    st = Settings(data_dir=tmp_path / "var", database_url=database_url, chain_enabled=False, rate_public="3/minute",
                  opendata_interval_h=0)  # fmt: skip
    rt = build_runtime(st)
    try:
        with TestClient(create_app(rt)) as client:
            answers = [client.get("/opendata/catalog.jsonld").status_code for _ in range(4)]
            assert answers == [200, 200, 200, 429]
            assert client.get("/opendata/products.csv").status_code == 429
    finally:
        rt.close()


def test_file_digest_is_the_plain_sha256_of_the_bytes() -> None:
    """Golden values: a reuser's ``sha256sum`` is the anchored digest; the leaf is OpenZeppelin's."""
    assert file_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert file_digest("\ufeffgtin\r\n".encode()) == hashlib.sha256(b"\xef\xbb\xbfgtin\r\n").hexdigest()
    leaf = leaf_of_digest_hex(file_digest(b""))
    assert leaf == keccak(keccak(bytes.fromhex(file_digest(b""))))


def test_older_files_beyond_the_kept_number_lose_their_bytes_not_their_proof(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    settings = rt.settings.model_copy(update={"opendata_keep_files": 2})
    first = build(rt.engine, settings)
    old = next(f for f in first.files if f["dataset"] == "products" and f["format"] == "json")
    for n in (3, 4):  # two more versions of products: the first falls out of the two kept
        r = client.post("/api/v1/products", headers=h(keys["coop"]), json={"gtin": gtin(n), "name": f"Gạo {n}"})
        assert r.status_code == 201
        assert build(rt.engine, settings).changed == 2
    gone = client.get(f"/opendata/files/{old['id']}/products.json")
    assert gone.status_code == 410 and f"/opendata/proofs/{old['sha256']}" in gone.json()["detail"]
    proof = client.get(f"/opendata/proofs/{old['sha256']}")
    assert proof.status_code == 200 and proof.json()["file"]["id"] == old["id"]
    kept = [f for f in build(rt.engine, settings).files if f["dataset"] == "products"]
    assert all(client.get(f"/opendata/files/{f['id']}/products.{f['format']}").status_code == 200 for f in kept)
    rep = audit(rt.engine, None)
    assert rep.ok and rep.opendata_files == 12, rep.problems  # 8 first files + 2 x 2 products files


def test_the_service_runs_the_schedule_unless_its_interval_is_zero(tmp_path: Path, database_url: str) -> None:
    from traceability_api.compose import attach_opendata

    for hours, threads in ((24.0, 1), (0.0, 0)):
        rt = build_runtime(Settings(data_dir=tmp_path / "var", database_url=database_url, chain_enabled=False,
                                    opendata_interval_h=hours))  # fmt: skip
        try:
            before = len(rt.on_start)
            attach_opendata(rt)
            assert len(rt.on_start) - before == threads and len(rt.on_stop) >= threads
        finally:
            rt.close()
