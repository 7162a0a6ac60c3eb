"""Shipping part of a lot from a 360 px phone in headless Chromium (Playwright, Debian's
/usr/bin/chromium): the ship form, then the page saying the part was split off into a new lot,
who it went to and what the lot keeps, with the new lot's label one tap away."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.test_workspace_browser import click, join, phone, pick, submit
from tests.workspace_helpers import make_org
from tests.world import gtin
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]


def test_shipping_part_of_a_lot_on_a_phone_says_it_was_split(runtime: Runtime, served: str, browser: Browser) -> None:
    _, key, link = make_org(runtime, "HTX Xoài Cao Lãnh")
    make_org(runtime, "Vựa trái cây Mỹ Xương", OrgKind.distributor)
    with httpx.Client(base_url=served, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        g = gtin(21)
        assert (
            api.post("/api/v1/products", json={"gtin": g, "name": "Xoài cát Hòa Lộc", "unit": "KGM"}).status_code == 201
        )
        lot = api.post("/api/v1/lots", json={"gtin": g, "lot_code": "XCL-0301", "quantity": 1000,
                                             "harvest_date": "2025-03-01"})  # fmt: skip
        assert lot.status_code == 201, lot.text
    page = phone(browser)
    join(page, served, f"/app/invite/{link}", "xoai.admin")
    page.goto(served + "/app/ship")
    pick(page, "#lot_id", "XCL-0301")
    pick(page, "#partner", "Vựa trái cây Mỹ Xương")
    assert "tách thành lô mới" in (page.text_content("#quantity-hint") or "")  # said before, too
    page.fill("#quantity", "300")
    submit(page, "Giao hàng")
    said = page.text_content("main [data-split]") or ""
    assert said == "Đã tách 300 kg thành lô XCL-0301-1 và giao cho Vựa trái cây Mỹ Xương. Lô XCL-0301 còn 700 kg."
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # fits the phone
    click(page, "main a:has-text('In nhãn lô XCL-0301-1')")
    assert "XCL-0301-1" in (page.text_content("main") or "") and page.url.endswith("/label")
