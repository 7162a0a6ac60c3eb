"""The recall flow in headless Chromium (Playwright, Debian's /usr/bin/chromium): an authority
member searches a lot, opens its lineage graph (SVG nodes with their proof status), opens a recall;
the holder's webhook (a local HTTP server) and e-mail (aiosmtpd) receive the notice from the
background notifier; the holder acknowledges by the link and the console shows it."""

from __future__ import annotations

import json
import time
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser
from sqlmodel import Session

from chain.node import free_port
from tests.conftest import ARTIFACTS
from tests.inbox import Inbox
from tests.supply_network import build
from tests.test_workspace_browser import join
from tests.webhooks import webhook
from tests.workspace_helpers import make_org
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.authority.recall_notify import RecallNotifier
from traceability_api.husbandry.models import AlertChannel
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]


def test_authority_recalls_from_the_graph_and_sees_the_acknowledgement(
    runtime: Runtime, served: str, browser: Browser
) -> None:
    net = build(runtime.engine, runtime.settings)
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    _, _, link = make_org(runtime, "Chi cục QLCL Cần Thơ", OrgKind.authority)
    d1 = net.principals["D1"].org_id
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    runtime.settings.webhook_allow_private, runtime.settings.smtp_starttls = True, False
    runtime.settings.smtp_host, runtime.settings.smtp_port = "127.0.0.1", smtp.port
    runtime.settings.recall_notify_poll_s = 0.2
    notifier = RecallNotifier(runtime.engine, runtime.settings)
    runtime.recall_notices = notifier
    notifier.start()
    try:
        with webhook() as (url, received):
            with Session(runtime.engine) as s:
                s.add(AlertChannel(org_id=d1, kind="webhook", target=url))
                s.add(AlertChannel(org_id=d1, kind="email", target="kho@phanphoi.vn"))
                s.commit()
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN").new_page()
            join(page, served, f"/app/invite/{link}", "chicuc")
            page.goto(served + "/app/console/lots")
            page.select_option("#by", "code")
            page.fill("#q", "P11")
            page.click("main button[type=submit]")
            page.wait_for_selector("#lot-results")
            page.click("#lot-results a:has-text('P11')")
            page.wait_for_selector("svg#lineage g.node")
            assert page.locator("svg#lineage g.node").count() >= 5  # P11 -> R1, B1 -> T1a, T1b ...
            assert page.locator('svg#lineage g.node[data-proof="verified"]').count() >= 5
            assert "Đã neo và kiểm chứng" in (page.text_content("svg#lineage") or "")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-lineage-graph.png"), full_page=True)
            page.fill("#reason", "Dư lượng thuốc BVTV vượt ngưỡng")
            page.click("#recall-form button[type=submit]")
            page.wait_for_selector("#notices")
            assert "Dư lượng thuốc BVTV vượt ngưỡng" in (page.text_content("main") or "")
            assert page.locator(f'#affected td[data-holder="{d1}"]').count() >= 1
            _, body = received.get(timeout=30)
            hook = json.loads(body)
            assert hook["holder"]["name"] == "D1" and hook["reason"] == "Dư lượng thuốc BVTV vượt ngưỡng"
        deadline = time.monotonic() + 30
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        mail = message_from_bytes(inbox.messages[0])
        title = str(make_header(decode_header(mail["Subject"])))
        assert mail["To"] == "kho@phanphoi.vn" and "Lệnh thu hồi" in title and "Dư lượng thuốc BVTV" in title
        holder = browser.new_context(locale="vi-VN").new_page()  # the holder: no account needed
        ack = hook["acknowledgeUrl"]
        holder.goto(served + ack[ack.index("/app/") :])
        holder.click("#recall-ack button[type=submit]")
        holder.wait_for_selector("text=Đã xác nhận")  # the answer page (the form's page has a p.alert too)
        assert "Đã xác nhận" in (holder.text_content("main") or "")
        page.reload()
        row = page.locator(f'#notices tr[data-org-id="{d1}"] td[data-ack="yes"]')
        assert row.count() == 1 and "qua liên kết" in (row.text_content() or "")
    finally:
        notifier.stop()
        smtp.stop()
