"""What a shopper and an inspector see (issue 12): local dates and units per language, the processed
lot's story, the counterfeit warning and its report form, labels that tell the truth, HTTP niceties."""

from __future__ import annotations

import gzip
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlmodel import Session, col
from typer.testing import CliRunner

from tests.pages_scenario import duck_eggs, processed_rice
from tests.world import World, gtin, make_world, obj_event, setup_rice
from traceability_api.authority.models import Recall
from traceability_api.authority.recall import active_recall_reason
from traceability_api.consumer.reports import PER_CLIENT_PER_HOUR
from traceability_api.lots.models import Lot
from traceability_api.runtime import Runtime

BASE = "https://trace.example.vn"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def grab(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


def test_dates_in_the_events_zone_and_units_per_language(w: World) -> None:
    rice = processed_rice(w)
    vi = w.client.get(rice["path"]).text
    en = w.client.get(rice["path"] + "?lang=en").text
    # the sowing at 06:00 in Vietnam is 23:00 UTC the day before; the packing likewise
    assert grab(vi, r'id="diary".*?<time>([^<]+)</time>') == ["10/01/2025"]
    assert grab(en, r'id="diary".*?<time>([^<]+)</time>') == ["Jan 10, 2025"]
    assert "<time>05/03/2025 06:30</time>" in vi and re.search(r"<time>Mar 5, 2025,? 6:30\sAM</time>", en)
    assert "28.000 kg" in vi and "28,000 kg" in en and "KGM" not in vi + en
    assert "Đầu vào: L1 1.000 kg" in vi and "Đầu ra: R1 28.000 kg" in vi  # processing inputs and outputs
    assert "Inputs: L1 1,000 kg" in en and "Outputs: R1 28,000 kg" in en
    # expiry from the shelf life (180 days from the packing day), product image, GTIN in its own row
    assert 'id="expiry">01/09/2025<' in vi and 'id="expiry">Sep 1, 2025<' in en
    assert '<img class="photo" src="/static-test/rice.png"' in vi
    eggs = w.client.get(duck_eggs(w)["path"]).text
    assert "6.000 quả" in eggs and "H87" not in eggs
    # collected at a packhouse: "made at", not a growing area
    assert '<dt id="origin-label">Nơi sản xuất</dt><dd>Trạm thu gom trứng</dd>' in eggs


def test_proof_card_is_plain_and_says_what_it_covers(w: World) -> None:
    rice = processed_rice(w)
    html = w.client.get(rice["path"]).text
    card = html[html.index('id="verification"') :]
    assert card.index('class="plain"') < card.index("<details>")  # one plain sentence, details one tap away
    assert "<details><summary>Chi tiết kỹ thuật</summary>" in card
    steps = html[html.index('id="journey"') : html.index("</section>", html.index('id="journey"'))].count("<li>")
    diary = html[html.index('id="diary"') : html.index("</section>", html.index('id="diary"'))].count("<li>")
    scope = grab(html, r'id="proof-scope">([^<]+)<')[0]
    assert (
        f"{steps + diary} bản ghi" in scope and f"{steps} bước hành trình" in scope and f"{diary} mục nhật ký" in scope
    )
    en = grab(w.client.get(rice["path"] + "?lang=en").text, r'id="proof-scope">([^<]+)<')[0]
    assert "1 diary entry," in en and f"{steps} journey steps" in en  # plurals by Babel


def test_event_before_commissioning_is_refused(w: World) -> None:
    rice = setup_rice(w)  # harvested 2025-02-28 17:00 +07:00
    r = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], None, "inspecting", time="2025-02-27T08:00:00+07:00"))
    assert r.status_code == 422, r.text
    assert "before lot L1 was commissioned (2025-02-28T17:00+07:00)" in r.json()["detail"]
    ok = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], None, "inspecting", time="2025-03-01T08:00:00+07:00"))
    assert ok.status_code == 201, ok.text


def report(w: World, path: str, **fields: str) -> Any:
    page = w.client.get(path)
    assert page.status_code == 404 and 'id="unknown-code"' in page.text
    action = grab(page.text, r'<form method="post" action="([^"]+)"')[0].replace("&amp;", "&")
    csrf = grab(page.text, r'name="csrf" value="([^"]+)"')[0]
    return w.client.post(action.replace(BASE, ""), data={"csrf": csrf, "lang": "vi"} | fields)


def test_unknown_codes_warn_and_reports_reach_brand_owner_and_authority(w: World) -> None:
    rice = setup_rice(w)
    for path in (f"/01/{rice['gtin']}/10/FAKE1", "/01/08930000009999/10/L1", f"/01/{rice['gtin']}/10/L1/21/X9"):
        r = w.client.get(path)
        assert r.status_code == 404 and "MÃ CHƯA ĐƯỢC ĐĂNG KÝ" in r.text and "hàng giả" in r.text, path
    en = w.client.get(f"/01/{rice['gtin']}/10/FAKE1?lang=en").text
    assert "THIS CODE IS NOT REGISTERED" in en and "may be counterfeit" in en
    done = report(w, f"/01/{rice['gtin']}/10/FAKE1", place="Chợ Xuân Khánh", note="bao bì lạ")
    assert done.status_code == 201 and 'id="report-done"' in done.text
    report(w, "/01/08930000009999/10/L1")
    mine = w.get(w.coop, "/api/v1/counterfeit-reports").json()  # the brand owner: only its GTIN
    assert [(x["lot_code"], x["place"], x["note"]) for x in mine] == [("FAKE1", "Chợ Xuân Khánh", "bao bì lạ")]
    assert w.get(w.mill, "/api/v1/counterfeit-reports").json() == []
    assert len(w.get(w.authority, "/api/v1/counterfeit-reports").json()) == 2
    assert w.client.get("/api/v1/counterfeit-reports").status_code == 401


def test_report_form_refuses_forgery_floods_and_oversize(w: World) -> None:
    rice = setup_rice(w)
    path = f"/01/{rice['gtin']}/10/FAKE2"
    post = f"/report-code?code={path}"
    assert w.client.post(post, data={"csrf": "1.00", "note": "x"}).status_code == 403  # no token from our page
    now = int(time.time())  # a fresh time and a MAC with a non-ASCII character: refused, not a 500
    assert w.client.post(post, data={"csrf": f"{now}.é", "note": "x"}).status_code == 403
    page = w.client.get(path).text
    csrf = grab(page, r'name="csrf" value="([^"]+)"')[0]
    other = w.client.post(f"/report-code?code=/01/{rice['gtin']}/10/OTHER", data={"csrf": csrf})
    assert other.status_code == 403  # a token is for the code it was shown with
    cross = w.client.post(post, data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    big = w.client.post(post, data={"csrf": csrf, "note": "x" * 5000})
    assert big.status_code == 413
    long_note = w.client.post(post, data={"csrf": csrf, "note": "x" * 1500})
    assert long_note.status_code == 422
    for _ in range(PER_CLIENT_PER_HOUR):
        assert w.client.post(post, data={"csrf": csrf}).status_code == 201
    flood = w.client.post(post, data={"csrf": csrf})
    assert flood.status_code == 429 and "at most" in flood.json()["detail"]


def test_labels_print_the_packing_day_expiry_gtin_and_warn_of_loopback(
    w: World, runtime: Runtime, tmp_path: Path
) -> None:
    rice = processed_rice(w)
    r = w.post(w.mill, f"/api/v1/lots/{rice['lot']['id']}/labels", {"layout": "a4-2x7", "copies": 2})
    assert r.status_code == 200 and "X-AgriTrace-Warning" not in r.headers
    pdf = tmp_path / "r1.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # packed 2025-03-05 06:30 in Vietnam (2025-03-04 UTC); HSD 180 days later
    assert "Đóng gói: 05/03/2025" in text and "HSD: 01/09/2025" in text and f"GTIN (01) {rice['gtin']}" in text
    runtime.settings.public_base_url = "http://127.0.0.1:8000"
    r = w.post(w.mill, f"/api/v1/lots/{rice['lot']['id']}/labels", {"copies": 1})
    assert r.status_code == 200 and "loopback" in r.headers["X-AgriTrace-Warning"]
    from traceability_api.cli import app

    env = {"DATABASE_URL": runtime.settings.effective_database_url, "AGRITRACE_PUBLIC_BASE_URL": "http://localhost:8000",
           "AGRITRACE_DATA_DIR": str(runtime.settings.data_dir)}  # fmt: skip
    res = CliRunner().invoke(app, ["labels", rice["gtin"], "R1", "--copies", "1", "--out", str(pdf)], env=env)
    assert res.exit_code == 0 and "WARNING" in res.output and "loopback" in res.output, res.output


def test_a_harvest_date_at_the_calendars_end_leaves_the_page_and_labels_working(w: World, runtime: Runtime) -> None:
    """Harvested 9999-12-31 (a date the API accepted, and a lot stored before the future was refused)
    with a 30-day shelf life: the expiry is past the last day Python can hold; the lot's page and its
    labels answered an unclear 422 (OverflowError) and the lot could never be shown or labelled
    again.  Now such a lot has no printable expiry."""
    g = setup_rice(w)["gtin"]
    product_id = w.client.get("/api/v1/products", headers=w.coop.h()).json()[0]["id"]
    r = w.client.patch(f"/api/v1/products/{product_id}", json={"shelf_life_days": 30}, headers=w.coop.h())
    assert r.status_code == 200, r.text
    r = w.post(w.coop, "/api/v1/lots", {"gtin": g, "lot_code": "END1", "quantity": 10, "harvest_date": "2025-03-01"})
    assert r.status_code == 201, r.text
    with Session(runtime.engine) as s:  # as a lot stored before the future was refused holds it
        s.execute(update(Lot).where(col(Lot.id) == r.json()["id"]).values(harvest_date=date(9999, 12, 31)))
        s.commit()
    page = w.client.get(f"/01/{g}/10/END1")
    assert page.status_code == 200 and "31/12/9999" in page.text, page.text[:300]
    label = w.post(w.coop, f"/api/v1/lots/{r.json()['id']}/labels", {"copies": 1, "serials": 1})
    assert label.status_code == 200 and label.content.startswith(b"%PDF"), label.text[:300]


def test_gzip_head_favicon_and_accessible_chart_name(w: World) -> None:
    rice = processed_rice(w)
    r = w.client.get(rice["path"], headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and int(r.headers["content-length"]) < len(r.content) / 2
    raw = w.client.get(rice["path"], headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and gzip.compress(raw.content)  # plain for those who ask
    head = w.client.head(rice["path"])
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/html")
    assert w.client.head(f"/01/{rice['gtin']}/10/NOPE").status_code == 404
    assert w.client.head("/embed" + rice["path"]).status_code == 200
    assert w.client.head(f"/badge{rice['path']}.svg").status_code == 200
    icon = w.client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml" and b"<svg" in icon.content
    assert '<link rel="icon" href="/favicon.svg"' in raw.text
    from consumer_site.render import sparkline

    svg = sparkline([1.0, 2.0], label='Nhiệt độ (°C) <"x">')
    assert 'role="img" aria-label="Nhiệt độ (°C) &lt;&quot;x&quot;&gt;"' in svg and "<title>" in svg


def test_active_recall_check_reads_only_the_lots_recalls(w: World, runtime: Runtime) -> None:
    setup_rice(w)
    with Session(runtime.engine) as s:
        for lot_id, reason in ((11, "lot 11"), (1, "lot 1"), (12, "lot 12")):
            s.add(Recall(org_id=w.authority.id, member_id=1, reason=reason, scope="lot", root_lot_ids=[lot_id],
                         affected=[{"lotId": lot_id, "lotCode": "X"}]))  # fmt: skip
        s.commit()
        statements: list[str] = []

        def seen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append(statement)

        event.listen(runtime.engine, "before_cursor_execute", seen)
        try:
            assert active_recall_reason(s, 1) == "lot 1"
        finally:
            event.remove(runtime.engine, "before_cursor_execute", seen)
        recall_reads = [x for x in statements if "FROM recall" in x]
        assert recall_reads and all("WHERE" in x for x in recall_reads)  # not every recall on each page view
        assert active_recall_reason(s, 11) == "lot 11"
        assert active_recall_reason(s, 2) is None


def test_product_image_only_from_https_or_this_site() -> None:
    from traceability_api.consumer.view import _product_view
    from traceability_api.lots.models import Product

    def shown(url: str) -> str | None:
        return _product_view(Product(gtin="08930000000019", name="x", org_id=1, image_url=url), "vi").image_url

    assert shown("https://cdn.example.vn/a.png") == "https://cdn.example.vn/a.png" and shown("/img/a.png")
    assert shown("javascript:alert(1)") is None and shown("//evil.example/a.png") is None
    assert shown("http://plain.example/a.png") is None


def test_a_lot_code_with_a_slash_is_an_unknown_lot_page_not_json(w: World) -> None:
    """GS1 AI (10) allows '/' in a lot code, written %2F in a Digital Link; lot codes here are
    letters, digits and . _ - (lots.models.check_lot_code), so such a code names no lot.  The
    server decodes %2F before routing and no route matched: a shopper scanning one got a bare
    JSON 404 instead of the page that warns of an unknown code."""
    rice = setup_rice(w)
    g = rice["gtin"]
    page = w.client.get(f"/01/{g}/10/DT%2F2025-7", headers={"Accept": "text/html"})
    unknown = w.client.get(f"/01/{g}/10/DT-2025-7", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert page.status_code == 404 and "text/html" in page.headers["content-type"], page.text[:300]
    assert 'id="unknown-code"' in page.text and 'id="unknown-code"' in unknown.text, page.text[:500]
    assert "DT%2F2025-7" in page.text  # the code as scanned
    unit = w.client.get(f"/01/{g}/10/DT%2F2025-7/21/5", headers={"Accept": "text/html"})
    assert unit.status_code == 404 and 'id="unknown-code"' in unit.text, unit.text[:300]


def test_a_labels_content_line_names_net_weight_volume_or_count_as_the_labelling_decree_does(w: World) -> None:
    """Decree 43/2017/NĐ-CP, annex II: a solid's net quantity is 'Khối lượng tịnh', a liquid's
    'Thể tích thực', a count 'Số lượng'.  A litre product printed 'Số lượng: 5 lít'."""
    rice = setup_rice(w)
    sauce_gtin = gtin(9)
    r = w.post(w.coop, "/api/v1/products", {"gtin": sauce_gtin, "name": "Mắm cá linh", "unit": "LTR"})
    assert r.status_code == 201, r.text
    sauce = w.post(w.coop, "/api/v1/lots", {
        "gtin": sauce_gtin, "lot_code": "MCL-1", "quantity": 200, "plot_id": rice["plot_id"],
        "harvest_date": "2025-02-28", "event_time": "2025-02-28T17:00:00+07:00",
    }, role="recorder")  # fmt: skip
    assert sauce.status_code == 201, sauce.text

    def content_line(lot_id: int, content: float) -> str:
        pdf = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"copies": 1, "content": content})
        assert pdf.status_code == 200, pdf.text[:300]
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
        return next(line for line in text.decode().splitlines() if ": " in line and line.split(":")[0] in LINES)

    LINES = ("Khối lượng tịnh", "Thể tích thực", "Số lượng", "Khối lượng")  # noqa: N806
    assert content_line(rice["lot"]["id"], 10) == "Khối lượng tịnh: 10 kg"
    assert content_line(sauce.json()["id"], 0.5) == "Thể tích thực: 0,5 lít"
