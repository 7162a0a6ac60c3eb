"""The registries' pages in headless Chromium (Playwright, Debian's /usr/bin/chromium): an authority
member suspends a planting-area code in the console; the cooperative's next harvest on that plot
is refused in the workspace, the reason shown next to the plot field and visible (computed style)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.conftest import ARTIFACTS, auth
from tests.test_workspace_browser import join, phone, pick, submit
from tests.workspace_helpers import make_org
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]
MANGO = "08936000000028"


def test_a_code_suspended_in_the_console_stops_the_harvest_in_the_workspace(
    runtime: Runtime, served: str, browser: Browser
) -> None:
    coop_id, coop_key, coop_link = make_org(runtime, "HTX Xoài Mỹ Xương")
    _, gov_key, gov_link = make_org(runtime, "Chi cục Trồng trọt và BVTV Đồng Tháp", OrgKind.authority)
    with httpx.Client(base_url=served) as api:
        assert api.post(
            "/api/v1/products", headers=auth(coop_key), json={"gtin": MANGO, "name": "Xoài cát Chu"}
        ).is_success
        plot = {"kind": "plot", "name": "Vườn xoài Mỹ Xương", "planting_area_code": "VN-DTOR-0012"}
        assert api.post("/api/v1/places", headers=auth(coop_key), json=plot).is_success
        code = {"kind": "planting_area", "code": "VN-DTOR-0012", "org_id": coop_id, "issuer": "Cục Bảo vệ thực vật",
                "markets": ["CN"], "valid_from": "2024-01-01"}  # fmt: skip
        assert api.post("/api/v1/registry/codes", headers=auth(gov_key), json=code).is_success

    gov = phone(browser)
    join(gov, served, f"/app/invite/{gov_link}", "chicuc")
    gov.goto(served + "/app/console/codes")
    card = gov.locator('li[data-code="VN-DTOR-0012"]')
    assert card.get_attribute("data-status") == "active"
    card.locator("input[name=reason]").fill("Phát hiện ruồi đục quả trong lô xuất khẩu")
    submit(gov, "Đình chỉ")
    card = gov.locator('li[data-code="VN-DTOR-0012"]')
    assert card.get_attribute("data-status") == "suspended"
    assert "BỊ ĐÌNH CHỈ" in (card.text_content() or "")
    gov.screenshot(path=str(ARTIFACTS / "console-codes-suspended.png"), full_page=True)

    farmer = phone(browser)
    join(farmer, served, f"/app/invite/{coop_link}", "htx.admin")
    farmer.goto(served + "/app/places")
    status = farmer.locator("[data-code-status]").first
    assert status.get_attribute("data-code-status") == "suspended"
    farmer.goto(served + "/app/harvest")
    pick(farmer, "#plot_id", "Vườn xoài Mỹ Xương")
    farmer.fill("#quantity", "120")
    submit(farmer, "Lưu")
    err = farmer.locator("#plot_id-err")
    text = err.text_content() or ""
    assert text.startswith("Mã số vùng trồng VN-DTOR-0012 của «Vườn xoài Mỹ Xương» đang bị cơ quan quản lý đình chỉ")
    assert "Phát hiện ruồi đục quả" in text
    # next to its field: the error follows the plot select directly, and people can see it
    assert farmer.eval_on_selector("#plot_id-err", "e => e.previousElementSibling.id") == "plot_id"
    style = farmer.eval_on_selector(
        "#plot_id-err",
        "e => { const s = getComputedStyle(e), r = e.getBoundingClientRect();"
        " return [s.display, s.visibility, s.opacity, s.color, r.width, r.height]; }",
    )  # fmt: skip
    display, visibility, opacity, color, width, height = style
    assert display != "none" and visibility == "visible" and float(opacity) == 1.0, style
    assert width > 0 and height > 0 and color == "rgb(164, 22, 26)", style
    farmer.screenshot(path=str(ARTIFACTS / "harvest-refused-suspended-code.png"), full_page=True)
    farmer.context.close()
    gov.context.close()
