"""The console's signing-keys list comes a page at a time (``KEYS_PER_PAGE`` keys, by organisation
name then key), with the console's pager (page n / N, previous and next) shared with the lot search;
a page number past the end or below 1 is clamped, one that is not a number gets the 422 page; after a
change, and on a refusal about a key, the page shown is the one holding that key."""

from __future__ import annotations

import re

from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.workspace_helpers import csrf_of, make_org, member_client
from traceability_api.console.routes.keys import KEYS_PER_PAGE
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime
from traceability_api.signing.models import SigningKey

PAGE = "/app/console/keys"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def addresses(html: str) -> list[str]:
    return re.findall(r'<li id="(0x[0-9a-fA-F]{40})"', html)


def pager(html: str) -> str:
    m = re.search(r'<nav aria-label="Trang" class="pager">(.*?)</nav>', html, re.S)
    assert m, html[html.find("<main") :][:3000]
    return m.group(1)


def seed(runtime: Runtime, c: TestClient) -> tuple[dict[str, int], list[str]]:
    """Three organisations whose keys (mirror rows: the list reads the mirror) fill a page and some:
    (org ids by name, every address in the list's order)."""
    orgs = {name: make_org(runtime, name)[0] for name in ("HTX An Bình", "HTX Bến Tre", "HTX Cà Mau")}
    counts = {"HTX An Bình": 3, "HTX Bến Tre": KEYS_PER_PAGE - 1, "HTX Cà Mau": 7}  # Bến Tre spans two pages
    order = []
    with Session(runtime.engine) as s:
        for name, n in counts.items():
            for _ in range(n):
                key = SigningKey(org_id=orgs[name], address=Account.create().address, valid_from=0,
                                 valid_until=2**62)  # fmt: skip
                s.add(key)
                s.flush()
                order.append(key.address)
        s.commit()
    member_client(c, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    return orgs, order


def test_the_keys_list_comes_a_page_at_a_time(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    orgs, order = seed(runtime, c)
    first = c.get(PAGE)
    assert first.status_code == 200
    assert addresses(first.text) == order[:KEYS_PER_PAGE]
    nav = pager(first.text)
    assert "Trang 1 / 2" in nav and 'rel="prev"' not in nav and 'href="?page=2"' in nav
    second = c.get(PAGE, params={"page": 2})
    assert addresses(second.text) == order[KEYS_PER_PAGE:]  # every key once, in order
    nav = pager(second.text)
    assert "Trang 2 / 2" in nav and 'href="?page=1"' in nav and 'rel="next"' not in nav
    for page in (first.text, second.text):  # the organisation spanning both pages is named on each
        assert f'<li data-org-id="{orgs["HTX Bến Tre"]}"><strong>HTX Bến Tre</strong>' in page
    assert f'<li data-org-id="{orgs["HTX Cà Mau"]}">' not in first.text  # all on page 2
    # out of range: clamped to the pages there are, as the lot search does
    assert addresses(c.get(PAGE, params={"page": 99}).text) == order[KEYS_PER_PAGE:]
    assert addresses(c.get(PAGE, params={"page": 10**30}).text) == order[KEYS_PER_PAGE:]
    for low in (0, -3):
        assert addresses(c.get(PAGE, params={"page": low}).text) == order[:KEYS_PER_PAGE]
    # not a number: the 422 page in the person's language
    r = c.get(PAGE, params={"page": "abc"}, headers=HTML)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "không hợp lệ" in r.text
    # English pager words by the switch
    c.cookies.set("agt_lang", "en")
    assert "Page 2 / 2" in c.get(PAGE, params={"page": 2}).text
    c.cookies.set("agt_lang", "vi")


def test_one_page_has_no_pager(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    member_client(c, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    page = c.get(PAGE).text
    assert 'class="pager"' not in page and addresses(page) == []


def test_after_a_change_or_a_refusal_the_page_holding_the_key_is_shown(
    app_client: TestClient, runtime: Runtime
) -> None:
    c = app_client
    orgs, order = seed(runtime, c)
    last = order[-1]  # HTX Cà Mau's, on page 2
    # a revoke without its confirmation: the refusal next to the key, on the key's page
    r = c.post(f"{PAGE}/{orgs['HTX Cà Mau']}/{last}/revoke", data={"csrf": csrf_of(c.get(PAGE).text)})
    assert r.status_code == 422 and last in addresses(r.text)
    assert f'<p class="err" id="err-confirm-{last}">' in r.text and "Trang 2 / 2" in pager(r.text)
    # a new key of HTX Cà Mau, registered on the chain through the form: back to page 2, where it is
    device = Account.create().address
    r = c.post(PAGE, data={"csrf": csrf_of(c.get(PAGE).text), "org_id": str(orgs["HTX Cà Mau"]), "address": device},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{PAGE}?page=2&done={device}#{device}"
    html = c.get(r.headers["location"]).text
    assert f"Đã lưu: {device}" in html and addresses(html)[-1] == device
    # one of HTX An Bình's, on page 1: no page number in the address
    first = Account.create().address
    r = c.post(PAGE, data={"csrf": csrf_of(c.get(PAGE).text), "org_id": str(orgs["HTX An Bình"]), "address": first},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done={first}#{first}"
    assert first in addresses(c.get(r.headers["location"]).text)


def test_the_lot_search_pages_with_the_same_pager(app_client: TestClient, runtime: Runtime) -> None:
    """The lot search's pager is the shared one: its words and links keep the search."""
    from tests.conftest import auth
    from traceability_api.console.lot_search import PAGE_SIZE

    c = app_client
    _, key = member_client(c, runtime, "HTX Nhiều Lô", "htx-admin")
    r = c.post("/api/v1/products", json={"gtin": "08930000000989", "name": "Xoài", "unit": "KGM"}, headers=auth(key))
    assert r.status_code == 201, r.text
    for i in range(PAGE_SIZE + 2):
        body = {"gtin": "08930000000989", "lot_code": f"XL-{i:03}", "quantity": 1}
        assert c.post("/api/v1/lots", json=body, headers=auth(key)).status_code == 201
    c.cookies.clear()
    member_client(c, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    lots = re.compile(r'<tr data-lot-id="\d+"><td><a [^>]*>(XL-\d+)</a>')
    first = c.get("/app/console/lots", params={"by": "code", "q": "xl-"}).text
    nav = pager(first)
    assert "Trang 1 / 2" in nav and 'href="?by=code&amp;q=xl-&amp;page=2"' in nav and 'rel="prev"' not in nav
    second = c.get("/app/console/lots", params={"by": "code", "q": "xl-", "page": 2}).text
    assert len(lots.findall(first)) == PAGE_SIZE and len(lots.findall(second)) == 2
    assert set(lots.findall(first)).isdisjoint(lots.findall(second))
    assert 'href="?by=code&amp;q=xl-&amp;page=1"' in pager(second)
    assert lots.findall(c.get("/app/console/lots", params={"by": "code", "q": "xl-", "page": 7}).text) == lots.findall(
        second
    )
    one = c.get("/app/console/lots", params={"by": "code", "q": "XL-001"}).text  # one page: no pager
    assert lots.findall(one) == ["XL-001"] and 'class="pager"' not in one
