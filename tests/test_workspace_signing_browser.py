"""Signing in the browser (headless Chromium, real anvil): a member makes a key on the phone (kept
encrypted in IndexedDB), the authority registers its address on chain through the API, the member
records a diary entry, a harvest and a shipment signed on the phone; each stored event's
signature verifies, names that address and the registry on chain knows it for the cooperative;
the lot's proof bundle verifies against the chain alone (signatures required).
A wrong passphrase unlocks nothing and stores nothing; a device key that is not registered is said
so before anything is sent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlmodel import Session, select

from chain.registry import KeyRegistry
from tests.conftest import auth
from tests.test_workspace_browser import join, phone
from tests.workspace_helpers import make_org
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.consensus.event_hash import HASH_RULE, hash_id_of_event
from traceability_api.consensus.signatures import Envelope, verify_envelope
from traceability_api.events.models import Event
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime
from traceability_api.verifier import verify_bundle

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow, pytest.mark.chain]
PASSPHRASE = "lúa-thơm-ST25-đêm"
VECTORS = json.loads(
    (
        Path(__file__).parent.parent / "traceability_api/consensus/vectors/signatures/eip712-event-vectors.json"
    ).read_text()
)["vectors"]
GTIN = "08931234560041"


def events_of(runtime: Runtime, org_id: int) -> list[Event]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(Event).where(Event.org_id == org_id).order_by(Event.id)))  # type: ignore[arg-type]


def make_plot(served: str, key: str) -> int:
    r = httpx.post(served + "/api/v1/places", json={"kind": "plot", "name": "Thửa ruộng 7"}, headers=auth(key))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def make_device_key(page: Page, served: str) -> str:
    page.goto(served + "/app/keys")
    expect(page.locator("#key-pass")).to_be_visible()
    page.fill("#key-pass", "ngắn")
    page.fill("#key-pass2", "ngắn")
    page.click("[data-sign-create]")
    expect(page.locator("#key-status")).to_have_text(re.compile("ít nhất 8 ký tự"))
    page.fill("#key-pass", PASSPHRASE)
    page.fill("#key-pass2", PASSPHRASE)
    page.click("[data-sign-create]")
    expect(page.locator("#device-address")).to_have_text(re.compile(r"^0x[0-9a-fA-F]{40}$"))
    expect(page.locator("#key-status")).to_have_text(re.compile("Chưa được đăng ký"))
    address = page.inner_text("#device-address")
    stored = page.evaluate("() => idbKeyval.values(idbKeyval.createStore('agritrace-signing', 'keys'))")
    assert len(stored) == 1 and stored[0]["address"] == address
    assert stored[0]["kdf"] == "PBKDF2-SHA256" and stored[0]["iterations"] >= 600_000
    assert "priv" not in str(stored[0]) and len(stored[0]["ct"]) > 40  # 32-byte key + 16-byte GCM tag, encrypted
    return address


def fill_diary(page: Page, served: str, plot_id: int, note: str) -> None:
    page.goto(served + "/app/diary")
    page.select_option("#plot_id", str(plot_id))
    page.select_option("#activity", "irrigating")
    page.fill("#area_ha", "1.5")
    page.fill("#note", note)
    expect(page.locator("[data-sign]")).to_be_visible()  # this device holds a key: the passphrase is asked


def save(page: Page) -> None:
    page.click("main form[action='/app/diary'] button[type=submit]")


def test_diary_entry_signed_in_the_browser(runtime: Runtime, served: str, browser: Browser) -> None:
    assert runtime.chain is not None and runtime.signature_gate is not None
    coop_id, coop_key, link = make_org(runtime, "HTX Lúa Ký Số")
    _, authority_key, _ = make_org(runtime, "Chi cục QLCL Đồng Tháp", OrgKind.authority)
    plot_id = make_plot(served, coop_key)
    page = phone(browser)
    join(page, served, f"/app/invite/{link}", "ky.so")
    address = make_device_key(page, served)

    # not registered yet: the phone is told before anything is stored
    fill_diary(page, served, plot_id, "trước khi đăng ký")
    page.fill("#sign-pass", PASSPHRASE)
    save(page)
    expect(page.locator("[data-sign-status]")).to_have_text(re.compile("chưa được đăng ký cho tổ chức"))
    assert events_of(runtime, coop_id) == []

    # the authority registers the device's address (on chain, then the service's mirror)
    r = httpx.post(f"{served}/api/v1/signing/organisations/{coop_id}/keys", json={"address": address},
                   headers=auth(authority_key))  # fmt: skip
    assert r.status_code == 201, r.text
    page.goto(served + "/app/keys")
    expect(page.locator("#key-status")).to_have_text(re.compile("đã được đăng ký cho tổ chức"))

    # a wrong passphrase unlocks nothing and sends nothing
    fill_diary(page, served, plot_id, "bón thúc đẻ nhánh")
    page.fill("#sign-pass", "không-phải-mật-khẩu")
    save(page)
    expect(page.locator("[data-sign-status]")).to_have_text("Sai mật khẩu khóa.")
    assert events_of(runtime, coop_id) == []

    # the phone signs only the digest it computes itself, in the domain it pinned with the key
    for change, said in (
        ({"digest": "0x" + "ab" * 32}, "không khớp"),
        ({"org": "urn:agritrace:party:999"}, "khác với"),
    ):
        page.route("**/app/diary/prepare", tampered(change))
        page.fill("#sign-pass", PASSPHRASE)
        save(page)
        expect(page.locator("[data-sign-status]")).to_contain_text(said)
        page.unroute("**/app/diary/prepare")
        assert events_of(runtime, coop_id) == []

    page.fill("#sign-pass", PASSPHRASE)
    save(page)
    page.wait_for_url(re.compile(r"/app\?done=saved$"))
    (event,) = events_of(runtime, coop_id)
    check_signed(runtime, event, address)
    assert event.document["agri:diary"]["note"] == "bón thúc đẻ nhánh"

    # harvest and shipping, whose times the server chooses, are signed the same way
    r = httpx.post(served + "/api/v1/products", json={"gtin": GTIN, "name": "Lúa ST25"}, headers=auth(coop_key))
    assert r.status_code == 201, r.text
    page.goto(served + "/app/harvest")
    page.fill("#lot_code", "KS-1")
    page.fill("#quantity", "1200")
    page.fill("#sign-pass", PASSPHRASE)
    page.click("main form[action='/app/harvest'] button[type=submit]")
    page.wait_for_url(re.compile(r"/app/lots/\d+/label$"))
    page.click("nav a[href='/app/ship']")  # an htmx-boosted visit: sign.js sets the new form up too
    page.wait_for_selector("main form[action='/app/ship']")
    pick_partner(page, "Chi cục")
    page.fill("#quantity", "1200")  # the whole lot (a part is split off first: test_split_browser)
    expect(page.locator("[data-sign]")).to_be_visible()
    page.fill("#sign-pass", PASSPHRASE)
    page.click("main form[action='/app/ship'] button[type=submit]")
    page.wait_for_url(re.compile(r"/app\?done=shipped$"))
    _, harvest, ship = events_of(runtime, coop_id)
    assert harvest.document["bizStep"] == "commissioning" and ship.document["bizStep"] == "shipping"
    for ev in (harvest, ship):
        check_signed(runtime, ev, address)
    # anchored, the lot's proof bundle verifies against the chain alone, naming the phone's key
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    bundle = httpx.get(f"{served}/api/v1/proofs/lots/{GTIN}/KS-1").json()
    report = verify_bundle(bundle, runtime.chain.contract, require_signatures=True)
    assert report.exit_code == 0 and report.failed == 0, report.lines
    assert sum(f"signed by {address}" in line for line in report.lines) == 2, report.lines

    # the member removes the key from the phone (after asking): the forms no longer ask to sign
    page.goto(served + "/app/keys")
    page.once("dialog", lambda d: d.accept())
    page.click("[data-sign-forget]")
    expect(page.locator("#device-address")).to_have_text("Máy này chưa có khóa.")
    page.goto(served + "/app/diary")
    page.wait_for_load_state("networkidle")
    expect(page.locator("[data-sign]")).to_be_hidden()


def tampered(change: dict[str, str]) -> Callable[[Route], None]:
    """A server that asks the phone to sign something else than the record's event."""

    def handle(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json=answer.json() | change)

    return handle


def pick_partner(page: Page, text: str) -> None:
    value = page.eval_on_selector(
        "#partner", "(s, t) => [...s.options].find(o => o.textContent.includes(t)).value", text
    )
    page.select_option("#partner", value)


def check_signed(runtime: Runtime, event: Event, address: str) -> None:
    assert runtime.chain is not None
    env: dict[str, Any] = event.signature or {}
    assert env["signer"] == address and env["custodial"] is False, env
    assert hash_id_of_event(event.document, HASH_RULE) == event.hash_id  # the stored content is what was signed
    verify_envelope(Envelope(**env), event.hash_id, runtime.chain.chain_id, runtime.chain.contract.address)
    window = KeyRegistry(runtime.chain.contract).window(env["org"], address)
    assert window is not None and not window.custodial, "the chain knows the key as the cooperative's own"


def test_the_phone_signs_the_consensus_vectors(runtime: Runtime, served: str, browser: Browser) -> None:
    """sign.js with the vendored @noble/curves computes the EIP-712 digest, the address and the
    signature (RFC 6979, low s) of consensus/vectors/signatures byte for byte, as eth-account does."""
    _, _, link = make_org(runtime, "HTX Vectơ")
    page = phone(browser)
    join(page, served, f"/app/invite/{link}", "vecto")
    page.goto(served + "/app/keys")
    page.add_script_tag(url=served + str(page.get_attribute("[data-sign-keys]", "data-js")))
    got = page.evaluate(
        """cases => cases.map(c => {
            const n = window.nobleSign, s = window.agritraceSigning, priv = s.unhex(c.privateKey);
            const digest = s.digestOf(n, {chainId: c.chainId, contract: c.contract, org: c.org}, c.hashId);
            return {digest: "0x" + s.hex(digest), address: s.addressOf(n, priv), sig: s.sign(n, priv, digest)};
        })""",
        VECTORS,
    )
    assert got == [{k: c[k] for k in ("digest", "address", "sig")} for c in VECTORS]
