"""The open-data catalogue URL for people: ``/opendata`` answers a browser (``Accept: text/html``)
with a small readable page (Vietnamese first, English by the consumer site's ``?lang=en`` switch)
listing the datasets, their download links and how to check a download; every other client
(JSON-LD, JSON, ``*/*``, no Accept) keeps getting the DCAT-AP JSON-LD, and both answers say
``Vary: Accept``.  In headless Chromium at 360 px: ``lang`` set, nothing wider than the screen,
every link of the page answers."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser

from tests import test_opendata
from tests.conftest import ARTIFACTS
from tests.test_opendata import BASE, SECRETS, _rebuild, seed
from traceability_api.opendata.page import wants_html
from traceability_api.runtime import Runtime

CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CURL = "*/*"
od = test_opendata.od  # the open-data tests' service (chain off, no rate limits, no schedule)


def _send(client: TestClient, path: str, accept: str | None) -> httpx.Response:
    """GET with exactly this Accept header, or none at all (the test client adds ``*/*`` otherwise)."""
    headers = {k: v for k, v in client.headers.items() if k.lower() != "accept"}
    if accept is not None:
        headers["accept"] = accept
    request = client.build_request("GET", path)
    request.headers.clear()
    request.headers.update(headers)
    return client.send(request)


def _vary(r: httpx.Response) -> set[str]:
    return {v.strip().lower() for v in r.headers.get("vary", "").split(",")}


def test_machines_keep_getting_json_ld_and_browsers_get_a_page(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    _rebuild(client, keys)
    expected = client.get("/opendata/catalog.jsonld").json()
    for accept in (None, CURL, "application/ld+json", "application/json", "application/ld+json, text/html;q=0.5",
                   "text/html;q=0, */*", "text/html, application/ld+json", "image/png"):  # fmt: skip
        r = _send(client, "/opendata", accept)
        assert r.status_code == 200, (accept, r.status_code)
        assert r.headers["content-type"] == "application/ld+json", (accept, r.headers["content-type"])
        assert r.json() == expected, accept
        assert "accept" in _vary(r), (accept, r.headers.get("vary"))
        assert r.headers["cache-control"] == "public, max-age=300"
    for accept in (CHROME, FIREFOX, SAFARI, "text/html", "text/*", "application/ld+json;q=0.5, text/html"):
        r = _send(client, "/opendata", accept)
        assert r.status_code == 200, (accept, r.status_code)
        assert r.headers["content-type"] == "text/html; charset=utf-8", (accept, r.headers["content-type"])
        assert "accept" in _vary(r), (accept, r.headers.get("vary"))
    # the file's own address still answers JSON-LD, whatever the Accept: it names its format
    r = _send(client, "/opendata/catalog.jsonld", CHROME)
    assert r.headers["content-type"] == "application/ld+json" and r.json() == expected


def test_the_page_lists_every_dataset_with_its_downloads_and_how_to_check_them(od: tuple[Runtime, TestClient]) -> None:
    rt, client = od
    keys = seed(rt, client)
    _rebuild(client, keys)
    catalogue = client.get("/opendata/catalog.jsonld").json()
    page = _send(client, "/opendata", CHROME).text
    assert re.search(r'<html lang="vi">', page)
    assert "Dữ liệu mở" in page and "Tải về" in page  # Vietnamese first
    for ds in catalogue["dcat:dataset"]:
        assert ds["dct:title"][0]["@value"] in page, ds["dct:identifier"]  # its Vietnamese title
        assert ds["dcat:distribution"], ds["dct:identifier"]
        for dist in ds["dcat:distribution"]:
            for url in (dist["dcat:downloadURL"]["@id"], dist["dcat:accessURL"]["@id"],
                        dist["agri:merkleProof"]["@id"]):  # fmt: skip
                assert f'href="{url.removeprefix(BASE)}"' in page, url  # addresses of this host, any host
            assert dist["spdx:checksum"]["spdx:checksumValue"]["@value"] in page
    assert 'href="/opendata/catalog.jsonld"' in page  # the machine-readable catalogue
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in page and "CC BY 4.0" in page
    assert "sha256sum" in page and "anchorOf" in page  # how to check a download
    for secret in SECRETS:
        assert secret not in page, secret
    # every link of this service on the page answers
    links = set(re.findall(r'href="(/[^"]*)"', page))
    assert len(links) >= 4 * 2 * 3 + 2
    for href in links:
        got = _send(client, href.replace("&amp;", "&"), CHROME)
        assert got.status_code == 200, href
    # English by the switch the consumer pages have, or by the browser's language
    en = client.get("/opendata?lang=en", headers={"Accept": CHROME}).text
    assert '<html lang="en">' in en and "Open data" in en and "Products" in en and "Dữ liệu mở" not in en
    assert 'href="/opendata?lang=vi"' in en
    by_browser = client.get("/opendata", headers={"Accept": CHROME, "Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in by_browser.text and "accept-language" in _vary(by_browser)


def test_the_page_says_when_nothing_is_built_yet(od: tuple[Runtime, TestClient]) -> None:
    _, client = od
    r = _send(client, "/opendata", CHROME)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text.count('class="od-none"') == 4  # each dataset: no file yet
    assert len(_send(client, "/opendata", None).json()["dcat:dataset"]) == 4  # the JSON-LD as before


@pytest.mark.sqlite_only
def test_the_page_in_chromium_at_360_px(runtime: Runtime, app_client: TestClient, served: str,
                                        browser: Browser) -> None:  # fmt: skip
    keys = seed(runtime, app_client)
    _rebuild(app_client, keys)
    ctx = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    response = page.goto(served + "/opendata")
    assert response is not None and response.headers["content-type"].startswith("text/html")

    def fits() -> None:
        width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], width  # no horizontal scrolling
        wide = page.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >"
            " document.documentElement.clientWidth + 0.5).map(e => e.tagName + '.' + e.className)"
        )
        assert not wide, wide

    assert page.evaluate("() => document.documentElement.lang") == "vi"
    fits()
    page.screenshot(path=str(ARTIFACTS / "opendata-page-vi-360.png"), full_page=True)
    hrefs = page.eval_on_selector_all("a[href]", "(as) => as.map(a => a.href)")
    own = [h for h in hrefs if h.startswith(served)]
    assert len(own) >= 4 * 2 * 3 + 2, hrefs
    for href in own:
        assert page.request.get(href).status == 200, href
    # a download link of the page gives the file the catalogue lists (its SHA-256 shown beside it)
    link = page.locator('a[href="/opendata/products.csv"]').first
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename == "products.csv"
    # the language switch
    page.locator('header a[hreflang="en"]').click()
    page.wait_for_load_state()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert "Open data" in page.locator("h1").inner_text()
    fits()
    page.screenshot(path=str(ARTIFACTS / "opendata-page-en-360.png"), full_page=True)
    ctx.close()


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None, database=None)
def test_any_accept_header_gets_an_answer(accept: str) -> None:
    """Whatever a client sends as Accept (q=nan, q=inf, no subtype, stray ;), the choice is made."""
    assert wants_html(accept) in (True, False)
    assert wants_html(accept + ", text/html") in (True, False)


def test_negotiation_follows_the_weights() -> None:
    assert wants_html("text/html;q=0.9, application/ld+json;q=0.8")
    assert not wants_html("text/html;q=0.8, application/json;q=0.9")
    assert not wants_html("text/html;q=nan") and not wants_html("text/html;q=abc")
    assert wants_html("TEXT/HTML") and wants_html("text/html;level=1;q=0.5, */*;q=0.1")
    assert not wants_html("text/*;q=0.5, application/*") and wants_html("text/html, application/*;q=0.5")
