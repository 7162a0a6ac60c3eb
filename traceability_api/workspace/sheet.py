"""The diary spreadsheet: the XLSX template (openpyxl) and reading an uploaded one safely.

Safety before parsing: the upload's size (``AGRITRACE_IMPORT_MAX_BYTES``), the zip's declared
uncompressed size (a zip bomb is refused unread), then openpyxl, whose XML goes through
defusedxml (no entity expansion, no external entities), read-only and values only (formulas are
not evaluated), and at most ``AGRITRACE_IMPORT_MAX_ROWS`` filled rows among the first
``max(10 x that, 20,000)`` rows: openpyxl yields every row up to the sheet's declared dimension, so a
file of a few KB declaring A1:XFD1048576 would otherwise cost seconds of CPU per upload."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from traceability_api.places.models import Place
from traceability_api.workspace import i18n

COLUMNS = ("plot", "activity", "time", "product", "active_ingredient", "dose", "dose_unit", "phi_days",
           "supplier_lot", "area_ha", "season", "note")  # fmt: skip
SHEET = "Nhật ký"
UNZIPPED_RATIO = 40  # an XLSX of text cells unzips to a few times its size; far more is a bomb
SCANNED_ROWS_PER_ROW, MIN_SCANNED_ROWS = 10, 20_000  # rows read (blank or not) before the sheet is refused


class SheetRefused(Exception):
    """The file itself is refused (``key`` names the reason's words in ``import_words``)."""

    def __init__(self, key: str, status: int = 422) -> None:
        super().__init__(key)
        self.key, self.status = key, status


def template(plots: list[Place], lang: str) -> bytes:
    t = i18n.T[lang]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append([t[c] for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate((28, 22, 20, 22, 18, 10, 12, 14, 16, 12, 14, 30)):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    lists = wb.create_sheet("Danh mục" if lang == "vi" else "Lists")
    names = list(i18n.ACTIVITIES[lang].values())
    for i, name in enumerate(names, start=1):
        lists.cell(row=i, column=1, value=name)
    for i, pl in enumerate(plots, start=1):
        lists.cell(row=i, column=2, value=pl.planting_area_code or pl.name)
    dv = DataValidation(type="list", formula1=f"='{lists.title}'!$A$1:$A${len(names)}", allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("B2:B5000")
    if plots:
        dp = DataValidation(type="list", formula1=f"='{lists.title}'!$B$1:$B${len(plots)}", allow_blank=True)
        ws.add_data_validation(dp)
        dp.add("A2:A5000")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_rows(data: bytes, max_bytes: int, max_rows: int) -> list[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {column: value}) of each filled row under the header."""
    if len(data) > max_bytes:
        raise SheetRefused("too_big", 413)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > max(max_bytes * UNZIPPED_RATIO, 8 * 1024 * 1024):
                raise SheetRefused("too_big", 413)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise SheetRefused("unreadable") from exc
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows: list[tuple[int, dict[str, Any]]] = []
        last_row = max(SCANNED_ROWS_PER_ROW * max_rows, MIN_SCANNED_ROWS)
        for n, values in enumerate(ws.iter_rows(min_row=2, max_col=len(COLUMNS), values_only=True), start=2):
            if n > last_row:  # blank rows count too: a 150 KB file can declare a million of them
                raise SheetRefused("too_many_rows", 413)
            cells = {c: _cell(v) for c, v in zip(COLUMNS, values, strict=False)}
            if all(v == "" for v in cells.values()):
                continue
            if len(rows) >= max_rows:
                raise SheetRefused("too_many_rows", 413)
            rows.append((n, cells))
    finally:
        wb.close()
    if not rows:
        raise SheetRefused("empty")
    return rows


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M")
    if isinstance(v, date):
        return v.strftime("%Y-%m-%dT07:00")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()[:1000]
