"""The consumer side on a cheap Android phone (360x640) in headless Chromium: what a shopper scanning
a label, and an e-commerce page embedding the widget, actually see. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from tests.conftest import ARTIFACTS
from tests.pages_scenario import processed_rice
from tests.test_evidence import RECENT, harvest, plot, readings, signed
from tests.world import World, gtin, make_world, obj_event
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.sqlite_only
RED = "rgb(179, 38, 30)"
PHONE = {"width": 360, "height": 640}
PHOTO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#eee"/></svg>'
)


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> World:
    return make_world(runtime, app_client)


def phone(browser: Browser, url: str, lang: str = "vi-VN", viewport: dict[str, int] = PHONE) -> tuple[Page, Any]:
    ctx = browser.new_context(locale=lang, timezone_id="Asia/Ho_Chi_Minh", viewport=viewport, is_mobile=True,
                              has_touch=True, extra_http_headers={"Accept-Language": lang})  # fmt: skip
    # the scenario's product photo (/static-test/rice.png) is the shop's own file: served here as one
    ctx.route("**/static-test/**", lambda route: route.fulfill(content_type="image/svg+xml", body=PHOTO))
    page = ctx.new_page()
    seen: dict[str, list[str]] = {"requests": [], "console": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["console"].append(str(e)))
    response = page.goto(url)
    assert response is not None
    seen["status"] = response.status
    return page, seen


def style(page: Page, selector: str, prop: str) -> Any:
    return page.eval_on_selector(selector, f"(e) => getComputedStyle(e).{prop}")


def recalled_rice(w: World) -> dict[str, Any]:
    rice = processed_rice(w)
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [rice["lot"]["id"]], "reason": "Aflatoxin B1 vượt mức",
                                                "scope": "lot"})  # fmt: skip
    assert r.status_code == 201, r.text
    return rice


def test_a_code_that_is_not_a_digital_link_warns_the_shopper_in_their_language(
    w: World, served: str, browser: Browser
) -> None:
    """A misprinted or forged label (wrong check digit, a refused AI, a lot outside GS1's characters)
    showed the phone a line of English JSON about check digits; now a warning page, still a 400."""
    rice = processed_rice(w)
    bad_digit = rice["gtin"][:-1] + str((int(rice["gtin"][-1]) + 1) % 10)
    for path in (f"/01/{bad_digit}/10/R1", f"/01/{rice['gtin']}/10/R1?99=1", f"/01/{rice['gtin']}/10/%E2%82%AC",
                 f"/01/{rice['gtin']}/10/{'A' * 3000}"):  # fmt: skip
        page, seen = phone(browser, served + path)
        assert seen["status"] == 400, path
        banner = page.locator("#invalid-code")
        assert banner.is_visible() and "MÃ KHÔNG HỢP LỆ" in banner.inner_text(), path
        assert style(page, "#invalid-code", "backgroundColor") == RED
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path  # the long one too
        assert all(u.startswith(served) for u in seen["requests"])
    page.screenshot(path=str(ARTIFACTS / "consumer-invalid-code-vi.png"), full_page=True)
    en, seen = phone(browser, served + f"/01/{bad_digit}/10/R1", "en-US")
    assert seen["status"] == 400 and "THIS CODE IS NOT VALID" in en.locator("#invalid-code").inner_text()
    en.get_by_role("link", name="Tiếng Việt").click()  # the language switch keeps the (bad) code
    assert "MÃ KHÔNG HỢP LỆ" in en.locator("#invalid-code").inner_text()


def test_a_recalled_lot_is_unmissable_on_the_page_and_in_the_shops_widget(
    w: World, served: str, browser: Browser
) -> None:
    """The widget of a recalled lot was a green "verified" card with one red line: on a shop's
    product page the recall read as an approval. Now the card is red and the recall a red banner."""
    rice = recalled_rice(w)
    page, seen = phone(browser, served + rice["path"])
    banner = page.locator("#recall")
    assert banner.is_visible() and "THU HỒI" in banner.inner_text() and "Aflatoxin" in banner.inner_text()
    assert style(page, "#recall", "backgroundColor") == RED
    assert page.eval_on_selector("#recall", "(e) => e.getBoundingClientRect().bottom") < PHONE["height"]  # first screen
    assert page.get_by_role("alert").count() == 1 and seen["console"] == []
    page.screenshot(path=str(ARTIFACTS / "consumer-recalled-phone.png"))
    # the widget, at the size oEmbed gives the iframe
    widget, _ = phone(browser, served + "/embed" + rice["path"], viewport={"width": 360, "height": 170})
    recall = widget.locator("#recall")
    assert recall.is_visible() and "THU HỒI" in recall.inner_text()
    assert style(widget, "#recall", "backgroundColor") == RED
    assert style(widget, ".card", "borderTopColor") == RED
    box = widget.eval_on_selector(".card", "(e) => e.getBoundingClientRect().bottom")
    assert box <= 170  # the whole card, with its link to the page, fits the iframe
    widget.screenshot(path=str(ARTIFACTS / "consumer-recalled-widget.png"))


def test_phone_pages_fit_load_nothing_foreign_and_speak_plainly(w: World, served: str, browser: Browser) -> None:
    """Normal, recalled, with a private step, English: no sideways scrolling at 360 px, no request off
    the site, no console error, no raw ISO time or UN/ECE unit code, every image loaded."""
    rice = processed_rice(w)
    private = obj_event(rice["uri"], 10, "inspecting", time="2025-03-06T08:00:00+07:00",
                        **{"agri:visibility": "private", "agri:note": "giá mua nội bộ"})  # fmt: skip
    assert w.post(w.mill, "/api/v1/events", private).status_code == 201
    for path, lang in (
        (rice["path"], "vi-VN"),
        (rice["path"] + "?lang=en", "en-US"),
        ("/embed" + rice["path"], "vi-VN"),
    ):
        page, seen = phone(browser, served + path, lang)
        page.wait_for_load_state("networkidle")
        assert seen["status"] == 200 and seen["console"] == [], (path, seen["console"])
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        assert all(u.startswith(served) or u.startswith("data:") for u in seen["requests"]), seen["requests"]
        text = page.inner_text("body")
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text) and not re.search(r"\b(KGM|H87|LTR)\b", text), path
        assert "giá mua nội bộ" not in page.content()
        broken = page.evaluate("[...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)")
        assert broken == [], broken


def test_the_widget_fits_its_iframe_whatever_the_names(w: World, served: str, browser: Browser) -> None:
    """The widget's iframe has a fixed height (oEmbed: 170 px, at most 360 wide and narrower on a
    phone). With real names (a cooperative, a plot, a village) and a recall banner the card ran past
    the bottom: its border and, on a 300 px column, its link to the page were cut off."""
    g = gtin(7)
    name = "Xoài cát Chu Cao Lãnh loại 1 – thùng xuất khẩu 10 kg"
    product = {"gtin": g, "name": name, "unit": "KGM", "ocop_stars": 4}
    assert w.post(w.coop, "/api/v1/products", product).status_code == 201
    place = {"kind": "plot", "name": "Vườn xoài ông Ba Tâm, ấp Mỹ Thạnh, xã Mỹ Xương, huyện Cao Lãnh"}
    plot = w.post(w.coop, "/api/v1/places", place)
    assert plot.status_code == 201, plot.text
    harvest = {"gtin": g, "lot_code": "XCL-2505-01", "quantity": 2400, "plot_id": plot.json()["id"],
               "harvest_date": "2025-05-07", "event_time": "2025-05-07T06:00:00+07:00"}  # fmt: skip
    lot = w.post(w.coop, "/api/v1/lots", harvest)
    assert lot.status_code == 201, lot.text
    path = f"/embed/01/{g}/10/XCL-2505-01"
    for recalled in (False, True):
        if recalled:
            r = w.post(
                w.authority, "/api/v1/recalls", {"lot_ids": [lot.json()["id"]], "reason": "Salmonella", "scope": "lot"}
            )
            assert r.status_code == 201, r.text
        for width in (360, 300):
            widget, _ = phone(browser, served + path, viewport={"width": width, "height": 170})
            card = widget.eval_on_selector(".card", "(e) => e.getBoundingClientRect().bottom")
            link = widget.eval_on_selector("a", "(e) => e.getBoundingClientRect().bottom")
            assert card <= 170 and link <= 170, (recalled, width, card, link)
            assert widget.evaluate("document.documentElement.scrollWidth") <= width
            assert widget.locator("#recall").count() == int(recalled)
            widget.screenshot(path=str(ARTIFACTS / f"consumer-widget-{width}{'-recalled' if recalled else ''}.png"))


def test_a_fake_listings_widget_and_badge_warn_in_the_browser(w: World, served: str, browser: Browser) -> None:
    """The iframe of an unregistered code showed a line of English JSON and its badge was a broken
    image; now a red warning card that fits the iframe, and a red badge that the browser draws."""
    rice = processed_rice(w)
    fake = f"/01/{rice['gtin']}/10/FAKE1"
    widget, _ = phone(browser, served + "/embed" + fake, viewport={"width": 360, "height": 170})
    banner = widget.locator("#unknown-code")
    assert banner.is_visible() and "MÃ CHƯA ĐƯỢC ĐĂNG KÝ" in banner.inner_text()
    assert style(widget, "#unknown-code", "backgroundColor") == RED
    assert widget.eval_on_selector(".card", "(e) => e.getBoundingClientRect().bottom") <= 170
    widget.screenshot(path=str(ARTIFACTS / "consumer-widget-unknown.png"))
    shop, _ = phone(browser, served + "/healthz")  # any page of the site; the badge is an <img> in it
    shop.set_content(f'<img id="b" src="{served}/badge{fake}.svg"><img id="ok" src="{served}/badge{rice["path"]}.svg">')
    shop.wait_for_load_state("networkidle")
    for img in ("#b", "#ok"):
        assert shop.eval_on_selector(img, "(e) => e.complete && e.naturalWidth") > 70, img


def test_a_ph_reading_says_no_unit_word_on_the_phone(w: World, served: str, browser: Browser) -> None:
    """pH is recorded with C62 ("one") and a pest trap's catch with H87 ("piece"): the page said
    "trung bình 7,2 cái" and "12 quả", the words for counting things. A reading of a pure number has no
    unit word ("pH … 7,2"); a temperature keeps its °C."""
    p = plot(w)
    for kind, values, lo, hi in (("ph", [6.8, 7.2, 7.6], 6.5, 8.5), ("pest_trap", [4, 12, 20], 0, 50),
                                 ("temperature", [24.0, 26.0, 25.0], 20, 35)):  # fmt: skip
        r = w.post(w.coop, "/api/v1/devices", {"name": f"{kind}-1", "kind": kind, "place_id": p,
                                               "threshold_low": lo, "threshold_high": hi})  # fmt: skip
        assert r.status_code == 201, r.text
        raw, headers = signed(r.json()["secret"], {"seq": 1, "readings": readings(RECENT - timedelta(days=5), values)})
        sent = w.client.post(f"/api/v1/devices/{r.json()['device']['id']}/readings", content=raw, headers=headers)
        assert sent.json()["accepted"] == 3, sent.text
    lot = harvest(w, p, "PH1", (RECENT - timedelta(days=1)).isoformat()).json()
    assert w.post(w.coop, f"/api/v1/lots/{lot['id']}/sensor-summary", {}).status_code == 201
    for lang, ph, trap, temp in (
        ("vi-VN", "thấp nhất 6,8 · cao nhất 7,6 · trung bình 7,2", "trung bình 12", "trung bình 25 °C"),
        ("en-US", "min 6.8 · max 7.6 · mean 7.2", "mean 12", "mean 25 °C"),
    ):
        page, seen = phone(browser, served + f"/01/{gtin(1)}/10/PH1", lang)
        assert seen["status"] == 200
        text = page.locator("#sensors").inner_text()
        lines = [line.strip() for line in text.splitlines()]
        assert ph in lines and lines[lines.index(ph) - 1] == "pH", text  # the reading, then nothing after it
        assert trap in text and temp in text, text
        assert not re.search(r"\b(cái|quả|units|pcs|C62|H87)\b", page.inner_text("body")), text
        page.screenshot(path=str(ARTIFACTS / f"consumer-sensors-ph-{lang}.png"), full_page=True)
