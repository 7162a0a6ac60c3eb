"""The workspace in headless Chromium (Playwright, Debian's /usr/bin/chromium) on a 360 px phone:
a cooperative admin invites a recorder; the recorder records a diary entry with a photo and a
harvest and ships it; a mill receives, processes and ships; a distributor receives; the consumer
page tells the whole story.  Computed styles: touch targets, no sideways scrolling, contrast."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import ARTIFACTS
from tests.test_browser_pages import contrast
from tests.workspace_helpers import PASSWORD, make_org
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005"
    "0001ff5ccc5e8b0000000049454e44ae426082"
)


def phone(browser: Browser) -> Page:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", has_touch=True)
    return ctx.new_page()


def join(page: Page, served: str, link: str, username: str) -> None:
    page.goto(served + link[link.index("/app/invite/") :])
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Tạo tài khoản')")
    page.wait_for_url(re.compile(r"/app$"))


def click(page: Page, selector: str) -> None:
    """Click and wait for the new page content (an htmx swap or a full load replaces <main>)."""
    page.evaluate("document.querySelector('main').dataset.old = '1'")
    page.click(selector)
    page.wait_for_selector("main:not([data-old])")  # a selector, not a script: the CSP allows no eval


def submit(page: Page, label: str) -> None:
    click(page, f"main button[type=submit]:has-text('{label}')")


def pick(page: Page, select: str, text: str) -> None:
    value = page.eval_on_selector(
        select, "(s, t) => [...s.options].find(o => o.textContent.includes(t)).value", text
    )  # fmt: skip
    page.select_option(select, value)


def test_people_record_a_lot_from_farm_to_shelf(runtime: Runtime, served: str, browser: Browser) -> None:
    base = runtime.settings.public_base_url
    _, _, coop_link = make_org(runtime, "HTX Lúa Sạch Thạnh Phú")
    _, _, mill_link = make_org(runtime, "Nhà máy Xay Mỹ Xuyên", OrgKind.processor)
    _, _, dist_link = make_org(runtime, "Nhà phân phối Cần Thơ", OrgKind.distributor)

    admin = phone(browser)
    join(admin, served, f"{base}/app/invite/{coop_link}", "coop.admin")
    admin.goto(served + "/app/members")
    admin.fill("#name", "Chị Lan")
    admin.select_option("#role", "recorder")
    submit(admin, "Mời thành viên")
    link = admin.text_content("#invite-link") or ""
    admin.goto(served + "/app/places")
    admin.fill("#name", "Thửa 7")
    admin.fill("#planting_area_code", "VN-ST-07")
    admin.fill("#lat", "9.6")
    admin.fill("#lon", "105.97")
    submit(admin, "Lưu")
    # a second plot drawn on the map (Leaflet, loaded on demand under the strict CSP)
    admin.fill("#name", "Thửa 8")
    admin.click("button[data-map]")
    admin.wait_for_selector("#map .leaflet-container, #map.leaflet-container")
    box = admin.locator("#map").bounding_box()
    assert box is not None
    for dx, dy in ((60, 60), (200, 70), (150, 220)):
        admin.locator("#map").tap(position={"x": dx, "y": dy})
    assert '"Polygon"' in admin.input_value("#geo")
    submit(admin, "Lưu")
    assert "Thửa 8" in (admin.text_content("main ul.cards") or "")
    admin.goto(served + "/app/products")
    admin.fill("#company_prefix", "893123456")
    admin.fill("#item_ref", "001")
    submit(admin, "Tính mã")
    assert admin.input_value("#gtin") == "8931234560010"
    admin.fill("#name", "Lúa ST25")
    submit(admin, "Lưu")

    lan = phone(browser)
    join(lan, served, link, "chi.lan")
    lan.goto(served + "/app/diary")
    lan.select_option("#activity", "fertilising")
    lan.fill("#product", "NPK 20-20-15")
    lan.fill("#active_ingredient", "N-P2O5-K2O")
    lan.fill("#dose", "150")
    lan.fill("#dose_unit", "kg/ha")
    lan.set_input_files("#photo", files=[{"name": "ruong.png", "mimeType": "image/png", "buffer": PNG}])
    assert lan.get_attribute("#photo", "capture") == "environment"
    submit(lan, "Lưu")
    assert "Đã lưu" in (lan.text_content("main") or "")
    lan.goto(served + "/app/harvest")
    lan.fill("#lot_code", "ST25-A")
    lan.fill("#quantity", "1000")
    lan.fill("#variety", "ST25")
    submit(lan, "Lưu")
    assert "Xem nhãn" in (lan.text_content("h1") or "")
    lan.screenshot(path=str(ARTIFACTS / "workspace-label-preview.png"), full_page=True)
    lan.goto(served + "/app/ship")
    pick(lan, "#partner", "Nhà máy Xay")
    submit(lan, "Giao hàng")

    mill = phone(browser)
    join(mill, served, f"{base}/app/invite/{mill_link}", "mill.admin")
    assert "ST25-A" in (mill.text_content("main") or "")
    click(mill, "main button:has-text('Nhận hàng')")
    assert "Đã nhận hàng" in (mill.text_content("main") or "")
    mill.goto(served + "/app/products")
    mill.fill("#gtin", "08931234560027")
    mill.fill("#name", "Gạo ST25")
    mill.fill("#max_yield", "0,7")
    submit(mill, "Lưu")
    mill.goto(served + "/app/process")
    pick(mill, "#in_lot_0", "ST25-A")
    pick(mill, "#out_gtin_0", "Gạo ST25")
    mill.fill("#out_code_0", "G-ST25-A")
    mill.fill("#out_qty_0", "650")
    submit(mill, "Kiểm tra")
    assert "Cân bằng khối lượng" in (mill.text_content("#balance") or "")
    submit(mill, "Lưu")
    mill.goto(served + "/app/ship")
    pick(mill, "#lot_id", "G-ST25-A")
    pick(mill, "#partner", "Nhà phân phối")
    submit(mill, "Giao hàng")

    dist = phone(browser)
    join(dist, served, f"{base}/app/invite/{dist_link}", "dist.admin")
    click(dist, "main button:has-text('Nhận hàng')")
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    click(dist, "main a:has-text('G-ST25-A')")
    assert "Đã ghi lên blockchain" in (dist.text_content("main") or "")
    consumer = dist.get_attribute("main a:has-text('Trang người tiêu dùng')", "href") or ""
    story = phone(browser)
    story.goto(served + consumer.removeprefix(base))
    text = story.text_content("body") or ""
    for words in ("Gạo ST25", "HTX Lúa Sạch Thạnh Phú", "VN-ST-07", "NPK 20-20-15", "ĐÃ XÁC THỰC"):
        assert words in text, words
    story.screenshot(path=str(ARTIFACTS / "workspace-consumer-story.png"), full_page=True)

    # phone layout as the browser applies it: 44 px targets, no sideways scroll, AA contrast
    for url in ("/app", "/app/diary", "/app/process"):
        dist.goto(served + url)
        assert dist.evaluate("document.documentElement.scrollWidth") <= 360, url
        assert dist.evaluate("document.documentElement.lang") == "vi"
        small = dist.evaluate(
            """() => [...document.querySelectorAll('a, button, input, select, textarea')]
                 .filter(e => e.offsetParent !== null && !e.closest('p, li:not(nav li)') && e.type !== 'hidden')
                 .map(e => [e.tagName + '#' + (e.id || e.textContent.trim().slice(0, 20)), e.getBoundingClientRect()])
                 .filter(([, r]) => r.height < 44 || r.width < 44).map(([n]) => n)"""
        )
        assert small == [], (url, small)
    fg = dist.eval_on_selector("main button", "e => getComputedStyle(e).color")
    bg = dist.eval_on_selector("main button", "e => getComputedStyle(e).backgroundColor")
    assert contrast(fg, bg) >= 4.5
    dist.screenshot(path=str(ARTIFACTS / "workspace-process-360.png"), full_page=True)


def test_the_basic_path_works_without_javascript(runtime: Runtime, served: str, browser: Browser) -> None:
    _, _, link = make_org(runtime, "HTX Không JS")
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = ctx.new_page()
    join(page, served, f"/app/invite/{link}", "nojs.admin")
    page.goto(served + "/app/places")
    page.fill("#name", "Thửa 1")
    page.click("main button[type=submit]:has-text('Lưu')")
    page.goto(served + "/app/diary")
    page.select_option("#activity", "irrigating")
    page.click("main button[type=submit]:has-text('Lưu')")
    page.wait_for_url(re.compile(r"/app\?done=saved$"))
    assert "Đã lưu" in (page.text_content("main") or "")
    ctx.close()
