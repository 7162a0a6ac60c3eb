"""labels/: Digital Link, QR codes, serial tokens and PDF sheets (text extracted with pdftotext)."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from labels import qr
from labels.digital_link import DigitalLinkError, build, parse
from labels.pdf import LAYOUTS, LabelData, LabelError, Layout, render
from labels.tokens import serial_token, token_valid

pytestmark = pytest.mark.sqlite_only
BASE = "https://trace.example.vn"


@pytest.mark.parametrize(
    ("gtin", "lot", "serial", "expiry"),
    [
        ("08930000000019", "L1", None, None),
        ("8930000000019", "ST25-03", "000123", date(2026, 3, 1)),
        ("96385074", None, None, None),
        ("08930000000019", "A/B", "x-y.1", None),
    ],  # fmt: skip
)
def test_digital_link_round_trip(gtin: str, lot: str | None, serial: str | None, expiry: date | None) -> None:
    dl = build(gtin, lot, serial, expiry=expiry, token="abcd" if serial else None)
    uri = dl.uri(BASE)
    assert uri.startswith(f"{BASE}/01/{gtin.zfill(14)}")
    assert parse(uri) == dl
    if expiry:
        assert "17=260301" in uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        (f"{BASE}/01/08930000000018/10/L1", "check digit"),
        (f"{BASE}/01/08930000000/10/L1", "14 digits"),
        (f"{BASE}/10/L1", "primary key"),
        (f"{BASE}/01/08930000000019/10", "pairs"),
        (f"{BASE}/01/08930000000019/235/V1", "unsupported"),
        (f"{BASE}/01/08930000000019/10/{'X' * 21}", "1-20 characters"),
        (f"{BASE}/01/08930000000019/10/L1?17=261341", "calendar date"),
        ("ftp://x/01/08930000000019", "http"),
        # GS1's syntax rules
        (f"{BASE}/01/08930000000019?99=ABC", "company-internal"),
        (f"{BASE}/01/08930000000019?999=x", "not a GS1 Application Identifier"),
        (f"{BASE}/01/08930000000019?17=260301&17=260302", "repeated"),
        (f"{BASE}/01/08930000000019/10/L%001", "NUL"),
        (f"{BASE}/01//08930000000019", "empty path segment"),
        (f"{BASE}/01/8930000000019/10/L1", "14 digits"),  # zero-suppressed GTIN-13
        (f"{BASE}/01/00096385074/10/L1", "14 digits"),
        (f"{BASE}/01/08930000000019?10=L1", "key qualifier"),
        (f"{BASE}/01/08930000000019?00=089300000000000019", "primary key"),
        (f"{BASE}/01/08930000000019/21/S1/10/L1", "order"),
        (f"{BASE}/01/08930000000019?3103=12a", "syntax"),
        (f"{BASE}/00/089300000000000018", "check digit"),
        (f"{BASE}/414/8930000000018", "check digit"),
        (f"{BASE}/gtin/08930000000019?17=", "no value"),
    ],
)
def test_invalid_digital_links_are_rejected_with_a_reason(uri: str, reason: str) -> None:
    with pytest.raises(DigitalLinkError, match=reason):
        parse(uri)


def test_valid_digital_links_keep_keys_qualifiers_and_data_attributes() -> None:
    dl = parse(f"{BASE}/01/08930000000019/10/L1?17=260301&15=260215&11=250301&3103=001250&linkType=gs1:pip")
    assert (dl.gtin, dl.lot, dl.expiry) == ("08930000000019", "L1", date(2026, 3, 1))
    assert dl.attributes == (("17", "260301"), ("15", "260215"), ("11", "250301"), ("3103", "001250"))
    assert dl.uri(BASE) == f"{BASE}/01/08930000000019/10/L1?17=260301&15=260215&11=250301&3103=001250"
    short = parse("https://id.gs1.org/gtin/08930000000019/lot/L1/ser/S%2F1")  # GS1 short names on input
    assert (short.key_ai, short.lot, short.serial) == ("01", "L1", "S/1")
    assert short.uri(BASE) == f"{BASE}/01/08930000000019/10/L1/21/S%2F1"
    sscc = parse(f"{BASE}/00/089300000000000019")
    assert (sscc.key_ai, sscc.key, sscc.gtin) == ("00", "089300000000000019", None)
    place = parse(f"{BASE}/414/8930000000019/254/KHO-1")
    assert (place.key_ai, place.qualifiers) == ("414", (("254", "KHO-1"),))
    assert parse(f"{BASE}/giai/893000TRAU-07").key == "893000TRAU-07"  # a tagged buffalo
    assert parse(f"{BASE}/vn/products/01/08930000000019/").gtin == "08930000000019"  # path prefix, trailing /


def test_qr_error_correction_follows_payload_length() -> None:
    assert qr.error_level("x" * 40) == "h" and qr.error_level("x" * 100) == "q" and qr.error_level("x" * 200) == "m"
    svg = qr.svg(f"{BASE}/01/08930000000019/10/L1")
    assert svg.startswith("<svg") and "<path" in svg
    assert qr.png("hello")[:8] == b"\x89PNG\r\n\x1a\n"


def test_serial_tokens() -> None:
    t = serial_token(b"k" * 32, "08930000000019", "S1")
    assert len(t) == 16 and token_valid(b"k" * 32, "08930000000019", "S1", t)
    assert not token_valid(b"k" * 32, "08930000000019", "S2", t)  # an invented serial
    assert not token_valid(b"other" * 8, "08930000000019", "S1", t)
    assert not token_valid(b"k" * 32, "08930000000019", "S1", None)


def test_layouts_are_validated() -> None:
    with pytest.raises(LabelError, match="do not fit"):
        Layout("bad", 210, 297, 70, 37, 4, 8)
    with pytest.raises(LabelError, match="cannot hold"):
        Layout("tiny", 210, 297, 20, 10, 1, 1)
    with pytest.raises(LabelError, match="no labels"):
        render([], LAYOUTS["a4-3x8"])


@pytest.mark.parametrize("layout", ["a4-3x8", "thermal-60x40"])
def test_pdf_text_keeps_vietnamese_diacritics(tmp_path: Path, layout: str) -> None:
    labels = [
        LabelData(
            "Xoài cát Hòa Lộc",
            "HTX Xoài cát Hòa Lộc, Tiền Giang",
            "HL-2504",
            "Thu hoạch: 10/04/2025",
            f"{BASE}/01/08930000000019/10/HL-2504/21/{i}",
            ocop_stars=5,
            serial=str(i),
        )  # fmt: skip
        for i in range(30)
    ]
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(render(labels, LAYOUTS[layout]))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count("Xoài cát Hòa Lộc") >= 30
    assert "Thu hoạch: 10/04/2025" in text and "Số sê-ri: 29" in text and "★★★★★" in text
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Pages:\s+{2 if layout == 'a4-3x8' else 30}$", pages, re.M), pages
