"""The workspace at its edges in headless Chromium (Playwright, Debian's /usr/bin/chromium) on a
360 px phone, found by the workspace probe: Back after a save and the next entry recorded on the
page htmx brings back; a long unbroken name on the pages and on the consumer page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, col, select

from tests.test_workspace_browser import click, join, phone, submit
from tests.workspace_helpers import make_org
from traceability_api.events.models import Event
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]


def _diary_steps(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as s:
        ids = s.exec(select(Event.client_event_id).where(col(Event.client_event_id).startswith("ws-diary-"))).all()
        return sorted(ids)


def test_back_after_a_save_records_the_next_entry(runtime: Runtime, served: str, browser: Browser) -> None:
    """Back after saving a diary entry brings the form back from htmx's history, with the key the
    phone made for its first post (and its selects as the page first had them).  Saving another
    entry there sent that key for a different request, and the answer, JSON in English ("this
    Idempotency-Key was already used for a different request"), replaced the whole screen."""
    _, _, link = make_org(runtime, "HTX Lúa Sạch Thạnh Phú")
    page = phone(browser)
    join(page, served, f"/app/invite/{link}", "coop.admin")
    page.goto(served + "/app/places")
    page.fill("#name", "Thửa 7")
    submit(page, "Lưu")
    page.goto(served + "/app/diary")
    page.select_option("#activity", "irrigating")
    submit(page, "Lưu")
    assert "Đã lưu" in (page.text_content("main") or "")
    page.go_back()
    page.wait_for_url(served + "/app/diary")
    page.wait_for_selector("main #activity")
    page.select_option("#activity", "pruning")
    submit(page, "Lưu")
    assert "Đã lưu" in (page.text_content("main") or ""), page.content()[-600:]
    assert len(_diary_steps(runtime)) == 2
    # a double tap is still one entry
    page.goto(served + "/app/diary")
    page.select_option("#activity", "bagging")
    page.evaluate("document.querySelector('main').dataset.old = '1'")
    page.dblclick("main button[type=submit]:has-text('Lưu')")
    page.wait_for_selector("main:not([data-old])")
    page.wait_for_load_state("networkidle")
    assert len(_diary_steps(runtime)) == 3


def test_a_long_unbroken_name_wraps_on_a_phone(runtime: Runtime, served: str, browser: Browser) -> None:
    """A name with no spaces (underscores, a code, a pasted address) pushed the home, places,
    products and lot pages to 1,700-2,600 px wide on a 360 px phone, and the consumer page too."""
    _, _, link = make_org(runtime, "HTX Lúa Sạch Thạnh Phú")
    page = phone(browser)
    join(page, served, f"/app/invite/{link}", "coop.admin")
    long = "Xoài_Cát_Hòa_Lộc_loại_một_xuất_khẩu_" * 4
    page.goto(served + "/app/places")
    page.fill("#name", long)
    submit(page, "Lưu")
    page.goto(served + "/app/products")
    page.fill("#gtin", "08931234560010")
    page.fill("#name", long)
    submit(page, "Lưu")
    page.goto(served + "/app/harvest")
    page.fill("#lot_code", "XOAI-DAI-1")
    page.fill("#quantity", "100")
    page.fill("#variety", "Cát_Hòa_Lộc_" * 5)
    submit(page, "Lưu")
    page.goto(served + "/app")
    click(page, "main a:has-text('XOAI-DAI-1')")
    lot = page.url
    consumer = page.get_attribute("main a:has-text('Trang người tiêu dùng')", "href") or ""
    for url in ("/app", "/app/places", "/app/products", lot.removeprefix(served)):
        page.goto(served + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    page.goto(served + consumer.removeprefix(runtime.settings.public_base_url))
    assert long in (page.text_content("body") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, consumer
