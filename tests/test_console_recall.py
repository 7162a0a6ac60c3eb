"""The console's lot search, lineage graph and recalls (TestClient, SQLite and PostgreSQL): only
authority members get in; search by code, GTIN, organisation or plot; the graph's nodes are
``trace.graph``'s with each lot's proof status; a recall's notices reach the holders' webhook and
e-mail after commit (a failed e-mail is retried, the webhook is not sent twice) and each
acknowledgement link works once."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from chain.node import free_port
from tests.inbox import Inbox
from tests.supply_network import Network, build
from tests.webhooks import webhook
from tests.workspace_helpers import accept, csrf_of, member_client
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.authority import trace
from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.authority.recall_notify import RecallNotifier
from traceability_api.console.lineage_view import STATUSES
from traceability_api.epcis.identifiers import classify
from traceability_api.husbandry.models import AlertChannel
from traceability_api.lots.models import Lot
from traceability_api.lots.service import find_lot
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.workspace.invites import create_invite

pytestmark = pytest.mark.postgres


@pytest.fixture
def net(runtime: Runtime, app_client: TestClient) -> Iterator[Network]:
    yield build(runtime.engine, runtime.settings)


def lot_id(runtime: Runtime, net: Network, name: str) -> int:
    ref = classify(net.lots[name])
    with Session(runtime.engine) as s:
        found = find_lot(s, ref.gtin or "", ref.code or "")
    assert found is not None and found[0].id is not None
    return found[0].id


def nodes(html: str) -> dict[int, str]:
    """{lot id: proof status} of the SVG's nodes."""
    return {int(i): p for i, p in re.findall(r'<g class="node" data-lot-id="(\d+)" data-proof="(\w+)"', html)}


def test_cooperative_member_gets_403_on_every_console_page(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    p11 = lot_id(runtime, net, "P11")
    for path in ("/app/console/lots", "/app/console/lots?by=code&q=P1", f"/app/console/lots/{p11}",
                 "/app/console/recalls", "/app/console/recalls/1"):  # fmt: skip
        r = app_client.get(path)
        assert r.status_code == 403 and "cơ quan quản lý" in r.text, path
    csrf = csrf_of(app_client.get("/app").text)
    for path, data in (
        (f"/app/console/lots/{p11}/recall", {"reason": "thử thu hồi"}),
        ("/app/console/recalls/1/close", {}),
    ):
        assert app_client.post(path, data={"csrf": csrf} | data, follow_redirects=False).status_code == 403, path
    with Session(runtime.engine) as s:
        assert s.exec(select(func.count()).select_from(RecallNotice)).one() == 0


def test_search_by_code_gtin_organisation_and_plot(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)

    def found(by: str, q: str) -> set[int]:
        r = app_client.get("/app/console/lots", params={"by": by, "q": q})
        assert r.status_code == 200, r.text
        ids = {int(i) for i in re.findall(r'<tr data-lot-id="(\d+)"', r.text)}
        assert f'data-total="{len(ids)}"' in r.text
        return ids

    assert found("code", "p11") == {lot_id(runtime, net, "P11")}
    assert found("gtin", classify(net.lots["R1"]).gtin or "") == {lot_id(runtime, net, n) for n in ("R1", "R3")}
    assert found("plot", "vn-c1") == {lot_id(runtime, net, n) for n in ("P11", "P12")}
    assert found("plot", "Ruộng C2") == {lot_id(runtime, net, n) for n in ("P21", "P22")}
    with Session(runtime.engine) as s:  # owner or holder: M2 made R2 and received P41, P51
        m2 = net.principals["M2"].org_id
        expected = set(s.exec(select(Lot.id).where((Lot.owner_org_id == m2) | (Lot.holder_org_id == m2))).all())
    assert found("org", "m2") == expected and expected
    assert found("code", "100%_") == set()  # LIKE wildcards are taken literally
    with Session(runtime.engine) as s:  # Vietnamese capitals fold on SQLite too; a decomposed query matches
        s.execute(text("UPDATE place SET name = 'Ruộng Đồng Cỏ C2' WHERE name = 'Ruộng C2'"))
        s.commit()
    c2 = {lot_id(runtime, net, n) for n in ("P21", "P22")}
    assert found("plot", "đồng cỏ") == found("plot", "ĐỒNG CỎ") == c2
    assert found("plot", unicodedata.normalize("NFD", "Đồng Cỏ")) == c2
    assert app_client.get("/app/console/lots", params={"by": "colour", "q": "x"}).status_code == 422
    assert app_client.get("/app/console/lots", params={"q": "x" * 101}).status_code == 422


def test_graph_nodes_match_trace_with_each_proof_status(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    r1 = lot_id(runtime, net, "R1")
    page = app_client.get(f"/app/console/lots/{r1}")
    assert page.status_code == 200 and '<svg id="lineage"' in page.text
    with Session(runtime.engine) as s:
        g = trace.graph(s, r1)
    assert set(nodes(page.text)) == {n["id"] for n in g["nodes"]} and len(g["nodes"]) >= 5
    assert page.text.count('<line class="edge"') == len(g["edges"])
    assert set(nodes(page.text).values()) == {"pending"} and "Đang chờ neo" in page.text
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    assert set(nodes(app_client.get(f"/app/console/lots/{r1}").text).values()) == {"verified"}
    p21 = lot_id(runtime, net, "P21")
    with runtime.engine.begin() as c:  # someone edits P21's shipment behind the service's back
        row = c.execute(text("SELECT e.id, e.document FROM event e JOIN event_lot l ON l.event_id = e.id "
                             "WHERE l.lot_id = :l AND e.biz_step LIKE '%shipping'"), {"l": p21}).one()  # fmt: skip
        doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
        doc["quantityList"][0]["quantity"] = 1
        c.execute(text("UPDATE event SET document = :d WHERE id = :i"), {"d": json.dumps(doc), "i": row.id})
    status = nodes(app_client.get(f"/app/console/lots/{r1}").text)
    assert status[p21] == "not_verified" and status[r1] == "verified"
    assert app_client.get("/app/console/lots/999999").status_code == 404


def _open_recall(app_client: TestClient, lot: int, reason: str) -> int:
    page = app_client.get(f"/app/console/lots/{lot}")
    bad = app_client.post(f"/app/console/lots/{lot}/recall", data={"csrf": csrf_of(page.text), "reason": "x"})
    assert bad.status_code == 422 and "ít nhất 3 ký tự" in bad.text
    long = app_client.post(f"/app/console/lots/{lot}/recall", data={"csrf": csrf_of(page.text), "reason": "x" * 501})
    assert long.status_code == 422 and "tối đa 500 ký tự" in long.text and 'id="recall-form"' in long.text  # the page
    # a text-direction override turned the reason around on every page showing it (consumer pages too)
    flipped = {"csrf": csrf_of(page.text), "reason": "Nghi nhiễm \u202eđộc tố"}
    bidi = app_client.post(f"/app/console/lots/{lot}/recall", data=flipped)
    assert bidi.status_code == 422 and "Lý do chứa ký tự điều khiển U+202E" in bidi.text, bidi.text[:300]
    form = {"csrf": csrf_of(page.text), "reason": reason, "scope": "downstream"}
    r = app_client.post(f"/app/console/lots/{lot}/recall", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[-1])


def _path(url: str) -> str:
    return url[url.index("/app/") :]


def test_graph_legend_shows_the_colour_of_each_proof_status(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    """The legend says what a node's border colour means: each entry carries that colour (it was
    three words in a bulleted list, no colour in sight) and the page loads the console's styles."""
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    page = app_client.get(f"/app/console/lots/{lot_id(runtime, net, 'R1')}").text
    legend = dict(re.findall(r'<li data-legend="(\w+)"><svg class="swatch"[^>]*><rect[^>]*stroke="([^"]+)"', page))
    assert legend == STATUSES
    node = re.search(r'data-proof="pending">.*?<rect[^>]*stroke="([^"]+)"', page, re.S)
    assert node and node.group(1) == legend["pending"]
    assert "console.css" in page


def test_graph_node_lines_stay_inside_their_box(runtime: Runtime, app_client: TestClient) -> None:
    """A long holder name (or product, lot code and quantity) is cut and drawn to the box's inner
    width: it ran past the node's border (Jinja's truncate keeps 5 characters over its length)."""
    from tests.world import make_world, setup_rice

    w = make_world(runtime, app_client)
    rice = setup_rice(w, lot="L-2025-0301-TP-A1", qty=123456789.5)
    with Session(runtime.engine) as s:
        s.execute(text("UPDATE organisation SET name = 'Hợp tác xã Nông nghiệp Dịch vụ Thạnh Phú Cờ Đỏ' "
                       "WHERE id = :i"), {"i": w.coop.id})  # fmt: skip
        s.commit()
    member_client(app_client, runtime, "Chi cục QLCL Đồng Tháp", "chicuc.dt", OrgKind.authority)
    page = app_client.get(f"/app/console/lots/{rice['lot']['id']}").text
    lines = re.findall(r'<text x="\d+" y="\d+" font-size="12"([^>]*)>([^<]*)</text>', page)
    by_text = {t: "".join(re.findall(r'textLength="(\d+)"', attrs)) for attrs, t in lines}
    holder = next(t for t in by_text if t.startswith("Hợp tác xã"))
    lot_line = next(t for t in by_text if t.startswith("L-2025-0301-TP-A1"))
    for t in (holder, lot_line):
        assert by_text[t] == "200" and len(t) <= 34, (t, by_text)  # the box is 220 wide, text starts at 10
    assert holder.endswith("…")


def test_a_viewer_is_told_it_may_not_close_a_recall(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    """An authority's viewer sees the recall without a close button; a crafted close is refused
    with the reason (403), not a 'not found' page about a recall it is looking at."""
    org_id, _ = member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    recall_id = _open_recall(app_client, lot_id(runtime, net, "P11"), "Nghi nhiễm nấm mốc")
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, org_id, "Thanh tra viên", Role.viewer)
        s.commit()
    app_client.cookies.clear()
    accept(app_client, token, "thanhtra")
    graph = app_client.get(f"/app/console/lots/{lot_id(runtime, net, 'R1')}").text
    assert 'id="recall-form"' not in graph and 'id="recall-read-only"' in graph  # nor a form to open one
    crafted = app_client.post(f"/app/console/lots/{lot_id(runtime, net, 'R1')}/recall",
                              data={"csrf": csrf_of(graph), "reason": "Thử mở lệnh"})  # fmt: skip
    assert crafted.status_code == 403 and "Vai trò của bạn không được ghi dữ liệu." in crafted.text
    page = app_client.get(f"/app/console/recalls/{recall_id}")
    assert page.status_code == 200 and f"/app/console/recalls/{recall_id}/close" not in page.text
    r = app_client.post(f"/app/console/recalls/{recall_id}/close", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 403 and 'id="close-err"' in r.text and "Vai trò của bạn không được ghi dữ liệu." in r.text
    with Session(runtime.engine) as s:
        assert s.get(Recall, recall_id).status == "open"  # type: ignore[union-attr]
    missing = app_client.post("/app/console/recalls/999999/close", data={"csrf": csrf_of(page.text)})
    assert missing.status_code == 404


def test_recalling_a_lot_an_open_recall_covers_says_which_in_vietnamese(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    recall_id = _open_recall(app_client, lot_id(runtime, net, "P11"), "Nghi nhiễm nấm mốc")  # downstream
    r1 = lot_id(runtime, net, "R1")  # milled from P11: reached by that recall
    page = app_client.get(f"/app/console/lots/{r1}")
    r = app_client.post(f"/app/console/lots/{r1}/recall", data={"csrf": csrf_of(page.text), "reason": "Lần nữa"})
    assert r.status_code == 409 and f"Lô này đã nằm trong lệnh thu hồi #{recall_id} đang mở." in r.text
    assert "already under" not in r.text


def test_recall_notifies_holders_retries_and_links_work_once(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    d1 = net.principals["D1"].org_id
    smtp_port = free_port()
    runtime.settings.webhook_allow_private, runtime.settings.smtp_starttls = True, False
    runtime.settings.smtp_host, runtime.settings.smtp_port = "127.0.0.1", smtp_port
    notifier = RecallNotifier(runtime.engine, runtime.settings)
    inbox = Inbox()
    with webhook() as (url, received):
        with Session(runtime.engine) as s:
            s.add(AlertChannel(org_id=d1, kind="webhook", target=url))
            s.add(AlertChannel(org_id=d1, kind="email", target="kho@phanphoi.vn"))
            s.commit()
        recall_id = _open_recall(app_client, lot_id(runtime, net, "P11"), "Dư lượng thuốc BVTV vượt ngưỡng")
        assert received.empty(), "nothing is sent in the request"
        assert notifier.run_once()
        _, body = received.get(timeout=10)
        hook = json.loads(body)
        assert hook["recallId"] == recall_id and hook["holder"]["name"] == "D1"
        with Session(runtime.engine) as s:
            recall = s.get(Recall, recall_id)
            assert recall is not None
            held = {a["uri"] for a in recall.affected if a["holderOrgId"] == d1}
        assert {lot["uri"] for lot in hook["lots"]} == held and net.lots["T1a"] in held
        with Session(runtime.engine) as s:
            n = s.exec(select(RecallNotice).where(RecallNotice.recall_id == recall_id, RecallNotice.org_id == d1)).one()
            assert (n.state, n.attempts) == ("pending", 1) and "email failed" in n.last_result
            assert n.next_try_at is not None and n.next_try_at > utcnow()
            assert hook["acknowledgeUrl"].rsplit("/", 1)[-1] not in json.dumps(n.token_hashes)  # only digests
            n.next_try_at = utcnow()  # the back-off has passed; the SMTP server is up now
            s.add(n)
            s.commit()
            d1_notice = n.id
        smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
        try:
            assert notifier.run_once() == [d1_notice]
        finally:
            smtp.stop()
        assert received.empty(), "the webhook that took the notice is not sent it again"
    mail = message_from_bytes(inbox.messages[0])
    assert mail["To"] == "kho@phanphoi.vn"
    text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    mail_link = re.search(r"https://\S+/app/recall-ack/\S+", text)
    assert mail_link
    # the lots' quantities as the pages write them (it said "9000.0 KGM")
    assert f"{net.lots['T1a']}: 9.000 kg" in text and "KGM" not in text, text
    with Session(runtime.engine) as s:
        states = {x.org_id: x.state for x in s.exec(select(RecallNotice).where(RecallNotice.recall_id == recall_id))}
    assert states[d1] == "sent" and set(states.values()) == {"sent"}  # holders without channels: nothing to send
    # the holder acknowledges by the webhook's link: once
    link = _path(hook["acknowledgeUrl"])
    page = app_client.get(link)
    assert page.status_code == 200 and "Dư lượng thuốc BVTV" in page.text and 'id="recall-ack"' in page.text
    assert app_client.post(link).status_code == 200
    assert app_client.post(link).status_code == 410
    assert app_client.get(_path(mail_link.group(0))).status_code == 410  # every link of the notice is spent
    assert app_client.get(link[:-4] + "abcd").status_code == 404
    console = app_client.get(f"/app/console/recalls/{recall_id}").text
    assert re.search(rf'data-org-id="{d1}">.*?data-ack="yes"', console, re.S)
    # a holder without alert channels was sent nothing: the console says so, in Vietnamese, not "Đã gửi"
    others = [o for o, st in states.items() if o != d1]
    assert others
    for o in others:
        row = re.search(rf'data-org-id="{o}">(.*?)</tr>', console, re.S)
        assert row and 'data-state="no_channel"' in row.group(1) and "Chưa có kênh nhận" in row.group(1), row
        assert "no channel" not in row.group(1) and "Đã gửi" not in row.group(1)


def test_holder_acknowledges_from_the_workspace_home(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    recall_id = _open_recall(app_client, lot_id(runtime, net, "P11"), "Nghi nhiễm nấm mốc")
    m1 = net.principals["M1"]
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, m1.org_id, "a", Role.admin, m1.member_id)
        s.commit()
        notice = s.exec(
            select(RecallNotice).where(RecallNotice.recall_id == recall_id, RecallNotice.org_id == m1.org_id)
        ).one()
    app_client.cookies.clear()
    accept(app_client, token, "m1.admin")
    home = app_client.get("/app").text
    assert f'data-notice-id="{notice.id}"' in home and "Nghi nhiễm nấm mốc" in home
    r = app_client.post(f"/app/recalls/{notice.id}/ack", data={"csrf": csrf_of(home)}, follow_redirects=False)
    assert r.status_code == 303
    assert f'data-notice-id="{notice.id}"' not in app_client.get("/app").text
    again = app_client.post(f"/app/recalls/{notice.id}/ack", data={"csrf": csrf_of(home)})
    assert again.status_code == 409 and "Lệnh thu hồi này đã được xác nhận." in again.text  # Vietnamese first
    assert "acknowledged already" not in again.text
    with Session(runtime.engine) as s:
        other = s.exec(select(RecallNotice).where(RecallNotice.recall_id == recall_id,
                                                  col(RecallNotice.org_id) != m1.org_id)).first()  # fmt: skip
        acked = s.get(RecallNotice, notice.id)
    assert acked is not None and acked.acknowledged_by == m1.member_id and acked.acknowledged_at is not None
    assert other is not None  # another holder's notice is not theirs to acknowledge
    theirs = app_client.post(f"/app/recalls/{other.id}/ack", data={"csrf": csrf_of(home)})
    assert theirs.status_code == 404 and "Không tìm thấy thông báo thu hồi này." in theirs.text
    assert "not found" not in theirs.text


def test_a_lot_in_transit_notifies_the_organisation_it_is_shipped_to(runtime: Runtime, app_client: TestClient) -> None:
    """Recalled while on its way, a lot reaches its receiver, which gets a notice listing it (it
    holds it only once received, and a recalled lot cannot be received); the console says where
    the lot was going."""
    from tests.world import make_world, setup_rice, ship
    from traceability_api.authority.recall_notify import notice_payload

    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201  # in transit, not received
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [rice["lot"]["id"]], "reason": "Nấm mốc", "scope": "lot"})
    assert r.status_code == 201, r.text
    row = r.json()["affected"][0]
    assert (row["holderOrgId"], row["inTransitToOrgId"]) == (w.coop.id, w.mill.id)
    with Session(runtime.engine) as s:
        notices = {n.org_id: n for n in s.exec(select(RecallNotice).where(RecallNotice.recall_id == r.json()["id"]))}
        assert set(notices) == {w.coop.id, w.mill.id}
        recall = s.get(Recall, r.json()["id"])
        assert recall is not None
        payload = notice_payload(recall, notices[w.mill.id], "mill", "https://x/ack")
    assert [lot["uri"] for lot in payload["lots"]] == [rice["uri"]]
    member_client(app_client, runtime, "Chi cục QLCL Đồng Tháp", "chicuc.dt", OrgKind.authority)
    page = app_client.get(f"/app/console/recalls/{r.json()['id']}").text
    assert f'data-heading-to="{w.mill.id}"' in page and "đang giao đến Nhà máy xay xát Trà Nóc" in page
