"""Scanning an input's package in the farm diary: ``POST /app/scan`` decodes a real barcode photo
(drawn here by zxing-cpp) and reads GS1 codes the phone decoded, names a known product, and refuses
a bad image, an oversized one and a request without the CSRF token.  SQLite and PostgreSQL."""

from __future__ import annotations

import io

import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from tests.workspace_helpers import csrf_of, member_client
from traceability_api.runtime import Runtime
from traceability_api.workspace.barcodes import read_code


def barcode_photo(text: str, fmt: zxingcpp.BarcodeFormat, kind: str = "PNG", gs1: bool = False) -> bytes:
    symbol = zxingcpp.create_barcode(text, fmt, gs1=True) if gs1 else zxingcpp.create_barcode(text, fmt)
    pixels = memoryview(zxingcpp.write_barcode_to_image(symbol, scale=4))
    image = Image.frombytes("L", (pixels.shape[1], pixels.shape[0]), pixels.tobytes())
    framed = Image.new("L", (image.width + 80, image.height + 80), 255)  # a quiet zone, as on a package
    framed.paste(image, (40, 40))
    out = io.BytesIO()
    framed.save(out, kind)
    return out.getvalue()


def scan(client: TestClient, **kw: object) -> object:
    token = csrf_of(client.get("/app/diary").text)
    data = {"csrf": token} | dict(kw.pop("data", {}))  # type: ignore[call-overload]
    return client.post("/app/scan", data=data, **kw)  # type: ignore[arg-type]


def test_the_diary_offers_scanning_and_the_endpoint_needs_csrf(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Quét", "scan.admin")
    html = app_client.get("/app/diary").text
    assert "Quét mã vạch" in html and 'data-js="/app/static/zxing-library-0.21.3.min.js?v=' in html
    assert '<script src="/app/static/zxing' not in html  # loaded only when the button is tapped
    assert 'name="product"' in html  # still a plain text field
    r = app_client.get("/app/static/zxing-library-0.21.3.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "BrowserMultiFormatReader" in r.text
    # a POST without the session's CSRF token, or with a forged one, or signed out, is refused
    assert app_client.post("/app/scan", data={"code": "8931234560027"}).status_code == 403
    assert app_client.post("/app/scan", data={"code": "8931234560027", "csrf": "forged"}).status_code == 403
    app_client.cookies.clear()
    r = app_client.post("/app/scan", data={"code": "8931234560027", "csrf": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/app/login"


def test_a_barcode_photo_gives_the_gtin_and_a_known_products_name(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Quét Ảnh", "scan.photo")
    r = scan(
        app_client,
        files={"photo": ("a.png", barcode_photo("8931234560027", zxingcpp.BarcodeFormat.EAN13), "image/png")},
    )
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.json() == {"gtin": "08931234560027", "lot": None, "expiry": None, "text": "", "name": None}  # type: ignore[attr-defined]

    token = csrf_of(app_client.get("/app/products").text)
    r = app_client.post("/app/products", data={"csrf": token, "gtin": "8931234560027", "name": "Phân bón NPK 16-16-8",
                                                "unit": "KGM"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    dl = "https://id.example.com/01/08931234560027/10/L2406?17=271231"
    photo = barcode_photo(dl, zxingcpp.BarcodeFormat.QRCode, "JPEG")
    r = scan(app_client, files={"photo": ("qr.jpg", photo, "image/jpeg")})
    assert r.json() == {"gtin": "08931234560027", "lot": "L2406", "expiry": "2027-12-31", "text": "",  # type: ignore[attr-defined]
                        "name": "Phân bón NPK 16-16-8"}  # fmt: skip
    gs1 = barcode_photo("(01)08931234560027(10)B9(17)290228", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    r = scan(app_client, files={"photo": ("dm.png", gs1, "image/png")})
    assert (r.json()["gtin"], r.json()["lot"], r.json()["expiry"]) == ("08931234560027", "B9", "2029-02-28")  # type: ignore[attr-defined]
    # what the phone's camera decoded: a GS1 element string from a DataMatrix (FNC1 as GS)
    r = scan(app_client, data={"code": "0108931234560027" + "10A7\x1d17280115"})
    assert r.json()["name"] == "Phân bón NPK 16-16-8" and r.json()["lot"] == "A7"  # type: ignore[attr-defined]
    assert r.json()["expiry"] == "2028-01-15"  # type: ignore[attr-defined]


def test_bad_uploads_are_refused_clearly(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Quét Lỗi", "scan.bad")
    r = scan(app_client, files={"photo": ("x.png", b"not a picture at all", "image/png")})
    assert r.status_code == 415 and "ảnh" in r.json()["error"]  # type: ignore[attr-defined]
    r = scan(app_client, files={"photo": ("x.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 415  # type: ignore[attr-defined]
    blank = io.BytesIO()
    Image.new("L", (200, 120), 255).save(blank, "PNG")
    r = scan(app_client, files={"photo": ("blank.png", blank.getvalue(), "image/png")})
    assert r.status_code == 422 and "mã vạch" in r.json()["error"]  # type: ignore[attr-defined]
    big = b"\x89PNG" + b"\0" * (runtime.settings.scan_photo_max_bytes + 10)
    r = scan(app_client, files={"photo": ("big.png", big, "image/png")})
    assert r.status_code == 413  # type: ignore[attr-defined]
    assert scan(app_client).status_code == 422  # type: ignore[attr-defined]
    r = scan(app_client, data={"code": "x" * 600})
    assert r.status_code == 422  # type: ignore[attr-defined]


def test_codes_without_a_gtin_come_back_as_text() -> None:
    assert read_code("(01)08931234560027(10)ABC(17)270630").expiry == "2027-06-30"
    assert read_code("8931234560028").gtin is None  # wrong check digit
    assert read_code("hello").text == "hello"
