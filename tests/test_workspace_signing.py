"""The server's side of signing in the browser (``workspace/signing.py``), without a browser: the
digest ``prepare`` answers is the EIP-712 digest of exactly the event the form's own POST captures;
refusals (key not registered, malformed or foreign signature, stale time); CSRF; and a custodial
organisation's forms still work with no JavaScript (signed at capture)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from chain.signing import sign_digest
from tests.conftest import auth
from tests.test_workspace_screens import option, post
from tests.workspace_helpers import csrf_of, make_org, member_client
from traceability_api.consensus.signatures import signing_digest
from traceability_api.events.models import Event
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

pytestmark = [pytest.mark.chain, pytest.mark.postgres]


def register(c: TestClient, authority: str, org_id: int, address: str = "", custodial: bool = False) -> Any:
    url = f"/api/v1/signing/organisations/{org_id}/" + ("custodial" if custodial else "keys")
    r = c.post(url, json=None if custodial else {"address": address}, headers=auth(authority))
    assert r.status_code == 201, r.text
    return r.json()


def diary_form(c: TestClient) -> dict[str, str]:
    html = c.get("/app/diary").text
    now = re.search(r'name="time" type="datetime-local" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"plot_id": option(html, "Ruộng 3"), "activity": "irrigating", "time": now, "note": "tưới ngập"}


def prepare(c: TestClient, path: str, data: dict[str, str], signer: str) -> Any:
    return post(c, path, data | {"signer": signer}, page=path.removesuffix("/prepare"))


def stored(runtime: Runtime, org_id: int) -> list[Event]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(Event).where(Event.org_id == org_id).order_by(Event.id)))  # type: ignore[arg-type]


def test_prepare_answers_the_digest_of_the_event_the_form_stores(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    assert runtime.signature_gate is not None
    org_id, key = member_client(c, runtime, "HTX Ký Máy Chủ", "ky.admin")
    _, authority, _ = make_org(runtime, "Sở NN&PTNT", OrgKind.authority)
    post(c, "/app/places", {"kind": "plot", "name": "Ruộng 3"})
    device: LocalAccount = Account.create()
    data = diary_form(c)

    r = prepare(c, "/app/diary/prepare", data, device.address)  # not registered yet
    assert r.status_code == 409 and r.json()["error"] == "not-registered", r.text  # type: ignore[attr-defined]
    assert "chưa được đăng ký" in r.json()["message"]  # type: ignore[attr-defined]
    register(c, authority, org_id, device.address)
    r = prepare(c, "/app/diary/prepare", data, device.address)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    answer = r.json()  # type: ignore[attr-defined]
    ref = answer["org"]
    assert answer["digest"] == "0x" + signing_digest(runtime.signature_gate.domain(ref), answer["hashId"]).hex()
    assert stored(runtime, org_id) == [], "prepare stores nothing"
    bad = prepare(c, "/app/diary/prepare", data | {"time": "ngày mai"}, device.address)
    assert bad.status_code == 422 and bad.json()["fields"] == ["time"]  # type: ignore[attr-defined]
    no_csrf = c.post("/app/diary/prepare", data={**data, "signer": device.address})
    assert no_csrf.status_code == 403

    stranger: LocalAccount = Account.create()
    forged = sign_digest(stranger, bytes.fromhex(answer["digest"][2:]))
    r = post(c, "/app/diary", data | {"sig": forged, "signer": device.address})
    assert r.status_code == 422 and "does not verify" in r.text, r.text  # type: ignore[attr-defined]
    r = post(c, "/app/diary", data | {"sig": "0x12", "signer": device.address})
    assert r.status_code == 422 and "malformed" in r.text  # type: ignore[attr-defined]
    assert stored(runtime, org_id) == []

    sig = sign_digest(device, bytes.fromhex(answer["digest"][2:]))
    r = post(c, "/app/diary", data | {"sig": sig, "signer": device.address})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    (event,) = stored(runtime, org_id)
    assert event.hash_id == answer["hashId"]
    assert event.signature == {"signer": device.address, "sig": sig, "org": ref, "custodial": False}
    assert key  # the organisation's API key is untouched by the workspace's signing


def test_shipping_time_comes_back_with_its_signature(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    org_id, key = member_client(c, runtime, "HTX Giao Ký", "giao.admin")
    partner_id, _, _ = make_org(runtime, "Nhà máy xay Ký")
    _, authority, _ = make_org(runtime, "Chi cục Ký", OrgKind.authority)
    device: LocalAccount = Account.create()
    register(c, authority, org_id, device.address)
    assert (
        c.post("/api/v1/products", json={"gtin": "08931234560058", "name": "Lúa"}, headers=auth(key)).status_code == 201
    )
    assert post(c, "/app/harvest", {"gtin": "08931234560058", "lot_code": "G-1", "quantity": "500"}).status_code == 303  # type: ignore[attr-defined]
    html = c.get("/app/ship").text
    data = {"lot_id": option(html, "G-1"), "partner": str(partner_id), "quantity": "100", "visibility": "partners"}
    answer = prepare(c, "/app/ship/prepare", data, device.address).json()  # type: ignore[attr-defined]
    sig = sign_digest(device, bytes.fromhex(answer["digest"][2:]))
    stale = (utcnow() - timedelta(hours=1)).isoformat()
    r = post(c, "/app/ship", data | {"sig": sig, "signer": device.address, "signed_time": stale})
    assert r.status_code == 422 and "does not verify" in r.text  # type: ignore[attr-defined]
    r = post(c, "/app/ship", data | {"sig": sig, "signer": device.address, "signed_time": answer["eventTime"]})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    ship = stored(runtime, org_id)[-1]
    assert ship.document["bizStep"] == "shipping" and ship.document["eventTime"] == answer["eventTime"]
    assert ship.signature is not None and ship.signature["signer"] == device.address
    assert ship.hash_id == answer["hashId"] and ship.document["agri:visibility"] == "partners"
    # 100 kg of the 500 kg lot: split off into G-1-1 first (unsigned here: no custodial key), which ships
    split = stored(runtime, org_id)[-2]
    assert (split.document["type"], split.document["bizStep"], split.signature) == (
        "TransformationEvent",
        "picking",
        None,
    )
    assert ship.document["quantityList"][0]["epcClass"].endswith("/10/G-1-1")
    earlier = (utcnow() - timedelta(minutes=5)).isoformat()  # an unsigned form cannot date itself
    harvest = {"gtin": "08931234560058", "lot_code": "G-2", "quantity": "5", "signed_time": earlier}
    assert post(c, "/app/harvest", harvest).status_code == 303  # type: ignore[attr-defined]
    assert stored(runtime, org_id)[-1].document["eventTime"] != earlier


def test_custodial_organisation_needs_no_javascript(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    org_id, _ = member_client(c, runtime, "HTX Ký Thay", "thay.admin")
    _, authority, _ = make_org(runtime, "Chi cục Thay", OrgKind.authority)
    runtime.settings.signing_key_password = SecretStr("mật khẩu khóa ký thay")  # an external chain needs one
    custodial = register(c, authority, org_id, custodial=True)
    post(c, "/app/places", {"kind": "plot", "name": "Ruộng 3"})
    page = c.get("/app/diary").text
    assert 'data-sign data-prepare="/app/diary/prepare" hidden' in page  # shown by sign.js for a device key only
    assert post(c, "/app/diary", diary_form(c)).status_code == 303  # type: ignore[attr-defined]
    (event,) = stored(runtime, org_id)
    assert event.signature is not None and event.signature["custodial"] is True
    assert event.signature["signer"] == custodial["address"]
    assert csrf_of(c.get("/app/keys").text)  # the keys page lists the custodial key
    assert custodial["address"] in c.get("/app/keys").text
