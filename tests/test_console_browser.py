"""The console in a real Chromium: the map draws every place with a shape (Leaflet's SVG paths) and
a label per commune with no tile server configured; the figures page's table is the database's
count (an independent count in Python), also after choosing a commune in the filter form; the lot
search and a lot's lineage say quantities in kg and tấn (t), not in UN/CEFACT codes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.console_data import expected_lots, seed_province
from tests.workspace_helpers import PASSWORD, make_org
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_console_map_and_figures_in_chromium(runtime: Runtime, served: str, browser: Browser) -> None:
    assert not runtime.settings.workspace_map_tiles  # the plain background: shapes and commune labels only
    with httpx.Client(base_url=served, timeout=30) as api:
        seed_province(api, runtime)
    _, _, token = make_org(runtime, "Chi cục QLCL Đồng Tháp", OrgKind.authority)
    page = browser.new_context(viewport={"width": 1024, "height": 900}, locale="vi-VN").new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{served}/app/invite/{token}")
    page.fill("#username", "chicuc")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/app$"))

    for width in (1024, 1280):  # every section in sight, no sideways scrolling (it scrolled at 1280 px)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(served + "/app/console/figures")
        nav = page.locator("nav.console-nav")
        assert nav.evaluate("n => getComputedStyle(n).flexWrap") == "wrap"
        assert nav.evaluate("n => n.scrollWidth <= n.clientWidth"), width
        last = nav.locator("a").last.bounding_box()
        assert last is not None and last["x"] + last["width"] <= width, (width, last)
    page.set_viewport_size({"width": 1024, "height": 900})

    page.goto(served + "/app/console/map")
    page.wait_for_selector("#console-map path.leaflet-interactive")
    page.wait_for_function("document.querySelectorAll('#console-map path.leaflet-interactive').length >= 3")
    assert page.locator("#console-map path.leaflet-interactive").count() == 3  # one polygon, two points
    labels = sorted(page.locator(".commune-label").all_inner_texts())
    assert labels == ["Mỹ Hiệp", "Mỹ Xương", "Tịnh Thới"]
    assert page.locator("#map-legend li").count() == 2  # the two products
    page.check("input[name=colour][value=status]")
    assert page.locator("#map-legend li").count() == 4
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-map.png"), full_page=True)

    page.goto(served + "/app/console/figures")
    cells = page.locator("td[data-month]")
    shown = {c.get_attribute("data-month"): float(c.get_attribute("data-value") or "nan") for c in cells.all()}
    assert shown == expected_lots(runtime) and len(shown) == 3
    assert page.locator("svg.chart[role=img] rect.bar").count() == 3
    page.select_option("#commune", "Mỹ Xương")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"commune=M"))
    page.wait_for_selector("#commune option[selected]", state="attached")  # the filtered page is in
    shown = {c.get_attribute("data-month"): float(c.get_attribute("data-value") or "nan") for c in cells.all()}
    assert shown == expected_lots(runtime, commune="Mỹ Xương") and len(shown) == 2
    assert not errors, errors


def test_console_quantities_read_in_units_not_codes_in_chromium(
    runtime: Runtime, served: str, browser: Browser
) -> None:
    """What an inspector reads on the lot search and a lot's lineage (the SVG's boxes and the table):
    "1.000 kg" and "2,5 tấn" ("2.5 t" in English), never the UN/CEFACT codes the rows keep."""
    with httpx.Client(base_url=served, timeout=30) as api:
        prov = seed_province(api, runtime)
        key = {"Authorization": f"Bearer {prov.coop_keys[0]}"}
        r = api.post("/api/v1/products", headers=key, json={"gtin": "08936000000035", "name": "Cá tra", "unit": "TNE"})
        assert r.status_code == 201, r.text
        lot = {"gtin": "08936000000035", "lot_code": "CT-2507", "quantity": 2.5, "uom": "TNE",
               "plot_id": prov.place_ids[0], "harvest_date": "2025-07-01"}  # fmt: skip
        r = api.post("/api/v1/lots", headers=key, json=lot)
        assert r.status_code == 201, r.text
    _, _, token = make_org(runtime, "Chi cục QLCL Đồng Tháp", OrgKind.authority)
    page = browser.new_context(viewport={"width": 1024, "height": 900}, locale="vi-VN").new_page()
    page.goto(f"{served}/app/invite/{token}")
    page.fill("#username", "chicuc")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/app$"))

    page.goto(served + "/app/console/lots?by=org&q=M%E1%BB%B9%20X%C6%B0%C6%A1ng")  # "Mỹ Xương"
    results = page.locator("#lot-results").inner_text()
    assert "1.000 kg" in results and "2,5 tấn" in results and "Đang giữ" in results, results
    assert not re.search(r"\b(KGM|TNE|active)\b", results), results
    page.locator("#lot-results a", has_text="MX-2505-1").click()
    page.wait_for_selector("#lineage")
    lines = page.locator("#lineage g.node text").all_text_contents()  # SVG has no innerText: its drawn lines
    assert "MX-2505-1 · 1.000 kg" in lines and not any("KGM" in x for x in lines), lines
    body = page.locator("main").inner_text()
    assert "1.000 kg" in page.locator("#lineage-table").inner_text() and "KGM" not in body, body

    page.goto(f"{served}/app/lang?to=en&next=/app/console/lots%3Fby%3Dcode%26q%3DCT-2507")
    page.wait_for_selector("#lot-results")
    results = page.locator("#lot-results").inner_text()
    assert "2.5 t" in results and "Held" in results and "TNE" not in results, results
