"""Resolver, consumer page, embeds, labels API and the copied-code check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from labels.digital_link import parse
from tests.world import World, make_world, setup_rice, ship
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.consumer.models import ScanLog
from traceability_api.runtime import Runtime

BASE = "https://trace.example.vn"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def anchor(runtime: Runtime) -> None:
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()


def page(w: World, path: str, **headers: str) -> Any:
    return w.client.get(path.replace(BASE, ""), headers=headers, follow_redirects=False)


def test_lot_page_vietnamese_by_default_english_on_request(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    ship(w, w.coop, w.mill, rice["uri"])
    anchor(runtime)
    path = f"/01/{rice['gtin']}/10/L1"
    vi = page(w, path)
    assert vi.status_code == 200 and vi.headers["content-type"].startswith("text/html")
    html = vi.text
    assert '<html lang="vi">' in html and "Hành trình sản phẩm" in html and "ĐÃ XÁC THỰC" in html
    assert 'data-status="verified"' in html
    for needle in ("Lúa ST25", "HTX Lúa gạo Thạnh Phú", "Ruộng ông Tư", "CT-TP-001", "28/02/2025", "Xuất hàng"):
        assert needle in html, needle
    assert "Sowing" not in html
    en = page(w, path, **{"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in en.text and "Journey" in en.text and "VERIFIED" in en.text
    assert '<html lang="en">' in page(w, path + "?lang=en").text
    # schema.org Product with the trace link
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "Product" and ld["gtin14"] == rice["gtin"] and ld["url"].endswith(path)
    # weight and no external requests: no scripts, stylesheets or images fetched from elsewhere
    assert len(html.encode()) < 60_000
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="https?://', html)


def test_linkset_for_machines_and_fallbacks(w: World) -> None:
    rice = setup_rice(w)
    path = f"/01/{rice['gtin']}/10/L1"
    r = page(w, path, Accept="application/linkset+json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/linkset+json")
    links = r.json()["linkset"][0]
    assert links["anchor"] == BASE + path
    for lt in ("pip", "traceability", "defaultLink"):
        assert f"https://gs1.org/voc/{lt}" in links
    assert "https://gs1.org/voc/recallStatus" not in links  # an active lot (a recalled one: below)
    # Accept's weights count: the linkset refused (q=0) or preferred less than HTML is the page
    for accept, linkset in (
        ("application/linkset+json;q=0", False),
        ("text/html, application/linkset+json;q=0.5", False),
        ("text/html;q=0.8, application/linkset+json", True),
        ("*/*", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
    ):
        r = page(w, path, Accept=accept)
        assert r.headers["content-type"].startswith("application/linkset+json" if linkset else "text/html"), accept
    assert page(w, path + "?linkType=gs1:traceability").status_code == 303
    # unknown lot of a known product or unknown product: a 404 that warns of a counterfeit; bad check digit: 400
    r = page(w, f"/01/{rice['gtin']}/10/NOPE")
    assert r.status_code == 404 and 'id="unknown-code"' in r.text and "có thể là hàng giả" in r.text
    product_page = page(w, f"/01/{rice['gtin']}")  # a product's page announces its linkset as a lot's does
    assert product_page.status_code == 200 and product_page.headers["cache-control"] == "no-store"
    assert product_page.headers["link"] == f'<{BASE}/01/{rice["gtin"]}>; rel="linkset"; type="application/linkset+json"'
    assert page(w, "/01/08930000009999/10/L1").status_code == 404
    bad = page(w, "/01/08930000000012/10/L1")
    assert bad.status_code == 400 and "check digit" in bad.json()["detail"]
    # what GS1's Digital Link syntax refuses, the resolver refuses with the reason
    refused = [(f"{path}?99=ABC", "company-internal"), (f"{path}?17=260301&17=260302", "repeated"),
               (f"{path}?10=L2", "key qualifier"), (f"/01/{rice['gtin'][1:]}/10/L1", "14 digits"),
               ("/00/089300000000000018", "check digit"), (f"{path}?999=x", "Application Identifier")]  # fmt: skip
    for link, reason in refused:
        r = page(w, link)
        assert r.status_code == 400 and reason in r.json()["detail"], (link, r.text)
    assert page(w, f"{path}?17=270101&3103=001000").status_code == 200  # valid data attributes are kept
    # GS1 short names redirect to the numeric form; keys without records here are 404
    r = page(w, f"/gtin/{rice['gtin']}/lot/L1?17=270101")
    assert r.status_code == 301 and r.headers["location"] == f"{BASE}{path}?17=270101"
    assert page(w, "/00/089300000000000019").status_code == 404
    assert page(w, "/414/8930000000019/254/KHO-1").status_code == 404


def test_widget_oembed_and_badge(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    widget = page(w, f"/embed/01/{rice['gtin']}/10/L1")
    assert widget.status_code == 200 and "Lúa ST25" in widget.text and len(widget.content) < 20_000
    o = w.client.get("/oembed", params={"url": f"{BASE}/01/{rice['gtin']}/10/L1"}).json()
    assert o["type"] == "rich" and f"/embed/01/{rice['gtin']}/10/L1" in o["html"]
    assert w.client.get("/oembed", params={"url": f"{BASE}/01/123"}).status_code == 422
    # only this service's own links: a foreign host (or a look-alike) gets 404, whatever its path
    for foreign in (f"https://evil.example/01/{rice['gtin']}/10/L1", f"https://id.gs1.org/01/{rice['gtin']}/10/L1",
                    f"https://trace.example.vn@evil.example/01/{rice['gtin']}/10/L1",
                    f"https://trace.example.vn.evil.example/01/{rice['gtin']}/10/L1", "https://x/01/123"):  # fmt: skip
        r = w.client.get("/oembed", params={"url": foreign})
        assert r.status_code == 404 and "only for links of this service" in r.json()["detail"], foreign
    badge = page(w, f"/badge/01/{rice['gtin']}/10/L1.svg")
    assert badge.headers["content-type"] == "image/svg+xml" and "ĐANG CHỜ" in badge.text  # not anchored yet
    anchor(runtime)
    verified = page(w, f"/badge/01/{rice['gtin']}/10/L1.svg")
    assert "ĐÃ XÁC THỰC" in verified.text
    # a shop's page may not show "verified" for minutes after a recall: kept as long as the page's view
    assert (
        verified.headers["cache-control"] == f"max-age={int(runtime.settings.consumer_page_cache_s)}, must-revalidate"
    )


def test_serial_labels_tokens_and_copied_codes(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    lot_id = rice["lot"]["id"]
    pdf = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"layout": "a4-4x10", "serials": 3, "copies": 1})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"layout": "nope", "copies": 1}).status_code == 422
    assert w.post(w.mill, f"/api/v1/lots/{lot_id}/labels", {"copies": 1}).status_code == 404
    assert w.get(w.coop, f"/api/v1/lots/{lot_id}/qr.svg").text.startswith("<svg")
    # the serial units exist now, and their tokens are what the labels carry
    from labels.digital_link import build
    from labels.tokens import serial_token
    from traceability_api.consumer.secrets import label_secret

    secret = label_secret(runtime.settings)
    serial = "L1-000001"
    good = build(rice["gtin"], "L1", serial, token=serial_token(secret, rice["gtin"], serial)).uri(BASE)
    assert parse(good).token
    r = page(w, good)
    assert r.status_code == 200 and "copy-warning" not in r.text and serial in r.text
    forged = page(w, build(rice["gtin"], "L1", serial, token="aaaaaaaaaaaaaaaa").uri(BASE))
    assert 'id="copy-warning"' in forged.text
    accented = page(w, build(rice["gtin"], "L1", serial, token="é").uri(BASE))  # once a TypeError: 500
    assert accented.status_code == 200 and 'id="copy-warning"' in accented.text
    invented = page(w, build(rice["gtin"], "L1", "L1-999999", token="aaaaaaaaaaaaaaaa").uri(BASE))
    assert invented.status_code == 404 and 'id="unknown-code"' in invented.text  # never registered
    # a genuine serial and token relabelled onto another lot of the same product
    setup_rice(w, lot="L2")
    moved = build(rice["gtin"], "L2", serial, token=serial_token(secret, rice["gtin"], serial)).uri(BASE)
    assert 'id="copy-warning"' in page(w, moved).text
    # the same genuine code scanned from many places: a copied label
    for lat in (10.0, 10.5, 21.0):
        page(w, good + f"&geo={lat},105.7")
    assert 'id="copy-warning"' in page(w, good).text
    assert runtime.scan_buffer is not None
    runtime.scan_buffer.flush()
    with Session(runtime.engine) as s:
        logs = s.exec(select(ScanLog)).all()
    assert logs and all("testclient" not in (lg.client_hash or "") and len(lg.client_hash) == 32 for lg in logs)
    assert {lg.coarse_location for lg in logs} >= {"10.0,105.7", "21.0,105.7"}


def test_a_serial_scanned_without_its_lot_keeps_its_token_and_answers_machines(w: World, runtime: Runtime) -> None:
    """``/01/{gtin}/21/{serial}?t=...`` (GS1-valid without the lot) redirected to the full link
    without the token, so a genuine label was shown as a possible copy; and a linkset client asking
    for an unknown serial got the HTML warning page."""
    from labels.tokens import serial_token
    from traceability_api.consumer.secrets import label_secret

    rice = setup_rice(w)
    assert w.post(w.coop, f"/api/v1/lots/{rice['lot']['id']}/labels", {"serials": 1}).status_code == 200
    serial = "L1-000001"
    token = serial_token(label_secret(runtime.settings), rice["gtin"], serial)
    r = page(w, f"/01/{rice['gtin']}/21/{serial}?t={token}")
    assert r.status_code == 301 and r.headers["location"].endswith(f"/10/L1/21/{serial}?t={token}")
    shown = w.client.get(f"/01/{rice['gtin']}/21/{serial}?t={token}")
    assert shown.status_code == 200 and serial in shown.text and 'id="copy-warning"' not in shown.text
    unknown = page(w, f"/01/{rice['gtin']}/21/NOPE-1", accept="application/linkset+json")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/json")


def test_a_recalled_lot_gets_no_new_labels_or_serials(w: World, runtime: Runtime) -> None:
    """A recalled lot may not be shipped; its labels were still printed and new serialised units
    commissioned in it (a sheet of fresh codes for produce under recall).  Now 409, nothing written."""
    from traceability_api.lots.models import SerialUnit

    rice = setup_rice(w)
    lot_id = rice["lot"]["id"]
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [lot_id], "reason": "Salmonella", "scope": "lot"})
    assert r.status_code == 201, r.text
    for body in ({"copies": 2}, {"serials": 2}):
        r = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", body)
        assert r.status_code == 409 and "recall" in r.json()["detail"], r.text[:300]
    # a machine reading the lot's linkset learns it too (GS1 link type recallStatus)
    links = page(w, f"/01/{rice['gtin']}/10/L1", Accept="application/linkset+json").json()["linkset"][0]
    assert links["https://gs1.org/voc/recallStatus"][0]["href"] == links["anchor"]
    with Session(runtime.engine) as s:
        assert s.exec(select(SerialUnit)).all() == []


def test_page_micro_cache_expires_and_then_shows_tampering(w: World, runtime: Runtime) -> None:
    from sqlalchemy import text

    from traceability_api.consumer.caches import PageCache

    now = [1000.0]  # the cache's clock, moved on by the test: no sleep, no race with a slow machine
    runtime.page_cache = PageCache(clock=lambda: now[0])
    rice = setup_rice(w)
    anchor(runtime)
    runtime.settings.consumer_page_cache_s = 1.0
    path = f"/01/{rice['gtin']}/10/L1"
    assert 'data-status="verified"' in page(w, path).text
    with runtime.engine.begin() as c:
        c.execute(text("UPDATE event SET event_type = event_type, document = :d WHERE id = 1"),
                  {"d": json.dumps({"type": "ObjectEvent", "forged": True})})  # fmt: skip
    assert 'data-status="verified"' in page(w, path).text  # served from the 1 s cache
    now[0] += 1.1
    assert 'data-status="not_verified"' in page(w, path).text


def test_labels_command_prints_a_lot_sheet(w: World, runtime: Runtime, tmp_path: Any) -> None:
    import subprocess

    from typer.testing import CliRunner

    from traceability_api.cli import app

    rice = setup_rice(w)
    out = tmp_path / "lot.pdf"
    env = {"DATABASE_URL": runtime.settings.effective_database_url, "AGRITRACE_PUBLIC_BASE_URL": BASE,
           "AGRITRACE_DATA_DIR": str(runtime.settings.data_dir)}  # fmt: skip
    res = CliRunner().invoke(app, ["labels", rice["gtin"], "L1", "--copies", "3", "--out", str(out)], env=env)
    assert res.exit_code == 0, res.output
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("Lúa ST25") == 3 and "Thu hoạch: 28/02/2025" in text
    bad = CliRunner().invoke(app, ["labels", rice["gtin"], "NOPE", "--out", str(out)], env=env)
    assert bad.exit_code == 2 and "no lot NOPE" in bad.output
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [rice["lot"]["id"]], "reason": "Salmonella", "scope": "lot"})
    assert r.status_code == 201, r.text
    out.unlink()
    recalled = CliRunner().invoke(app, ["labels", rice["gtin"], "L1", "--out", str(out)], env=env)
    assert recalled.exit_code == 1 and "under recall" in recalled.output and not out.exists(), recalled.output


def test_demo_data_gives_a_verified_consumer_page(runtime: Runtime, app_client: TestClient) -> None:
    from traceability_api.compose import attach_worker
    from traceability_api.demo import seed_demo

    runtime.settings.anchor_worker = True
    attach_worker(runtime)  # registers the worker the demo anchors with (its thread is not started)
    url = seed_demo(runtime)["consumer_url"]
    assert seed_demo(runtime)["consumer_url"] == url  # a second run seeds nothing more
    html = app_client.get(url.replace(BASE, ""), headers={"Accept-Language": "vi"}).text
    assert 'data-status="verified"' in html
    for needle in ('id="diary"', "Anvil 5SC", 'id="sensors"', "OCOP", "Cánh đồng lớn Thạnh Phú"):
        assert needle in html, needle
    journey = html[html.index('id="journey"') : html.index("</section>", html.index('id="journey"'))]
    assert "Ghi nhận cảm biến" not in journey  # the summary is in the sensor section, not a journey step
    assert re.search(r'id="sensors".*role="img" aria-label="[^"]+ \(°C\)"', html, re.S)  # the chart has a name


def test_serialised_label_sheet_from_the_api_decodes(w: World, runtime: Runtime) -> None:
    """What the label endpoint prints scans: every serial's code decodes to its signed Digital Link."""
    from tests.test_label_decode import decoded_pages

    rice = setup_rice(w)
    r = w.post(w.coop, f"/api/v1/lots/{rice['lot']['id']}/labels", {"layout": "a4-3x8", "serials": 24})
    assert r.status_code == 200
    (codes,) = decoded_pages(r.content)
    assert len(codes) == 24
    for uri in codes:
        scanned = page(w, uri)
        assert parse(uri).token and scanned.status_code == 200 and "copy-warning" not in scanned.text


def test_big_label_sheet_from_the_worker_process_decodes_and_a_busy_renderer_writes_nothing(
    w: World, runtime: Runtime
) -> None:
    """A sheet bigger than the inline limit is drawn by the API worker's one render process and every
    code decodes; when that process is busy and its waiting places are taken, the request gets 503
    with Retry-After at once and no serial is commissioned; small sheets still print meanwhile."""
    from sqlalchemy import func

    from tests.test_label_decode import decoded_pages
    from traceability_api.lots.models import SerialUnit

    def serials() -> int:
        with Session(runtime.engine) as s:
            return s.exec(select(func.count()).select_from(SerialUnit)).one()

    renderer = runtime.label_renderer
    assert renderer is not None
    renderer.inline_max = 4  # 24 labels count as big here: no need for a thousand to reach the process
    rice = setup_rice(w)
    path = f"/api/v1/lots/{rice['lot']['id']}/labels"
    r = w.post(w.coop, path, {"layout": "a4-3x8", "serials": 24})
    assert r.status_code == 200 and renderer._pool is not None
    (codes,) = decoded_pages(r.content)
    assert len(codes) == 24 and all(parse(uri).token for uri in codes) and serials() == 24
    with renderer.reserve(5), renderer.reserve(5), renderer.reserve(5):  # one rendering, two waiting
        busy = w.post(w.coop, path, {"layout": "a4-3x8", "serials": 24})
        assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0 and "busy" in busy.json()["detail"]
        assert serials() == 24  # refused before commissioning
        small = w.post(w.coop, path, {"layout": "a4-3x8", "serials": 2, "copies": 1})
        assert small.status_code == 200 and serials() == 26
    assert w.post(w.coop, path, {"layout": "a4-3x8", "serials": 24}).status_code == 200 and serials() == 50


def test_serials_numbered_while_another_request_numbers_the_product_do_not_collide(w: World, runtime: Runtime) -> None:
    """Serials are numbered from the product's count: a label request that starts while another
    transaction is numbering the same product waits for it, then takes the next numbers (it got 409,
    its serials "already existed", when both read the same count)."""
    import threading

    from traceability_api.events.serials import commission_serials
    from traceability_api.lots.models import Lot, Product, SerialUnit
    from traceability_api.parties.models import Member, Organisation, Role
    from traceability_api.parties.service import Principal

    rice = setup_rice(w)
    path = f"/api/v1/lots/{rice['lot']['id']}/labels"
    answers: list[Any] = []
    with Session(runtime.engine) as s:
        m = s.exec(select(Member).where(Member.org_id == w.coop.id, Member.role == Role.admin)).one()
        org = s.get(Organisation, w.coop.id)
        lot, product = s.get(Lot, rice["lot"]["id"]), s.exec(select(Product).where(Product.gtin == rice["gtin"])).one()
        assert m.id is not None and org is not None and lot is not None
        p = Principal(m.id, m.name, Role.admin, w.coop.id, org.kind)
        first = commission_serials(s, p, lot, product, 3, runtime.settings, checks=runtime.capture_checks)
        other = threading.Thread(target=lambda: answers.append(w.post(w.coop, path, {"serials": 3})))
        other.start()
        other.join(timeout=1)  # unguarded, it reads the same count now (and fails later); guarded, it waits
        s.commit()
    other.join()
    (r,) = answers
    assert r.status_code == 200, r.text
    with Session(runtime.engine) as s:
        serials = sorted(s.exec(select(SerialUnit.serial)).all())
    assert first == ["L1-000001", "L1-000002", "L1-000003"]
    assert serials == [f"L1-{n:06d}" for n in range(1, 7)]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_malformed_code_is_a_page_for_browsers_and_json_for_machines(w: World) -> None:
    """A shopper's phone scanning a label with a wrong check digit got ``{"detail": "not a valid GS1
    Digital Link: GTIN ... check digit ..."}``; a browser now gets the warning page (same 400)."""
    rice = setup_rice(w)
    bad = rice["gtin"][:-1] + str((int(rice["gtin"][-1]) + 1) % 10)
    for path in (f"/01/{bad}/10/L1", f"/01/{rice['gtin']}/10/L1?99=1", f"/gtin/{bad}/lot/L1"):
        r = page(w, path, Accept=BROWSER_ACCEPT, **{"Accept-Language": "vi-VN,vi;q=0.9"})
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        assert (
            'id="invalid-code"' in r.text and "MÃ KHÔNG HỢP LỆ" in r.text and r.headers["cache-control"] == "no-store"
        )
        en = page(w, path + ("&" if "?" in path else "?") + "lang=en", Accept=BROWSER_ACCEPT)
        assert en.status_code == 400 and "THIS CODE IS NOT VALID" in en.text
        for accept in ("*/*", "application/json", "application/linkset+json"):
            api = page(w, path, Accept=accept)
            assert api.status_code == 400 and "not a valid GS1 Digital Link" in api.json()["detail"], (path, accept)
    long = page(w, f"/01/{rice['gtin']}/10/{'A' * 5000}", Accept=BROWSER_ACCEPT)
    shown = re.findall(r">/01/\d+/10/(A+)<", long.text)  # the page shows a bounded piece of the code
    assert long.status_code == 400 and shown and len(shown[0]) < 300


def test_resolver_answers_say_they_vary_by_accept_and_language(w: World) -> None:
    """One address answers HTML or a linkset (Accept) in Vietnamese or English (Accept-Language):
    without ``Vary`` naming both, a shared cache could serve one client's answer to another."""
    rice = setup_rice(w)
    for path in (f"/01/{rice['gtin']}/10/L1", f"/01/{rice['gtin']}"):
        for accept in (BROWSER_ACCEPT, "application/linkset+json"):
            r = page(w, path, Accept=accept)
            assert r.status_code == 200, (path, accept)
            vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
            assert {"accept", "accept-language"} <= vary, (path, accept, r.headers["vary"])


def test_oembed_can_be_read_by_a_shops_script_and_fits_a_phone(w: World) -> None:
    """A shop's page fetching /oembed from the browser was refused by CORS; its 360 px iframe
    overflowed a 360 px phone inside any page margin."""
    rice = setup_rice(w)
    r = w.client.get("/oembed", params={"url": f"{BASE}/01/{rice['gtin']}/10/L1"},
                     headers={"Origin": "https://shop.example"})  # fmt: skip
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert "max-width:100%" in r.json()["html"]


def test_json_ld_clients_get_the_linkset_as_json_ld_and_the_resolver_describes_itself(w: World) -> None:
    """``Accept: application/ld+json`` (GS1-Conformant Resolver: the linkset as JSON-LD) answered
    10 KB of HTML; linksets did not name the context that reads them as JSON-LD; and the description
    file every conformant resolver places at /.well-known/gs1resolver was a 404."""
    rice = setup_rice(w)
    context = "https://ref.gs1.org/standards/resolver/linkset-context"
    for path in (f"/01/{rice['gtin']}/10/L1", f"/01/{rice['gtin']}"):
        r = page(w, path, Accept="application/ld+json")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json"), path
        body = r.json()
        assert body["@context"] == context and body["linkset"][0]["anchor"] == BASE + path
        assert "https://gs1.org/voc/pip" in body["linkset"][0]
        plain = page(w, path, Accept="application/linkset+json")
        assert "@context" not in plain.json()  # RFC 9264 linkset, as the schema wants it
        for answer in (r, plain):
            assert f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"' in answer.headers["link"]
    browser = page(w, f"/01/{rice['gtin']}/10/L1", Accept=BROWSER_ACCEPT)
    assert browser.headers["content-type"].startswith("text/html")  # a browser still gets the page
    assert page(w, f"/01/{rice['gtin']}/10/NOPE", Accept="application/ld+json").status_code == 404
    d = w.client.get("/.well-known/gs1resolver")
    assert d.status_code == 200 and d.json()["resolverRoot"] == BASE and d.json()["supportedPrimaryKeys"] == ["01"]


def test_a_code_with_the_gtin_alone_says_where_the_journey_is(w: World) -> None:
    """A product-level code (/01/<GTIN>, no lot) showed "Số lô: —" and "Hành trình sản phẩm: Chưa có
    sự kiện nào." (no events yet) for a product whose lots have full journeys: read as "not traced"."""
    rice = setup_rice(w)
    for lang, hint, none in (
        ("vi", "không có số lô", "Chưa có sự kiện nào"),
        ("en", "without a lot number", "No events"),
    ):
        r = page(w, f"/01/{rice['gtin']}?lang={lang}", Accept=BROWSER_ACCEPT)
        assert r.status_code == 200 and 'id="product-only"' in r.text and hint in r.text, lang
        assert 'id="journey"' not in r.text and none not in r.text and ">—<" not in r.text, lang
    lot = page(w, f"/01/{rice['gtin']}/10/L1", Accept=BROWSER_ACCEPT)
    assert 'id="journey"' in lot.text and 'id="product-only"' not in lot.text


def test_embeds_of_an_unknown_or_malformed_code_warn_instead_of_showing_json(w: World) -> None:
    """A shop's iframe of a lot that is not registered (a fake listing's code) showed
    ``{"detail": "lot ... not found"}`` in English; its badge <img> was JSON, a broken image."""
    rice = setup_rice(w)
    bad = rice["gtin"][:-1] + str((int(rice["gtin"][-1]) + 1) % 10)
    for path, status, title in ((f"/01/{rice['gtin']}/10/FAKE1", 404, "MÃ CHƯA ĐƯỢC ĐĂNG KÝ"),
                                (f"/01/{bad}/10/L1", 422, "MÃ KHÔNG HỢP LỆ")):  # fmt: skip
        r = page(w, "/embed" + path)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), r.text[:200]
        assert 'id="unknown-code"' in r.text and title in r.text and f'href="{BASE}{path}"' in r.text
        assert r.headers["content-security-policy"] == "frame-ancestors *"
        assert "THIS CODE" in page(w, "/embed" + path + "?lang=en").text
        b = page(w, f"/badge{path}.svg")
        assert b.status_code == status and b.headers["content-type"] == "image/svg+xml" and title in b.text
    assert page(w, f"/embed/01/{rice['gtin']}/10/L1").status_code == 200


def test_every_unit_a_product_may_have_reads_as_words_on_the_page() -> None:
    """A product counted in cases (XCS, offered by the products API for export cartons) showed
    "120 XCS" to shoppers: the consumer page had no words for it."""
    from consumer_site.formatting import UNITS, quantity
    from traceability_api.lots.models import UOMS

    assert set(UOMS) <= set(UNITS)
    assert quantity(120, "XCS", "vi") == "120 thùng" and quantity(120, "XCS", "en") == "120 cases"


def test_a_lot_counted_in_cases_shows_cases(w: World) -> None:
    g = "08930000000330"
    assert w.post(w.coop, "/api/v1/products", {"gtin": g, "name": "Xoài thùng", "unit": "XCS"}).status_code == 201
    plot = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Vườn xoài"}).json()["id"]
    harvest = {"gtin": g, "lot_code": "C1", "quantity": 120, "plot_id": plot, "harvest_date": "2025-05-07",
               "event_time": "2025-05-07T06:00:00+07:00"}  # fmt: skip
    r = w.post(w.coop, "/api/v1/lots", harvest)
    assert r.status_code == 201, r.text
    vi, en = page(w, f"/01/{g}/10/C1").text, page(w, f"/01/{g}/10/C1?lang=en").text
    assert "120 thùng" in vi and "120 cases" in en and "XCS" not in vi + en


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [
        (None, "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),  # Chrome on a Vietnamese phone
        (None, "en-US,en;q=0.9,vi;q=0.8", "en"),
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "en"),
        (None, "en;q=0.1, vi", "vi"),  # the weights, not the order, decide: was English
        (None, "vi;q=0, en;q=0.5", "en"),  # q=0 refuses Vietnamese: was Vietnamese
        (None, "de", "vi"),
        (None, None, "vi"),
        ("EN", "vi", "en"),  # ?lang=EN from a hand-typed or re-cased link: was ignored
        ("xx", "en", "en"),
    ],
)
def test_language_follows_the_query_then_the_weights_of_accept_language(
    query: str | None, header: str | None, lang: str
) -> None:
    from consumer_site.i18n import LANGS
    from traceability_api.content_coding import pick_language

    assert pick_language(query, header, LANGS) == lang


def test_a_cold_stores_cooling_is_a_distribution_step_not_cultivation() -> None:
    """agri:BizStep-cooling (a cold store's step after harvest, FSMA 204's cooling) was filed on the
    consumer page under "Canh tác" (cultivation), with the farm's own steps."""
    from types import SimpleNamespace

    from traceability_api.consumer.steps import stage_of, step_key
    from traceability_api.epcis import vocabulary as voc

    def event(step: str) -> SimpleNamespace:
        return SimpleNamespace(event_type="ObjectEvent", biz_step=step, disposition=None, document_text="")

    cooling = event(voc.AGRI_NS + "BizStep-cooling")
    assert step_key(cooling) == "cooling" and stage_of(cooling, "cooling") == "distribution"
    watering = event(voc.AGRI_NS + "BizStep-watering")  # a farm step stays under cultivation
    assert stage_of(watering, step_key(watering)) == "cultivation"
    shipping = event(voc.BIZSTEP + "shipping")
    assert stage_of(shipping, step_key(shipping)) == "distribution"
