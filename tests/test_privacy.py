"""Privacy and selective disclosure (docs/privacy.md, docs/selective-disclosure.md): who reads a
non-public event, sharing grants and their expiry, reads of private data in the audit log, the
public page, embeds and bundle showing a private step without its content, and the verifier
checking revealed fields against the anchored commitment."""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.world import World, make_world, obj_event, receive, setup_rice, ship
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.privacy.models import EventDisclosure, SharingGrant
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.verifier import verify_bundle

pytestmark = pytest.mark.postgres

# distinctive strings that must never leave the service except to those allowed to read them
SECRETS = ("SECRETOX-999", "SUP-LOT-ZX81", "PARTNER-NOTE-QX7", "PRIVATE-NOTE-ZK9", "Hexa-QZ-ingredient")


def _world(runtime: Runtime, client: TestClient) -> tuple[World, dict[str, Any], dict[str, str]]:
    """The coop harvests L1 with a partners-only spraying (dose, product, supplier hidden), a
    partners-only inspection and a private note on it; ships it to the mill, which receives it."""
    w = make_world(runtime, client)
    rice = setup_rice(w)
    entry = {"activity": "spraying", "time": "2025-02-10T08:00:00+07:00", "product": "SECRETOX-999",
             "active_ingredient": "Hexa-QZ-ingredient", "dose": 0.37, "dose_unit": "l/ha", "phi_days": 7,
             "supplier_lot": "SUP-LOT-ZX81", "visibility": "partners"}  # fmt: skip
    r = w.post(w.coop, f"/api/v1/places/{rice['plot_id']}/diary", entry)
    assert r.status_code == 201, r.text
    ids = {"spray": r.json()["hashId"]}
    for name, vis, note in (("partners", "partners", "PARTNER-NOTE-QX7"), ("private", "private", "PRIVATE-NOTE-ZK9")):
        ev = obj_event(rice["uri"], None, "inspecting", time="2025-03-01T09:00:00+07:00",
                       **{"agri:visibility": vis, "agri:note": note})  # fmt: skip
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["hashId"]
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"], owning=True).status_code == 201
    return w, rice, ids


def _hashes(w: World, org: Any, uri: str) -> set[str]:
    r = w.get(org, "/api/v1/events", params={"lot": uri})
    assert r.status_code == 200, r.text
    return {e.get("eventID") for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}


def _audit_reads(w: World) -> list[dict[str, Any]]:
    rows = w.get(w.authority, "/api/v1/audit-log", params={"limit": 1000}).json()
    return [x for x in rows if x["method"] == "GET"]


def test_visibility_is_validated_and_hashed(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    bad = obj_event(rice["uri"], None, "inspecting", **{"agri:visibility": "secret"})
    r = w.post(w.coop, "/api/v1/events", bad)
    assert r.status_code == 422 and "agri:visibility must be one of public, partners, private" in r.text
    same = obj_event(rice["uri"], None, "inspecting")
    a = w.post(w.coop, "/api/v1/events", same).json()["hashId"]
    b = w.post(w.coop, "/api/v1/events", same | {"agri:visibility": "private"}).json()["hashId"]
    assert a != b  # the member is hashed like any extension member: the operator cannot flip it unseen
    with Session(runtime.engine) as s:
        assert len(s.exec(select(EventDisclosure)).all()) == 1  # only the non-public event commits


def test_partner_sees_partners_only_event_and_a_stranger_does_not(runtime: Runtime, app_client: TestClient) -> None:
    w, rice, ids = _world(runtime, app_client)
    coop, mill, stranger, authority = (_hashes(w, o, rice["uri"]) for o in (w.coop, w.mill, w.distributor, w.authority))
    assert {ids["partners"], ids["private"]} <= coop
    assert ids["partners"] in mill and ids["private"] not in mill  # a custody partner: partners-only yes
    assert not stranger  # nothing of the lot
    assert {ids["partners"], ids["private"]} <= authority
    # a single event: the stranger gets 404, the partner gets the partners-only one
    with Session(runtime.engine) as s:
        from traceability_api.events.models import Event

        private_id = s.exec(select(Event.id).where(Event.hash_id == ids["private"])).one()
        partners_id = s.exec(select(Event.id).where(Event.hash_id == ids["partners"])).one()
    assert w.get(w.distributor, f"/api/v1/events/{partners_id}").status_code == 404
    assert w.get(w.mill, f"/api/v1/events/{private_id}").status_code == 404
    assert w.get(w.mill, f"/api/v1/events/{partners_id}").status_code == 200
    # the diary list of the coop's plot: the coop reads its own entry
    assert "SECRETOX-999" in w.get(w.coop, f"/api/v1/places/{rice['plot_id']}/diary").text
    # the authority's and the partner's reads of the coop's non-public events are in the audit log
    reads = _audit_reads(w)
    assert {x["org_id"] for x in reads} >= {w.authority.id, w.mill.id}
    assert all(x["org_id"] != w.distributor.id for x in reads)  # a stranger read nothing private


def test_trace_and_mass_balance_show_a_partner_no_private_hand_over(runtime: Runtime, app_client: TestClient) -> None:
    """The coop's trace of its lot and its mass balance leave out the mill's private shipment of it
    (the events API does too); the authority sees it in both."""
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    assert ship(w, w.coop, w.mill, rice["uri"], qty=1000).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"], owning=True).status_code == 201
    lot_id, party = rice["lot"]["id"], w.distributor.party
    private_ship = obj_event(rice["uri"], 1000, "shipping", time="2025-03-04T08:00:00+07:00",
                             destinationList=[{"type": "possessing_party", "destination": party}],
                             **{"agri:visibility": "private"})  # fmt: skip
    r = w.post(w.mill, "/api/v1/events", private_ship)
    assert r.status_code == 201, r.text
    assert r.json()["hashId"] not in _hashes(w, w.coop, rice["uri"])

    def shipments(org: Any) -> list[Any]:
        g = w.get(org, f"/api/v1/trace/lots/{lot_id}")
        assert g.status_code == 200, g.text
        return [(h["recordedBy"], h["quantity"]) for h in g.json()["custody"] if h["step"] == "shipping"]

    def outflows(org: Any) -> dict[str, float]:
        rows = w.get(org, "/api/v1/mass-balance").json()["lots"]
        return next(x["outflows"] for x in rows if x["lotId"] == lot_id)

    assert (w.mill.id, 1000) in shipments(w.authority) and outflows(w.authority)[str(w.mill.id)] == 1000
    assert all(by != w.mill.id for by, _ in shipments(w.coop)), shipments(w.coop)
    assert outflows(w.coop) == {str(w.coop.id): 1000}
    assert (w.mill.id, 1000) in shipments(w.mill) and outflows(w.mill)[str(w.mill.id)] == 1000  # its own


def test_grant_gives_read_access_until_it_expires_and_reads_are_logged(
    runtime: Runtime, app_client: TestClient
) -> None:
    w, rice, ids = _world(runtime, app_client)
    lot_id = rice["lot"]["id"]
    expires = (utcnow() + timedelta(days=7)).isoformat()
    body = {"lot_id": lot_id, "grantee_org_id": w.distributor.id, "expires_at": expires, "note": "kiểm tra"}
    assert w.post(w.coop, "/api/v1/grants", body | {"expires_at": "2020-01-01T00:00:00Z"}).status_code == 422
    assert w.post(w.coop, "/api/v1/grants", body | {"expires_at": "2030-01-01T00:00:00"}).status_code == 422
    assert w.post(w.coop, "/api/v1/grants", body | {"grantee_org_id": w.coop.id}).status_code == 422
    assert w.post(w.distributor, "/api/v1/grants", body | {"grantee_org_id": w.mill.id}).status_code == 404
    assert w.post(w.coop, "/api/v1/grants", body, role="recorder").status_code == 403
    before = len(_audit_reads(w))
    r = w.post(w.coop, "/api/v1/grants", body)
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["live"] and [g["id"] for g in w.get(w.distributor, "/api/v1/grants").json()] == [grant["id"]]

    seen = _hashes(w, w.distributor, rice["uri"])
    assert {ids["partners"], ids["private"]} <= seen
    assert w.get(w.distributor, f"/api/v1/lots/{lot_id}").status_code == 200  # the lot itself too
    reads = _audit_reads(w)[before:]
    assert any(x["org_id"] == w.distributor.id and "/api/v1/events" in x["path"] for x in reads)

    with Session(runtime.engine) as s:  # the grant's time passes
        g = s.get(SharingGrant, grant["id"])
        assert g is not None
        g.expires_at = utcnow() - timedelta(seconds=1)
        s.add(g)
        s.commit()
    assert not _hashes(w, w.distributor, rice["uri"])
    assert w.get(w.distributor, f"/api/v1/lots/{lot_id}").status_code == 404
    assert w.get(w.distributor, "/api/v1/grants").json()[0]["live"] is False

    # a new grant, revoked by its giver (only by it), ends at once
    g2 = w.post(w.coop, "/api/v1/grants", body).json()
    assert w.client.delete(f"/api/v1/grants/{g2['id']}", headers=w.distributor.h()).status_code == 403
    assert w.client.delete(f"/api/v1/grants/{g2['id']}", headers=w.coop.h()).json()["live"] is False
    assert not _hashes(w, w.distributor, rice["uri"])


def _anchor(runtime: Runtime) -> None:
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()


@pytest.mark.chain
def test_bundle_reveals_fields_that_verify_and_a_changed_field_fails(runtime: Runtime, app_client: TestClient) -> None:
    w, rice, ids = _world(runtime, app_client)
    _anchor(runtime)
    assert runtime.chain is not None
    bundle = app_client.get(f"/api/v1/proofs/lots/{rice['gtin']}/L1").json()
    assert bundle["version"] == 3
    hidden = [e for e in bundle["events"] if "disclosure" in e]
    assert {e["hashId"] for e in hidden} == {ids["partners"], ids["private"]}  # the spraying is on the plot
    partners = next(e for e in hidden if e["hashId"] == ids["partners"])
    assert "event" not in partners and partners["recordedBy"] == "HTX Lúa gạo Thạnh Phú"
    revealed = {r["path"]: r["value"] for r in partners["disclosure"]["revealed"]}
    assert revealed["/bizStep"] == "inspecting" and "/agri:note" not in revealed
    private = next(e for e in hidden if e["hashId"] == ids["private"])
    assert {r["path"] for r in private["disclosure"]["revealed"]} <= {"/eventTime", "/eventTimeZoneOffset",
                                                                     "/agri:visibility"}  # fmt: skip

    rep = verify_bundle(bundle, runtime.chain.contract)
    assert rep.exit_code == 0, rep.lines
    assert sum("revealed fields match the commitment" in line for line in rep.lines) == 2

    def changed(edit: Any) -> list[str]:
        b = copy.deepcopy(bundle)
        edit(next(e for e in b["events"] if e["hashId"] == ids["partners"]))
        r = verify_bundle(b, runtime.chain.contract)
        assert r.exit_code == 1
        return [line for line in r.lines if line.startswith("FAIL")]

    def value(e: Any) -> None:
        next(r for r in e["disclosure"]["revealed"] if r["path"] == "/bizStep")["value"] = "shipping"

    def root(e: Any) -> None:
        e["disclosure"]["root"] = "0x" + "00" * 32

    def stolen(e: Any) -> None:  # another event's commitment for this event's hash
        other = next(x for x in bundle["events"] if x["hashId"] == ids["private"])
        e["disclosure"] = copy.deepcopy(other["disclosure"])

    assert any("does not match the anchored commitment" in line for line in changed(value))
    assert changed(root)
    assert any("digest is not that of its root and hash ID" in line for line in changed(stolen))


@pytest.mark.chain
def test_audit_checks_commitments_and_finds_a_salt_changed_behind_the_service(
    runtime: Runtime, app_client: TestClient
) -> None:
    from traceability_api.audit.service import audit

    _world(runtime, app_client)
    _anchor(runtime)
    assert runtime.chain is not None
    rep = audit(runtime.engine, runtime.chain.contract)
    assert rep.ok and rep.disclosures == 3, rep.problems  # the spraying, the two inspections
    with Session(runtime.engine) as s:  # someone swaps a salt to reveal a made-up value later
        d = s.exec(select(EventDisclosure)).first()
        assert d is not None
        d.salts = d.salts | {"/eventTime": "forged"}
        s.add(d)
        s.commit()
    rep = audit(runtime.engine, runtime.chain.contract)
    assert any("does not commit to the stored content" in p for p in rep.problems), rep.problems


@pytest.mark.chain
def test_hidden_fields_never_appear_in_public_pages_bundles_embeds_or_logs(
    runtime: Runtime, app_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    w, rice, _ = _world(runtime, app_client)
    _anchor(runtime)
    g, c = rice["gtin"], app_client
    trace = f"https://trace.example.vn/01/{g}/10/L1"
    pages = {
        "page vi": c.get(f"/01/{g}/10/L1"),
        "page en": c.get(f"/01/{g}/10/L1", params={"lang": "en"}),
        "linkset": c.get(f"/01/{g}/10/L1", headers={"Accept": "application/linkset+json"}),
        "embed": c.get(f"/embed/01/{g}/10/L1"),
        "badge": c.get(f"/badge/01/{g}/10/L1.svg"),
        "oembed": c.get("/oembed", params={"url": trace}),
        "bundle": c.get(f"/api/v1/proofs/lots/{g}/L1"),
        "status": c.get(f"/api/v1/proofs/lots/{g}/L1/status"),
        "stranger's query": w.get(w.distributor, "/api/v1/events", params={"lot": rice["uri"]}),
    }
    for name, r in pages.items():
        assert r.status_code == 200, (name, r.status_code)
        for secret in SECRETS:
            assert secret not in r.text, (name, secret)
    vi = pages["page vi"].text
    assert "Bước riêng tư" in vi and "HTX Lúa gạo Thạnh Phú" in vi  # a private step, who recorded it
    assert "cách ly 7 ngày" in vi  # the spraying's revealed PHI, not its product or dose
    assert "Private step" in pages["page en"].text
    assert pages["bundle"].json()["events"]  # the bundle is there, only without the content
    for secret in SECRETS:
        assert secret not in caplog.text, secret


def test_workspace_diary_select_and_grants_screen(runtime: Runtime, app_client: TestClient) -> None:
    from tests.conftest import auth
    from tests.workspace_helpers import csrf_of, make_org, member_client
    from traceability_api.events.models import Event

    c = app_client
    org_id, key = member_client(c, runtime, "HTX Riêng Tư", "admin-rt")
    other_id, _, _ = make_org(runtime, "Chi cục Kiểm tra")
    r = c.post("/api/v1/places", json={"kind": "plot", "name": "Ruộng A", "geo": {"type": "Point",
               "coordinates": [105.6, 10.1]}}, headers=auth(key))  # fmt: skip
    plot_id = r.json()["id"]
    page = c.get("/app/diary")
    assert 'name="visibility"' in page.text and "Đối tác trong chuỗi cung ứng" in page.text  # Vietnamese first
    form = {"csrf": csrf_of(page.text), "plot_id": str(plot_id), "activity": "irrigating",
            "time": "2025-01-15T16:30", "note": "WS-PRIVATE-NOTE", "visibility": "private"}  # fmt: skip
    assert c.post("/app/diary", data=form, follow_redirects=False).status_code == 303
    bad = c.post("/app/diary", data=form | {"visibility": "everyone"}, follow_redirects=False)
    assert bad.status_code == 422
    with Session(runtime.engine) as s:
        ev = s.exec(select(Event).where(Event.org_id == org_id)).one()
        assert ev.visibility == "private" and ev.document["agri:visibility"] == "private"
        assert s.get(EventDisclosure, ev.id) is not None

    c.post("/api/v1/products", json={"gtin": "08930000000989", "name": "Xoài", "unit": "KGM"}, headers=auth(key))
    lot = c.post("/api/v1/lots", json={"gtin": "08930000000989", "lot_code": "X1", "quantity": 10,
                                       "plot_id": plot_id}, headers=auth(key))  # fmt: skip
    assert lot.status_code == 201, lot.text
    lot = lot.json()
    page = c.get("/app/grants")
    assert page.status_code == 200 and "Chia sẻ dữ liệu" in page.text and "X1" in page.text
    assert f'<option value="{other_id}">Chi cục Kiểm tra</option>' in page.text  # partners picked by name
    until = (utcnow() + timedelta(days=3)).date().isoformat()
    form = {"csrf": csrf_of(page.text), "lot_id": str(lot["id"]), "grantee_org_id": str(other_id), "until": until}
    assert c.post("/app/grants", data=form | {"grantee_org_id": str(org_id)}, follow_redirects=False).status_code == 422
    assert c.post("/app/grants", data=form | {"until": ""}, follow_redirects=False).status_code == 422
    assert c.post("/app/grants", data=form, follow_redirects=False).status_code == 303
    (grant,) = c.get("/api/v1/grants", headers=auth(key)).json()
    assert grant["live"] and grant["grantee_org_id"] == other_id
    page = c.get("/app/grants")
    assert "Chi cục Kiểm tra" in page.text and "còn hiệu lực" in page.text  # the partner by name, not by id
    r = c.post(f"/app/grants/{grant['id']}/revoke", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/v1/grants", headers=auth(key)).json()[0]["live"] is False
    assert "đã thu hồi" in c.get("/app/grants").text  # revoked, not "ended"

    # a partners-only sale: the public bundle says the buyer is a cooperative, not which one
    page = c.get("/app/ship")
    form = {"csrf": csrf_of(page.text), "lot_id": str(lot["id"]), "partner": str(other_id), "quantity": "10",
            "visibility": "partners"}  # fmt: skip
    assert c.post("/app/ship", data=form | {"visibility": "world"}, follow_redirects=False).status_code == 422
    assert c.post("/app/ship", data=form, follow_redirects=False).status_code == 303
    bundle = c.get("/api/v1/proofs/lots/08930000000989/X1")
    (sale,) = [e for e in bundle.json()["events"] if "disclosure" in e]
    revealed = {r["path"]: r["value"] for r in sale["disclosure"]["revealed"]}
    assert revealed["/agri:buyer/kind"] == "cooperative" and revealed["/bizStep"] == "shipping"
    assert f"urn:agritrace:party:{other_id}" not in bundle.text and "Chi cục Kiểm tra" not in bundle.text
    page = c.get("/01/08930000000989/10/X1")
    assert "Bên nhận: hợp tác xã" in page.text and "Chi cục Kiểm tra" not in page.text


def test_grants_screen_says_each_refusal_next_to_its_field(runtime: Runtime, app_client: TestClient) -> None:
    """A new admin on /app/grants: a day in the past, no day, a day that does not exist, a day more
    than a year ahead, a lot or a partner that the lists do not offer (a stale page): each refusal
    is shown on the page, next to its field, in Vietnamese (none in the API's English)."""
    import re

    from tests.conftest import auth
    from tests.workspace_helpers import csrf_of, make_org, member_client

    c = app_client
    org_id, key = member_client(c, runtime, "HTX Chia Sẻ", "admin-cs")
    other_id, _, _ = make_org(runtime, "Chi cục Kiểm tra")
    assert c.post("/api/v1/products", json={"gtin": "08930000000989", "name": "Xoài", "unit": "KGM"},
                  headers=auth(key)).status_code == 201  # fmt: skip
    lot = c.post("/api/v1/lots", json={"gtin": "08930000000989", "lot_code": "X1", "quantity": 10}, headers=auth(key))
    assert lot.status_code == 201, lot.text
    page = c.get("/app/grants")
    form = {"csrf": csrf_of(page.text), "lot_id": str(lot.json()["id"]), "grantee_org_id": str(other_id)}
    far = (utcnow() + timedelta(days=800)).date().isoformat()
    cases = {  # form -> (field whose message it is, words the message holds)
        "2020-01-01": ("until", "sau hôm nay"),
        far: ("until", "một năm"),
        "": ("until", "Bắt buộc"),
        "2025-02-30": ("until", "Ngày giờ không hợp lệ"),
    }
    for until, (field, words) in cases.items():
        r = c.post("/app/grants", data=form | {"until": until})
        assert r.status_code == 422, (until, r.status_code)
        shown = re.search(rf'<p class="err" id="{field}-err">([^<]*)</p>', r.text)
        assert shown and words in shown.group(1), (until, re.findall(r'<p class="err"[^>]*>[^<]*</p>', r.text))
    ok = (utcnow() + timedelta(days=3)).date().isoformat()
    for changed, field, words in ((("lot_id", "999999"), "lot_id", "Lô này"),
                                  (("grantee_org_id", str(org_id)), "grantee_org_id", "đơn vị khác")):  # fmt: skip
        r = c.post("/app/grants", data=form | {"until": ok, changed[0]: changed[1]})
        assert r.status_code in (404, 422), r.status_code
        shown = re.search(rf'<p class="err" id="{field}-err">([^<]*)</p>', r.text)
        assert shown and words in shown.group(1), (changed, re.findall(r'<p class="err"[^>]*>[^<]*</p>', r.text))
        assert "organisation" not in shown.group(1) and "not one of your" not in shown.group(1)


def test_grants_screen_explains_itself_and_names_lots_by_product_and_code(
    runtime: Runtime, app_client: TestClient
) -> None:
    """A new admin opens /app/grants: a sentence says what sharing does, an empty list says so, a
    given grant names its lot as the lot list does (product · lot code, not a database id) and its
    last day in the service's time zone; the grantee's screen names the lot the same way."""
    import re

    from tests.conftest import auth
    from tests.workspace_helpers import accept, make_org, member_client

    c = app_client
    _, key = member_client(c, runtime, "HTX Giải Thích", "admin-gt")
    other_id, _, other_token = make_org(runtime, "Công ty Đối Tác")
    assert c.post("/api/v1/products", json={"gtin": "08930000000989", "name": "Xoài cát", "unit": "KGM"},
                  headers=auth(key)).status_code == 201  # fmt: skip
    lot = c.post("/api/v1/lots", json={"gtin": "08930000000989", "lot_code": "XC-77", "quantity": 10},
                 headers=auth(key)).json()  # fmt: skip
    page = c.get("/app/grants").text
    assert "không công khai" in page and 'id="no-grants"' in page  # what a grant does; none yet
    # 1 January 03:00 in Vietnam is still 31 December in UTC: the page says the Vietnamese day
    year = utcnow().year + 1 if utcnow().month > 6 else utcnow().year
    expires = f"{year}-01-01T03:00:00+07:00" if utcnow().month > 6 else f"{year}-12-01T03:00:00+07:00"
    r = c.post("/api/v1/grants", headers=auth(key), json={"lot_id": lot["id"], "grantee_org_id": other_id,
                                                          "expires_at": expires})  # fmt: skip
    assert r.status_code == 201, r.text
    page = c.get("/app/grants").text
    item = re.search(r'<li data-grant="\d+">(.*?)</li>', page, re.S)
    assert item and "Xoài cát · XC-77" in item.group(1) and f"{expires[:10]}" in item.group(1), page
    assert f"Lô hàng {lot['id']} " not in page and 'id="no-grants"' not in page
    # a lot is shared with a partner once at a time: the first grant is revoked before the next
    assert c.delete(f"/api/v1/grants/{r.json()['id']}", headers=auth(key)).status_code == 200
    midnight = f"{year}-02-01T00:00:00+07:00" if utcnow().month > 6 else f"{year}-12-02T00:00:00+07:00"
    r = c.post("/api/v1/grants", headers=auth(key), json={"lot_id": lot["id"], "grantee_org_id": other_id,
                                                          "expires_at": midnight})  # fmt: skip
    assert r.status_code == 201, r.text  # ends as 1 Feb begins: its last day is 31 January
    last = re.search(rf'<li data-grant="{r.json()["id"]}">(.*?)</li>', c.get("/app/grants").text, re.S)
    day_before = (datetime.fromisoformat(midnight) - timedelta(days=1)).date().isoformat()
    assert last and day_before in last.group(1) and midnight[:10] not in last.group(1), last
    c.cookies.clear()
    accept(c, other_token, "doitac")
    held = re.search(r'<li data-grant="\d+">(.*?)</li>', c.get("/app/grants").text, re.S)
    assert held and "Xoài cát · XC-77" in held.group(1) and "do HTX Giải Thích chia sẻ" in held.group(1)


def test_two_visibilities_that_disagree_are_refused(runtime: Runtime, app_client: TestClient) -> None:
    """``agri:visibility`` and its full IRI name the same member once expanded: an event giving both
    with different values is 'private' for the service (it reads the first) and both for any JSON-LD
    reader of the anchored event. It is refused; the same value twice is one visibility."""
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    iri = "https://ns.agritrace.vn/voc/visibility"
    both = obj_event(rice["uri"], None, "inspecting", **{"agri:visibility": "private", iri: "public"})
    r = w.post(w.coop, "/api/v1/events", both)
    assert r.status_code == 422 and "agri:visibility" in r.text, r.text
    swapped = obj_event(rice["uri"], None, "inspecting", **{"agri:visibility": "public", iri: "private"})
    assert w.post(w.coop, "/api/v1/events", swapped).status_code == 422
    same = obj_event(rice["uri"], None, "inspecting", **{"agri:visibility": "partners", iri: "partners"})
    assert w.post(w.coop, "/api/v1/events", same).status_code == 201
