"""The workspace offline, in headless Chromium (Playwright, Debian's /usr/bin/chromium): the service
worker takes control, the network goes (context.set_offline), three diary entries and a harvest
are recorded and kept on the phone (IndexedDB) with a visible count, plus one entry the server
will refuse (a banned substance); the network returns; each record is stored exactly once, the
refusal is shown in Vietnamese, and the records are anchored."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import Session, col, select

from tests.workspace_helpers import PASSWORD, make_org
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.events.models import Event
from traceability_api.idempotency.models import IdempotentRequest
from traceability_api.lots.models import Lot
from traceability_api.outbox.models import AnchorItem
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]
ENTRIES = (
    ("irrigating", "2026-01-05T06:00"),
    ("land_preparation", "2026-01-06T07:00"),
    ("pruning", "2026-01-07T08:00"),
)

ACTIVATED = """navigator.serviceWorker.ready.then(r => r.active.state === "activated" ? "activated" :
  new Promise(done =>
  r.active.addEventListener("statechange", e => e.target.state === "activated" && done("activated"))))"""


def pending(page: Page, n: int) -> None:
    page.wait_for_selector(f"#offline-status[data-pending='{n}']", state="attached", timeout=20_000)


def test_records_made_offline_are_stored_once_when_the_network_returns(
    runtime: Runtime, served: str, browser: Browser
) -> None:  # fmt: skip
    org_id, key, token = make_org(runtime, "HTX Xoài Cát Hòa Lộc")
    h = {"X-API-Key": key}
    with httpx.Client(base_url=served, headers=h) as api:
        plot = api.post("/api/v1/places", json={"kind": "plot", "name": "Vườn 3", "planting_area_code": "VN-TG-03"})
        assert plot.status_code == 201, plot.text
        r = api.post("/api/v1/products", json={"gtin": "08931234560010", "name": "Xoài cát Hòa Lộc", "unit": "KGM"})
        assert r.status_code == 201, r.text
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", has_touch=True)
    page = ctx.new_page()
    page.goto(f"{served}/app/invite/{token}")
    page.fill("#username", "xoai.admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Tạo tài khoản')")
    page.wait_for_url(re.compile(r"/app$"))
    assert page.evaluate(ACTIVATED) == "activated"
    for url in ("/app", "/app/diary", "/app/harvest"):  # once controlled: the pages kept for offline use
        page.goto(served + url)
        assert page.evaluate("!!navigator.serviceWorker.controller"), url
    page.goto(served + "/app/diary")
    pending(page, 0)
    manifest = httpx.get(served + "/app/manifest.webmanifest").json()
    assert manifest["scope"] == "/app/" and manifest["lang"] == "vi"

    ctx.set_offline(True)
    page.goto(served + "/app/diary")  # from the service worker's copy
    for n, (activity, time) in enumerate(ENTRIES, start=1):
        page.select_option("#activity", activity)
        page.fill("#time", time)
        page.click("main button[type=submit]")
        pending(page, n)
    page.select_option("#activity", "spraying")
    page.fill("#time", "2026-01-08T07:00")
    page.fill("#product", "Gramoxone")
    page.fill("#active_ingredient", "paraquat")  # banned in Vietnam: the server will refuse it
    page.fill("#dose", "1.5")
    page.fill("#dose_unit", "l/ha")
    page.fill("#phi_days", "7")
    page.click("main button[type=submit]")
    pending(page, 4)
    page.goto(served + "/app/harvest")
    page.fill("#lot_code", "XOAI-OFF-1")
    page.fill("#quantity", "120")
    page.click("main button[type=submit]")
    pending(page, 5)
    assert "Chưa gửi: 5 bản ghi" in (page.text_content("#offline-status") or "")
    with Session(runtime.engine) as s:
        assert s.exec(select(Event).where(Event.org_id == org_id)).all() == []  # nothing left the phone

    ctx.set_offline(False)  # the 'online' event sends them
    pending(page, 0)
    refusal = page.text_content("#offline-refused") or ""
    assert "Máy chủ không nhận bản ghi (nhật ký" in refusal and "paraquat" in refusal.lower(), refusal
    page.reload()  # a second flush after a reload sends nothing again
    pending(page, 0)

    with Session(runtime.engine) as s:
        events = s.exec(select(Event).where(Event.org_id == org_id)).all()
        lots = s.exec(select(Lot).where(Lot.owner_org_id == org_id)).all()
        keys = s.exec(select(IdempotentRequest).where(IdempotentRequest.org_id == org_id)).all()
    diary = [e for e in events if not (e.biz_step or "").endswith("commissioning")]
    assert len(diary) == 3, [(e.biz_step, e.event_time) for e in events]
    assert [lot.lot_code for lot in lots] == ["XOAI-OFF-1"]
    assert len(events) == 4 and len(keys) == 5  # four stored, one refused; each sent under its own key
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    with Session(runtime.engine) as s:
        items = s.exec(select(AnchorItem).where(col(AnchorItem.ref_id).in_([e.id for e in events]))).all()
    assert len(items) >= 4 and all(i.batch_id is not None and i.node is not None for i in items)
