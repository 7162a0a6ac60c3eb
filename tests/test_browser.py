"""The consumer page in a real headless Chromium: verified, then NOT verified after tampering."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from labels.digital_link import build
from tests.conftest import ARTIFACTS
from tests.world import make_world, receive, setup_rice, ship
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.sqlite_only
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars"]  # fmt: skip


def chromium(url: str, tmp: Path, screenshot: Path) -> str:
    profile = tmp / f"profile-{screenshot.stem}"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--lang=vi-VN", "--accept-lang=vi-VN,vi"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = subprocess.run([*common, f"--screenshot={screenshot}", "--window-size=420,1800", url],
                          capture_output=True, text=True, timeout=90)  # fmt: skip
    assert shot.returncode == 0 and screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    return dom.stdout


def test_scan_qr_url_verified_then_tampered(
    runtime: Runtime, app_client: TestClient, served: str, tmp_path: Path
) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    ship(w, w.coop, w.mill, rice["uri"])
    receive(w, w.mill, w.coop, rice["uri"])
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    ARTIFACTS.mkdir(exist_ok=True)
    qr_url = build(rice["gtin"], "L1").uri(served)  # what the printed QR code carries

    dom = chromium(qr_url, tmp_path, ARTIFACTS / "consumer-page-verified.png")
    assert 'id="journey"' in dom and "Hành trình sản phẩm" in dom
    assert dom.count('<div class="st">') == 3  # harvest, shipped, received
    assert "Xuất hàng" in dom and "Nhận hàng" in dom
    assert 'data-status="verified"' in dom and "ĐÃ XÁC THỰC" in dom

    with runtime.engine.begin() as c:  # someone edits a stored event behind the service's back
        row = c.execute(text("SELECT id, document FROM event WHERE biz_step LIKE '%shipping' LIMIT 1")).one()
        doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
        doc["quantityList"][0]["quantity"] = 1
        c.execute(text("UPDATE event SET document = :d WHERE id = :i"), {"d": json.dumps(doc), "i": row.id})

    dom = chromium(qr_url, tmp_path, ARTIFACTS / "consumer-page-not-verified.png")
    assert 'data-status="not_verified"' in dom and "KHÔNG XÁC THỰC" in dom
