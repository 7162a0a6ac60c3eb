"""Diary spreadsheet import (SQLite and PostgreSQL): the template, rows checked by the same domain
rules as the form (banned substance, unknown plot...) with a Vietnamese report per row,
all-or-nothing or the valid rows, the workspace page, and files refused before parsing (size,
rows, zip bomb, XML entities, not a workbook)."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, col, func, select

from tests.workspace_helpers import csrf_of, member_client
from tests.world import World, make_world
from traceability_api.events.models import Event
from traceability_api.runtime import Runtime
from traceability_api.workspace.sheet import SHEET

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def events(runtime: Runtime, org_id: int) -> int:
    with Session(runtime.engine) as s:
        return int(s.exec(select(func.count()).select_from(Event).where(col(Event.org_id) == org_id)).one())


def sheet(rows: list[list[Any]], header: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    if header:
        ws.append(["Lô đất", "Công việc", "Thời gian"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plot(w: World) -> None:
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng ông Tư", "planting_area_code": "CT-TP-001"})
    assert r.status_code == 201, r.text


ROWS = [
    ["CT-TP-001", "Tưới nước", datetime(2025, 11, 26, 6, 30)],  # code, Vietnamese activity, a date cell
    ["ruộng ông tư", "fertilising", "2025-11-27T07:00", "NPK 20-20-15", "N-P2O5-K2O", "150,5", "kg/ha", 0],
    ["CT-TP-001", "Phun thuốc BVTV", "2025-11-28T07:00", "Gramoxone", "paraquat", "1.5", "l/ha", 7],  # banned
    ["CT-XX-999", "Tưới nước", "2025-11-29T07:00"],  # no such plot
    ["CT-TP-001", "Hát karaoke", "2025-11-29T07:00"],  # no such activity
]


def upload(w: World, data: bytes, mode: str = "all", **params: str) -> Any:
    return w.client.post("/api/v1/diary/import", params={"mode": mode, **params}, headers=w.coop.h("recorder"),
                         files={"file": ("nhat-ky.xlsx", data, XLSX)})  # fmt: skip


def test_template_has_the_vietnamese_columns_and_the_plots(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    plot(w)
    r = w.client.get("/api/v1/diary/template.xlsx", headers=w.coop.h())
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb[SHEET]
    assert [c.value for c in ws[1]][:3] == ["Lô đất / vùng trồng", "Công việc", "Thời gian"]
    assert "CT-TP-001" in [c.value for c in wb.worksheets[1]["B"]]
    assert len(ws.data_validations.dataValidation) == 2


def test_all_or_nothing_then_the_valid_rows(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    plot(w)
    data = sheet(ROWS)
    r = upload(w, data, "all")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["stored"] == 0 and body["refused"] == 3
    assert events(runtime, w.coop.id) == 0  # nothing stored, the valid rows neither
    by_row = {x["row"]: x for x in body["rows"]}
    assert by_row[2]["ok"] and by_row[3]["ok"]
    assert "paraquat" in str(by_row[4]["errors"]).lower()
    assert by_row[5]["errors"] == {"plot": "Không có lô đất này."}
    assert by_row[6]["errors"] == {"activity": "Không có công việc này trong danh sách."}
    r = upload(w, data, "valid")
    assert r.status_code == 200, r.text
    assert (r.json()["stored"], r.json()["refused"]) == (2, 3)
    assert events(runtime, w.coop.id) == 2
    en = upload(w, sheet(ROWS[3:4]), "valid", lang="en").json()
    assert en["rows"][0]["errors"] == {"plot": "No such plot."}


def test_files_refused_before_parsing(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    plot(w)
    assert upload(w, b"not a workbook").json()["detail"].startswith("Không đọc được tệp")
    assert upload(w, sheet([])).json()["detail"] == "Bảng không có dòng nào."
    # XML with an entity declaration (billion laughs / XXE): defusedxml refuses it inside openpyxl
    good = sheet(ROWS[:1])
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            xml = src.read(info.filename)
            if info.filename in ("xl/workbook.xml", "xl/worksheets/sheet1.xml"):
                xml = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>' + xml
            dst.writestr(info, xml)
    r = upload(w, evil.getvalue())
    assert r.status_code == 422 and r.json()["detail"].startswith("Không đọc được tệp")
    settings = runtime.settings
    settings.import_max_rows = 2
    assert upload(w, sheet(ROWS[:3])).status_code == 413
    settings.import_max_bytes = 100 * 1024
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"\0" * (9 * 1024 * 1024))
    assert len(bomb.getvalue()) < 100 * 1024
    assert upload(w, bomb.getvalue()).status_code == 413
    assert upload(w, b"x" * (100 * 1024 + 1)).status_code == 413
    assert events(runtime, w.coop.id) == 0


def test_the_workspace_page(runtime: Runtime, app_client: TestClient) -> None:
    org_id, key = member_client(app_client, runtime, "HTX Nhập Excel", "excel.admin")
    place = {"kind": "plot", "name": "Ruộng ông Tư", "planting_area_code": "CT-TP-001"}
    r = app_client.post("/api/v1/places", json=place, headers={"X-API-Key": key})
    assert r.status_code == 201
    page = app_client.get("/app/diary/import")
    assert page.status_code == 200 and "Tải tệp mẫu" in page.text
    assert app_client.get("/app/diary/template.xlsx").headers["content-type"] == XLSX
    form = {"csrf": csrf_of(page.text), "mode": "valid"}
    r = app_client.post("/app/diary/import", data=form, files={"file": ("nk.xlsx", sheet(ROWS), XLSX)})
    assert r.status_code == 200, r.text
    assert "Đã lưu 2 dòng; 3 dòng lỗi" in r.text and "Lô đất / vùng trồng: Không có lô đất này." in r.text
    assert events(runtime, org_id) == 2
    r = app_client.post("/app/diary/import", data=form | {"mode": "all"},
                        files={"file": ("nk.xlsx", sheet(ROWS[3:]), XLSX)})  # fmt: skip
    assert r.status_code == 422 and "không lưu dòng nào" in r.text
    assert app_client.post("/app/diary/import", data={"mode": "all"}).status_code == 403  # CSRF


def test_names_typed_combining_match_the_plot_and_the_activity(runtime: Runtime, app_client: TestClient) -> None:
    """A sheet filled on a PC with Unikey's "Unicode tổ hợp" holds Vietnamese letters combining
    (NFD): "Ruộng ông Tư" and "Tưới nước" so typed were "Không có lô đất này." and "Không có công
    việc này trong danh sách." for the plot made on a phone (precomposed, NFC)."""
    w = make_world(runtime, app_client)
    plot(w)
    nfd = [unicodedata.normalize("NFD", x) for x in ("Ruộng ông Tư", "Tưới nước")]
    assert nfd != ["Ruộng ông Tư", "Tưới nước"]
    r = upload(w, sheet([[*nfd, "2025-11-26T06:30"]]), "all")
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 1


def test_a_dose_written_as_the_pages_write_it_is_read_as_meant(runtime: Runtime, app_client: TestClient) -> None:
    """A text cell "1.000,5" (g/bình: the pages write 1000.5 so) was "1.000.5" and refused; "1,5" still 1.5."""
    w = make_world(runtime, app_client)
    plot(w)
    rows = [
        ["CT-TP-001", "fertilising", "2025-11-27T07:00", "NPK", "N", dose, "g/bình", 0] for dose in ("1.000,5", "1,5")
    ]
    r = upload(w, sheet(rows), "all")
    assert r.status_code == 200 and r.json()["stored"] == 2, r.text
    place = w.client.get("/api/v1/places", headers=w.coop.h()).json()[0]["id"]
    doses = sorted(e["event"]["agri:diary"]["dose"] for e in w.client.get(f"/api/v1/places/{place}/diary",
                                                                           headers=w.coop.h()).json())  # fmt: skip
    assert doses == [1.5, 1000.5]
