"""The console's Signing keys page in headless Chromium (Playwright, Debian's /usr/bin/chromium): an
authority admin registers a cooperative's own key address through the form, sees it in the list (and on
chain) with a green "active" badge, then revokes it with the confirmation box and sees a red badge."""

from __future__ import annotations

import pytest
from eth_account import Account
from playwright.sync_api import Browser, Page
from sqlmodel import Session

from chain.registry import KeyRegistry
from tests.conftest import ARTIFACTS
from tests.test_workspace_browser import join, phone, pick, submit
from tests.workspace_helpers import make_org
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime
from traceability_api.signing.models import SigningOrg

pytestmark = [pytest.mark.slow]
BADGE = (
    "e => { const s = getComputedStyle(e), r = e.getBoundingClientRect();"
    " return [s.display, s.visibility, s.color, s.fontWeight, r.width > 0 && r.height > 0]; }"
)


def badge(page: Page, address: str) -> list[object]:
    return list(page.eval_on_selector(f'li[data-address="{address}"] .st', BADGE))


def test_an_authority_admin_registers_and_revokes_a_key_in_chromium(
    runtime: Runtime, served: str, browser: Browser
) -> None:
    coop_id, _, _ = make_org(runtime, "HTX Xoài Mỹ Xương")
    _, _, gov_link = make_org(runtime, "Chi cục QLCL Đồng Tháp", OrgKind.authority)
    gov = phone(browser)
    errors: list[str] = []
    gov.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    join(gov, served, f"/app/invite/{gov_link}", "chicuc")
    gov.goto(served + "/app/console/keys")
    assert gov.locator('nav a[aria-current="page"]').text_content() == "Khóa ký số"
    device = Account.create().address
    pick(gov, "#org_id", "HTX Xoài Mỹ Xương")
    gov.fill("#address", device.lower())
    gov.fill("#valid_until", "2045-12-31")
    submit(gov, "Đăng ký")

    line = gov.locator(f'li[data-address="{device}"]')
    assert line.get_attribute("data-status") == "active"
    text = line.text_content() or ""
    assert "Khóa riêng của tổ chức" in text and "Đang hiệu lực" in text and "31/12/2045" in text
    assert "2045-12-31" not in text
    assert "Đã lưu" in (gov.locator("p.ok").text_content() or "")
    overflow = gov.locator("p.ok").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"the saved notice (a 42-character address) runs {overflow} px out of its box on a phone"
    display, visibility, color, weight, shown = badge(gov, device)
    assert (display, visibility, shown) != ("none", "hidden", False) and visibility == "visible" and shown
    assert color == "rgb(27, 94, 32)" and int(str(weight)) >= 700, (color, weight)
    assert runtime.chain is not None
    with Session(runtime.engine) as s:
        so = s.get(SigningOrg, coop_id)
        assert so is not None
        window = KeyRegistry(runtime.chain.contract).window(so.ref, device)
    assert window is not None and not window.custodial and window.revoked_at == 0
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": Playwright's default (hide the caret) leaves style="" on every input, which htmx's
    # settle step would then copy onto the next page's inputs, against the CSP (style-src 'self')
    gov.screenshot(path=str(ARTIFACTS / "console-keys-registered.png"), full_page=True, caret="initial")

    assert not errors, errors
    line.locator("input[name=confirm]").check()
    line.locator("button:has-text('Thu hồi khóa này')").click()
    gov.wait_for_selector(f'li[data-address="{device}"][data-status="revoked"]')
    assert badge(gov, device)[2] == "rgb(164, 22, 26)"
    assert gov.locator(f'li[data-address="{device}"] form').count() == 0  # a revoked key has no forms
    gov.screenshot(path=str(ARTIFACTS / "console-keys-revoked.png"), full_page=True)
    assert not errors, errors
    gov.context.close()
