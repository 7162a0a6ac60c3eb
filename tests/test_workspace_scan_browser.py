"""Barcode scanning in headless Chromium (Debian's /usr/bin/chromium): the diary's scan button
loads the vendored zxing-js under the strict CSP (no console error), Chromium's fake camera shows
an EAN-13 and the product field is filled with the product's name and GTIN; a photo of a GS1
DataMatrix chosen in the file field fills GTIN and lot through the server's decoder."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, sync_playwright
from sqlmodel import Session

from tests.test_workspace_browser import join
from tests.test_workspace_scan import barcode_photo
from tests.workspace_helpers import make_org
from traceability_api.lots.models import Product
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only]
GTIN = "8931234560034"


def camera_clip(path: Path) -> Path:
    """A still Y4M clip of an EAN-13 for Chromium's fake camera (luma = the picture, chroma grey)."""
    code = Image.open(io.BytesIO(barcode_photo(GTIN, zxingcpp.BarcodeFormat.EAN13))).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    chroma = b"\x80" * (320 * 240 * 2)
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + (b"FRAME\n" + frame.tobytes() + chroma) * 3)
    return path


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    clip = camera_clip(tmp_path_factory.mktemp("camera") / "ean13.y4m")
    args = ["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}"]  # fmt: skip
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        yield b
        b.close()


def test_scanning_with_the_camera_and_with_a_photo(runtime: Runtime, served: str, camera_browser: Browser,
                                                   tmp_path: Path) -> None:  # fmt: skip
    org_id, _, token = make_org(runtime, "HTX Quét Máy Ảnh")
    with Session(runtime.engine) as s:
        s.add(Product(gtin=GTIN.zfill(14), name="Thuốc trừ sâu Regent 800WG", org_id=org_id))
        s.commit()
    ctx = camera_browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", has_touch=True)
    ctx.grant_permissions(["camera"], origin=served)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    join(page, served, f"/app/invite/{token}", "scan.camera")
    page.goto(served + "/app/diary")
    assert page.is_visible("[data-scan-camera]")  # scan.js ran: the button is shown
    assert not [s for s in page.eval_on_selector_all("script", "ss => ss.map(s => s.src)") if "zxing" in s]

    page.click("[data-scan-camera]")
    page.wait_for_selector("[data-scan-status]:has-text('Regent')", timeout=20_000)
    assert page.input_value("#product") == f"Thuốc trừ sâu Regent 800WG ({GTIN.zfill(14)})"
    assert [s for s in page.eval_on_selector_all("script", "ss => ss.map(s => s.src)") if "zxing" in s]

    photo = tmp_path / "datamatrix.png"  # a GS1 DataMatrix as printed on a pesticide bottle
    photo.write_bytes(
        barcode_photo("(01)09506000134352(10)LOT42(17)270101", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    )
    page.set_input_files("[data-scan-photo]", str(photo))
    page.wait_for_selector("[data-scan-status]:has-text('LOT42')", timeout=20_000)
    assert page.input_value("#product") == "09506000134352"  # unknown GTIN: the GTIN stays
    assert page.input_value("#supplier_lot") == "LOT42"
    assert "HSD 2027-01-01" in page.input_value("#note")

    ctx.set_offline(True)  # in the field with no signal: the camera still gives the GTIN
    page.fill("#product", "")
    page.click("[data-scan-camera]")
    page.wait_for_selector(f"[data-scan-status]:has-text('GTIN {GTIN.zfill(14)}')", timeout=20_000)
    assert page.input_value("#product") == GTIN.zfill(14)
    ctx.set_offline(False)
    problems = [p for p in problems if "Failed to fetch" not in p and "ERR_INTERNET_DISCONNECTED" not in p]
    assert not [p for p in problems if re.search("Content Security Policy|Refused", p)], problems
    assert not problems, problems
    ctx.close()
