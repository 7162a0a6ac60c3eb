"""Cells of the spreadsheets the service exports (CSV and XLSX): text written by any organisation
(varieties, document numbers, names) must stay text when FDA staff or an inspector opens the file.

- XLSX: openpyxl stores a string starting with ``=`` as a formula; such a cell is forced back to a
  string cell (shown exactly as written, never evaluated).  A character XML 1.0 cannot hold (a C0
  control: openpyxl refuses the whole workbook; U+FFFF: Excel finds the file corrupt) is written as
  U+FFFD, the rest as written.
- CSV: a spreadsheet program evaluates a field starting with ``=``, ``+``, ``-``, ``@``, tab or
  carriage return; such a field gets a leading apostrophe (OWASP's advice against CSV injection).
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# characters XML 1.0 cannot hold (C0 controls but tab, newline, return; surrogates; U+FFFE/U+FFFF):
# the XLSX cells here and the national record's XML (national/xml.py) write each as U+FFFD
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def csv_field(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v


def xlsx_value(ws: Any, v: Any) -> Any:
    """``v`` (control characters XML cannot hold as U+FFFD), or for text openpyxl would take for a
    formula, a string cell of ``ws`` holding it."""
    if not isinstance(v, str):
        return v
    v = NOT_XML.sub("\ufffd", v)
    if not v.startswith("="):
        return v
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=v)
    cell.data_type = "s"
    return cell
