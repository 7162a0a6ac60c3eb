"""The electronic sortable spreadsheet (§ 1.1455(c)(3)(ii)): one header row, one row per CTE,
typed columns (dates as dates, quantities as numbers) so that sorting and filtering work, an
autofilter and a frozen header; CSV the same columns (UTF-8 with BOM, ISO dates)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import pairwise
from operator import itemgetter
from typing import IO, Any

from traceability_api.fsma.kde_columns import COLUMNS, KEYS
from traceability_api.sheet_cells import csv_field, xlsx_value

HEADERS = [h for _, h, _ in COLUMNS]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "number": "0.###"}


def _text(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    return v


XLSX_MAX_ROWS = 1_048_575  # a worksheet's 1,048,576 rows, less the header


_GET = itemgetter(*KEYS)
_WHEN = [i for i, (_, _, kind) in enumerate(COLUMNS) if kind in ("date", "datetime")]


def _cells(r: dict[str, Any]) -> list[Any]:
    """A row's CSV cells: text guarded against formulas, dates in ISO form."""
    line = [csv_field(v) for v in _GET(r)]
    for i in _WHEN:
        line[i] = _text(line[i])
    return line


def csv_header() -> bytes:
    """The header line, with the UTF-8 byte order mark spreadsheets look for."""
    buf = io.StringIO()
    csv.writer(buf).writerow(HEADERS)
    return buf.getvalue().encode("utf-8-sig")


def csv_chunks(chunks: Iterable[Iterable[dict[str, Any]]]) -> Iterator[bytes]:
    """The CSV (UTF-8 with BOM) piece by piece: the header, then one piece per chunk of rows, so a
    large export is sent while it is read and never held whole."""
    yield csv_header()
    buf = io.StringIO()
    w = csv.writer(buf)
    for rows in chunks:
        buf.seek(0)
        buf.truncate()
        w.writerows(_cells(r) for r in rows)
        yield buf.getvalue().encode("utf-8")


def csv_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Each row's CSV line without its line break (``"\r\n"``): the form ``fsma.cache`` keeps, so
    that header + lines joined by line breaks are the bytes ``csv_chunks`` writes."""
    buf = io.StringIO()
    w = csv.writer(buf)
    ends = []
    for r in rows:
        w.writerow(_cells(r))
        ends.append(buf.tell())
    text = buf.getvalue()
    return [text[a : b - 2] for a, b in pairwise([0, *ends])]  # no rows: no lines


def to_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(csv_chunks([rows]))


def write_xlsx(chunks: Iterable[Iterable[dict[str, Any]]], target: IO[bytes], n_rows: int) -> int:
    """A write-only workbook into ``target`` (openpyxl streams the rows to a temporary file: constant
    memory per row); ``n_rows`` sizes the autofilter over the table.  Returns the rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("FSMA 204 KDEs")
    ws.freeze_panes = "A2"
    for i, (_, header, kind) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = 14 if kind in _FORMATS else max(16, min(48, len(header)))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n_rows + 1}"
    ws.append(HEADERS)
    formats = [_FORMATS.get(kind) for _, _, kind in COLUMNS]
    written = 0
    for rows in chunks:
        for r in rows:
            line: list[Any] = []
            for k, fmt in zip(KEYS, formats, strict=True):
                v = r[k]
                if fmt is not None and v != "":
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = fmt
                    line.append(cell)
                else:
                    line.append(xlsx_value(ws, v))
            ws.append(line)
            written += 1
    wb.save(target)
    return written


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    write_xlsx([rows], buf, len(rows))
    return buf.getvalue()
