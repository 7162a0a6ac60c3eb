"""The Đồng Tháp demo's consumer pages (mango, rice–fish, duck eggs, pangasius, flowers) rendered in
headless Chromium in Vietnamese and English: units in the words people use (tấn, kg, con, quả, chậu),
dates in each language's form, the withdrawal period and the pond's oxygen.  Screenshots go to
test-artifacts/dongthap-*.png."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from tests.conftest import ARTIFACTS
from traceability_api.compose import attach_worker
from traceability_api.demo import seed_demo
from traceability_api.demo_dongthap import G
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

# lot -> texts the page must show, per language
CHAINS = {
    "mango": (G["mango_box"], "XCL-2505-01", {
        "vi": ["Xoài cát Chu Cao Lãnh", "HTX Xoài Mỹ Xương", "2,1 tấn", "2.400 kg", "09/05/2025", "bao trái"],
        "en": ["Cao Lanh Cat Chu mango", "2.1 t", "2,400 kg", "May 9, 2025", "Fruit bagging"]}),
    "rice-fish": (G["snakehead"], "CL-TM-2511", {
        "vi": ["Cá lóc đồng", "Mương bao nuôi cá", "540 kg", "03/11/2025", "cho ăn", "60 kg"],
        "en": ["Thap Muoi rice-field snakehead", "540 kg", "Nov 3, 2025", "Feeding", "60 kg"]}),
    "rice-sold": (G["paddy"], "LTM-2510-1", {  # 7.2 t of the 19.2 t harvest, split off and sold to a trader
        "vi": ["Ruộng lúa–cá ấp 4, xã Trường Xuân", "Thu hoạch / tạo lô", "19.200 kg", "Tách lô", "LTM-2510 7.200 kg",
               "LTM-2510-1 7.200 kg", "Vựa lúa Tư Hòa Tháp Mười", "gieo sạ", "28/10/2025"],
        "en": ["Lot split", "LTM-2510-1 7,200 kg", "Oct 28, 2025"]}),
    "duck-eggs": (G["salted"], "TVM-2510-01", {
        "vi": ["Trứng vịt muối Tân Hồng", "1.300 quả", "1.320 quả", "02/10/2025", "Trại vịt đẻ ấp Gò Bói", "Nhặt trứng",
               "Nơi nuôi", "DT-CN-TH-0207"],
        "en": ["Tan Hong salted duck eggs", "1,300 pcs", "1,320 pcs", "Oct 2, 2025", "Raised at", "Egg collection"]}),
    "pangasius": (G["tra"], "CT-TB-2509", {
        "vi": ["Cá tra nguyên liệu Thanh Bình", "96 tấn", "20/09/2025", "ngưng thuốc 28 ngày", "Oxy hòa tan",
               "Thả giống", "180.000 con", "2,5 tấn", "20 kg/1000 m³"],
        "en": ["Thanh Binh pangasius", "96 t", "Sep 20, 2025", "Fish harvest", "28-day withdrawal period",
               "Dissolved oxygen", "Stocking", "180,000 head"]}),
    "flowers": (G["chrysanthemum"], "CMX-2512", {
        "vi": ["Cúc mâm xôi Sa Đéc", "760 chậu", "120 chậu", "800 chậu", "01/12/2025", "Tân Quy Đông"],
        "en": ["Sa Dec button chrysanthemum", "760 pots", "120 pots", "Dec 1, 2025"]}),
}  # fmt: skip


def test_dong_thap_chains_render_in_both_languages(
    runtime: Runtime, app_client: TestClient, served: str, browser: Browser
) -> None:
    runtime.settings.anchor_worker = True
    attach_worker(runtime)
    seed_demo(runtime)  # anchored right away, as the demo command does
    ARTIFACTS.mkdir(exist_ok=True)
    missing = []
    for name, (gtin, lot, texts) in CHAINS.items():
        for lang, wanted in texts.items():
            ctx = browser.new_context(locale=f"{lang}-VN", timezone_id="UTC", viewport={"width": 420, "height": 900})
            page = ctx.new_page()
            resp = page.goto(f"{served}/01/{gtin}/10/{lot}?lang={lang}")
            assert resp is not None and resp.status == 200, (name, lang)
            body = page.inner_text("body")
            missing += [(name, lang, t) for t in wanted if t not in body]
            assert "H87" not in body and "NAR" not in body and "XPT" not in body, (name, lang)
            page.screenshot(path=str(ARTIFACTS / f"dongthap-{name}-{lang}.png"), full_page=True)
            ctx.close()
    assert not missing, missing
