"""A dataset's rows as file bytes: CSV (UTF-8 with BOM, RFC 4180, header row) and JSON.

The bytes hold no build time, so a rebuild over unchanged data gives the same file and digest."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from traceability_api.sheet_cells import csv_field

FORMATS = {"csv": "text/csv", "json": "application/json"}  # format -> IANA media type
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
STRUCTURED = frozenset({"geometry"})  # columns whose values are JSON objects
BOM = "\ufeff"  # spreadsheet programs read the file as UTF-8 (Vietnamese text intact) only with it


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(v)


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """csv.writer itself writes None as an empty cell and numbers as ``str()`` does; only
    structured cells (GeoJSON) are turned into compact JSON text first.  Texts are any
    organisation's (brands, certificate numbers, communes) and the BOM is there for spreadsheet
    programs: one that looks like a formula gets a leading apostrophe (``sheet_cells.csv_field``),
    the JSON file keeps it as written."""
    buf = io.StringIO()
    buf.write(BOM)
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    structured = [i for i, c in enumerate(columns) if c in STRUCTURED]
    if structured:
        w.writerows([csv_field(_cell(v)) for v in row] for row in rows)
    else:
        w.writerows([csv_field(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def to_json(slug: str, licence: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    doc = {
        "dataset": slug,
        "license": licence,
        "columns": list(columns),
        "rows": [dict(zip(columns, row, strict=True)) for row in rows],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode(fmt: str, slug: str, licence: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    return to_csv(columns, rows) if fmt == "csv" else to_json(slug, licence, columns, rows)
