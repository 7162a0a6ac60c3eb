"""The consumer pages in headless Chromium driven by Playwright, checking what a shopper's browser
actually applies: computed styles, dates and units as rendered, the counterfeit warning and its form.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from tests.conftest import ARTIFACTS
from tests.pages_scenario import duck_eggs, processed_rice
from tests.world import World, make_world
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.sqlite_only
GREEN = "rgb(27, 110, 58)"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> World:
    return make_world(runtime, app_client)


def open_page(browser: Browser, url: str, lang: str = "vi-VN") -> Page:
    # the phone's clock in UTC: the page must not depend on it, times are the event's own zone
    ctx = browser.new_context(locale=lang, timezone_id="UTC", viewport={"width": 420, "height": 900})
    page = ctx.new_page()
    page.goto(url)
    return page


def style(page: Page, selector: str, prop: str, pseudo: str | None = None) -> Any:
    return page.eval_on_selector(selector, f"(e) => getComputedStyle(e, {pseudo!r}).{prop}" if pseudo else
                                 f"(e) => getComputedStyle(e).{prop}")  # fmt: skip


def luminance(rgb: str) -> float:
    chans = []
    for c in (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]):
        chans.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * chans[0] + 0.7152 * chans[1] + 0.0722 * chans[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_stylesheet_is_applied_on_page_and_embed(w: World, served: str, browser: Browser) -> None:  # noqa: F811
    rice = processed_rice(w)
    page = open_page(browser, served + rice["path"])
    font = style(page, "body", "fontFamily")
    assert "system-ui" in font and not font.startswith("serif"), font  # not the fallback serif
    assert style(page, "ol.tl li", "backgroundColor", "::before") == GREEN  # the timeline dots
    assert style(page, "ol.tl li", "width", "::before") == "12px"
    stars, card = style(page, ".stars", "color"), style(page, ".card.prod", "backgroundColor")
    assert contrast(stars, card) >= 4.5, (stars, card)  # WCAG AA for the OCOP stars
    page.screenshot(path=str(ARTIFACTS / "consumer-page-styled.png"), full_page=True)
    embed = open_page(browser, served + "/embed" + rice["path"])
    assert "system-ui" in style(embed, "body", "fontFamily")
    assert style(embed, ".card", "borderRadius") == "12px"
    embed.screenshot(path=str(ARTIFACTS / "consumer-embed-styled.png"))


def test_dates_in_the_events_zone_and_language(w: World, served: str, browser: Browser) -> None:  # noqa: F811
    rice = processed_rice(w)
    vi = open_page(browser, served + rice["path"])
    assert vi.locator("#diary time").all_text_contents() == ["10/01/2025"]  # 06:00 +07:00, not 09/01 (UTC)
    assert "05/03/2025 06:30" in vi.locator("#journey time").all_inner_texts()
    assert vi.locator("#expiry").inner_text() == "01/09/2025"
    vi.screenshot(path=str(ARTIFACTS / "consumer-dates-vi.png"), full_page=True)
    en = open_page(browser, served + rice["path"] + "?lang=en", "en-US")
    assert en.locator("#diary time").all_text_contents() == ["Jan 10, 2025"]
    assert any(re.fullmatch(r"Mar 5, 2025,? 6:30\sAM", t) for t in en.locator("#journey time").all_inner_texts())
    en.screenshot(path=str(ARTIFACTS / "consumer-dates-en.png"), full_page=True)


def test_units_as_a_shopper_reads_them(w: World, served: str, browser: Browser) -> None:  # noqa: F811
    rice = processed_rice(w)
    vi = open_page(browser, served + rice["path"])
    assert "28.000 kg" in vi.locator("#journey .qty").all_inner_texts()
    assert "Đầu ra: R1 28.000 kg" in vi.locator("#journey .io").all_inner_texts()
    en = open_page(browser, served + rice["path"] + "?lang=en", "en-US")
    assert "28,000 kg" in en.locator("#journey .qty").all_inner_texts()
    eggs = open_page(browser, served + duck_eggs(w)["path"])
    assert eggs.locator("#journey .qty").all_inner_texts() == ["6.000 quả"]
    assert eggs.locator("#origin-label").inner_text() == "Nơi sản xuất"  # a packhouse, not a growing area
    eggs.screenshot(path=str(ARTIFACTS / "consumer-units-eggs.png"), full_page=True)


def test_unknown_code_warns_and_the_report_form_works(w: World, served: str, browser: Browser) -> None:  # noqa: F811
    rice = processed_rice(w)
    page = open_page(browser, served + f"/01/{rice['gtin']}/10/FAKE9")
    banner = page.locator("#unknown-code")
    assert banner.is_visible() and "MÃ CHƯA ĐƯỢC ĐĂNG KÝ" in banner.inner_text() and "hàng giả" in banner.inner_text()
    assert style(page, "#unknown-code", "backgroundColor") == "rgb(179, 38, 30)"
    assert page.get_by_role("alert").count() == 1
    page.screenshot(path=str(ARTIFACTS / "consumer-unknown-code.png"), full_page=True)
    page.get_by_label("Nơi mua").fill("Chợ Xuân Khánh")
    page.get_by_label("Ghi chú").fill("Tem in mờ")
    page.get_by_role("button", name="Gửi báo cáo").click()
    page.wait_for_selector("#report-done")
    assert "Báo cáo đã được ghi nhận" in page.locator("#report-done").inner_text()
    page.screenshot(path=str(ARTIFACTS / "consumer-unknown-code-reported.png"), full_page=True)
    reports = w.get(w.mill, "/api/v1/counterfeit-reports").json()
    assert [(r["lot_code"], r["place"], r["note"]) for r in reports] == [("FAKE9", "Chợ Xuân Khánh", "Tem in mờ")]
