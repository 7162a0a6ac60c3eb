"""Signed events end to end on anvil: own keys and custodial keys at capture, forged events
(wrong key, revoked key, another organisation's key, key outside its window) refused at capture
AND failing independent verification of the bundle against the chain; `agritrace sign`."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from chain.signing import sign_digest
from tests.world import World, make_world, obj_event, setup_rice
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.consensus.signatures import SIGNATURE_FIELD, signing_digest
from traceability_api.events.capture import DEFAULT_CONTEXT
from traceability_api.events.models import Event
from traceability_api.runtime import Runtime
from traceability_api.signing.document import capture_hash_id, domain_of, sign_event
from traceability_api.verifier import verify_bundle


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def register(w: World, org_id: int, address: str, **window: int) -> Any:
    return w.client.post(f"/api/v1/signing/organisations/{org_id}/keys", json={"address": address, **window},
                         headers=w.authority.h())  # fmt: skip


def own_key(w: World, org_id: int, **window: int) -> LocalAccount:
    acct: LocalAccount = Account.create()
    r = register(w, org_id, acct.address, **window)
    assert r.status_code == 201, r.text
    return acct


def domain(w: World, org: Any) -> Any:
    r = w.get(org, "/api/v1/signing/domain")
    assert r.status_code == 200, r.text
    return domain_of(r.json())


def inspect(uri: str, minute: int) -> dict[str, Any]:
    return obj_event(uri, 1, "inspecting", time=f"2025-03-01T09:{minute:02d}:00+07:00")


def anchor(runtime: Runtime) -> None:
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()


def bundle(w: World, rice: dict[str, Any]) -> dict[str, Any]:
    r = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/L1")
    assert r.status_code == 200, r.text
    return dict(r.json())


def lines_about(report: Any, needle: str) -> list[str]:
    return [ln for ln in report.lines if needle in ln]


def test_signed_event_is_stored_exported_and_verified_on_chain(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    acct = own_key(w, w.coop.id)
    dom = domain(w, w.coop)
    ev = sign_event(inspect(rice["uri"], 1), DEFAULT_CONTEXT, acct, dom)
    r = w.post(w.coop, "/api/v1/events", ev, role="recorder")
    assert r.status_code == 201, r.text
    assert r.json()["hashId"] == capture_hash_id(ev, DEFAULT_CONTEXT), "the envelope is not part of the hash"
    with Session(runtime.engine) as s:
        stored = s.exec(select(Event).where(Event.hash_id == r.json()["hashId"])).one()
    assert stored.signature == ev[SIGNATURE_FIELD] and SIGNATURE_FIELD not in stored.document
    anchor(runtime)
    b = bundle(w, rice)
    assert b["version"] == 3  # 3: non-public events carry their disclosure commitment (test_privacy.py)
    (entry,) = [e for e in b["events"] if e.get("signature")]
    assert entry["signedBy"] == "signed by HTX Lúa gạo Thạnh Phú"
    assert runtime.chain is not None
    rep = verify_bundle(b, runtime.chain.contract)
    assert rep.exit_code == 0, rep.lines
    assert lines_about(rep, f"signed by {acct.address}")
    assert rep.failed == 0 and "not signed" in " ".join(rep.lines)  # the harvest was not signed: noted
    assert verify_bundle(b, runtime.chain.contract, require_signatures=True).exit_code == 1
    # a bundle of version 1 (before signatures) is still read
    assert verify_bundle(b | {"version": 1}, runtime.chain.contract).exit_code == 0
    # ... but its stated version turned the signature checks off: --require-signatures passed a bundle
    # edited to say "version": 1, and a forged signature in it was never looked at
    assert verify_bundle(b | {"version": 1}, runtime.chain.contract, require_signatures=True).exit_code == 1
    forged = copy.deepcopy(b) | {"version": 1}
    (signed,) = [e for e in forged["events"] if e.get("signature")]
    signed["signature"]["sig"] = "0x" + "11" * 65
    rep = verify_bundle(forged, runtime.chain.contract)
    assert rep.exit_code == 1 and lines_about(rep, "signature does not verify"), rep.lines


def test_forged_events_are_refused_at_capture(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    coop_key, mill_key = own_key(w, w.coop.id), own_key(w, w.mill.id)
    revoked = own_key(w, w.coop.id)
    future = own_key(w, w.coop.id, valid_from=2**39)  # not valid yet (block time far ahead)
    r = w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/keys/{revoked.address}/revoke",
                      headers=w.authority.h())  # fmt: skip
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    dom, mill_dom = domain(w, w.coop), domain(w, w.mill)
    stranger: LocalAccount = Account.create()
    cases = {
        "not a registered key": sign_event(inspect(rice["uri"], 2), DEFAULT_CONTEXT, stranger, dom),
        f"not a registered key of organisation {dom.org_ref!r}": sign_event(
            inspect(rice["uri"], 3), DEFAULT_CONTEXT, mill_key, dom
        ),
        "but the event is recorded by": sign_event(inspect(rice["uri"], 4), DEFAULT_CONTEXT, mill_key, mill_dom),
        "is revoked": sign_event(inspect(rice["uri"], 5), DEFAULT_CONTEXT, revoked, dom),
        "outside its validity window": sign_event(inspect(rice["uri"], 6), DEFAULT_CONTEXT, future, dom),
    }
    other = sign_event(inspect(rice["uri"], 7), DEFAULT_CONTEXT, coop_key, dom)
    cases["does not verify"] = inspect(rice["uri"], 8) | {SIGNATURE_FIELD: other[SIGNATURE_FIELD]}
    cases["must be 0x followed by 130 hex"] = inspect(rice["uri"], 9) | {
        SIGNATURE_FIELD: {**other[SIGNATURE_FIELD], "sig": "0x00"}
    }
    for message, ev in cases.items():
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code == 422 and message in r.text, (message, r.status_code, r.text)
    assert w.post(w.coop, "/api/v1/events", other).status_code == 201
    # only the authority manages keys
    assert register(w, w.coop.id, Account.create().address).status_code == 201
    r = w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/keys", json={"address": stranger.address},
                      headers=w.coop.h())  # fmt: skip
    assert r.status_code == 403
    assert register(w, w.coop.id, "0x1234").status_code == 422
    assert register(w, w.coop.id, coop_key.address).status_code == 409


def test_forged_events_fail_verification_against_the_chain(w: World, runtime: Runtime, tmp_path: Path) -> None:
    """Whoever runs the database writes envelopes behind capture's back: the chain disagrees."""
    assert runtime.chain is not None
    rice = setup_rice(w)
    good, late_revoked, mill_key = own_key(w, w.coop.id), own_key(w, w.coop.id), own_key(w, w.mill.id)
    dom = domain(w, w.coop)
    t = int(runtime.chain.contract.w3.eth.get_block("latest")["timestamp"])
    expired = own_key(w, w.coop.id, valid_from=t - 100, valid_until=t + 1)  # window over before anchoring
    stranger: LocalAccount = Account.create()
    ids = []
    for i, key in enumerate([good, late_revoked, good, good, good]):
        r = w.post(w.coop, "/api/v1/events", sign_event(inspect(rice["uri"], 10 + i), DEFAULT_CONTEXT, key, dom))
        assert r.status_code == 201, r.text
        ids.append(r.json()["hashId"])
    forged = {ids[2]: stranger, ids[3]: mill_key, ids[4]: expired}
    with Session(runtime.engine) as s:
        for ev in s.exec(select(Event).where(Event.hash_id.in_(ids))):  # type: ignore[attr-defined]
            if ev.hash_id in forged:  # a valid signature of the right hash, by the wrong key
                key = forged[ev.hash_id]
                sig = sign_digest(key, signing_digest(dom, ev.hash_id))
                ev.signature = {"signer": key.address, "sig": sig, "org": dom.org_ref, "custodial": False}
                s.add(ev)
        s.commit()
    r = w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/keys/{late_revoked.address}/revoke",
                      headers=w.authority.h())  # fmt: skip
    assert r.status_code == 200, r.text
    runtime.chain.contract.w3.provider.make_request("evm_increaseTime", [60])  # type: ignore[arg-type]
    anchor(runtime)
    b = bundle(w, rice)
    rep = verify_bundle(b, runtime.chain.contract)
    assert rep.exit_code == 1
    text = "\n".join(rep.lines)
    assert len(lines_about(rep, f"signed by {good.address}")) == 1, text
    assert f"signer {late_revoked.address} was not valid at the anchoring time" in text and "revoked at" in text
    assert f"signer {stranger.address} is not a key of that organisation" in text
    assert f"signer {mill_key.address} is not a key of that organisation" in text
    assert f"signer {expired.address} was not valid at the anchoring time" in text
    assert rep.failed == 4, text
    # the same through `agritrace verify`, with the contract given by the inspector
    from typer.testing import CliRunner

    from traceability_api.cli import app

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(b))
    args = ["verify", str(path), "--rpc", runtime.chain.rpc_url, "--contract", runtime.chain.contract.address]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "NOT VERIFIED" in res.output and res.output.count("FAIL") == 4, res.output
    assert f"signer {stranger.address} is not a key of that organisation" in res.output
    status = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/L1/status").json()
    assert (status["status"], status["problems"]) == ("not_verified", 4), status


def test_custodial_key_signs_on_behalf_and_required_signatures(w: World, runtime: Runtime) -> None:
    assert runtime.chain is not None
    rice = setup_rice(w)
    r = w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/custodial", headers=w.authority.h())
    assert r.status_code == 422 and "AGRITRACE_SIGNING_KEY_PASSWORD" in r.text, r.text  # external chain: no default
    runtime.settings.signing_key_password = SecretStr("custodial keys' password")
    r = w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/custodial", headers=w.authority.h())
    assert r.status_code == 201 and r.json()["custodial"], r.text
    keys = w.get(w.coop, f"/api/v1/signing/organisations/{w.coop.id}/keys").json()
    assert [k["address"] for k in keys] == [r.json()["address"]] and "keystore" not in keys[0]
    assert w.get(w.coop, f"/api/v1/signing/organisations/{w.mill.id}/keys").status_code == 403
    assert w.post(w.coop, "/api/v1/events", inspect(rice["uri"], 20)).status_code == 201
    with Session(runtime.engine) as s:
        key_row = s.exec(select(Event).where(Event.signature.is_not(None))).one()  # type: ignore[union-attr]
    assert key_row.signature and key_row.signature["custodial"] is True
    runtime.settings.require_signatures = True
    r = w.post(w.mill, "/api/v1/events", obj_event("https://id.gs1.org/00/089300000000000017", None, "inspecting"))
    assert r.status_code == 422 and "must be signed" in r.text, r.text
    anchor(runtime)
    b = bundle(w, rice)
    (entry,) = [e for e in b["events"] if e.get("signature")]
    assert entry["signedBy"] == "signed by AgriTrace on behalf of HTX Lúa gạo Thạnh Phú"
    rep = verify_bundle(b, runtime.chain.contract)
    assert rep.failed == 0 and lines_about(rep, "custodial: AgriTrace signed on the organisation's behalf"), rep.lines
    # whoever edits the bundle (or the database) to hide that AgriTrace signed is caught by the registry
    hidden = json.loads(json.dumps(b))
    (entry,) = [e for e in hidden["events"] if e.get("signature")]
    entry["signature"]["custodial"] = False
    rep = verify_bundle(hidden, runtime.chain.contract)
    assert rep.failed == 1 and lines_about(rep, "the registry says AgriTrace holds it"), rep.lines
    page = w.client.get(f"/01/{rice['gtin']}/10/L1", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "AgriTrace ký thay HTX Lúa gạo Thạnh Phú" in page.text
    status = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/L1/status").json()
    assert status["status"] == "verified", status


def test_agritrace_sign_cli(w: World, runtime: Runtime, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from traceability_api.cli import app

    rice = setup_rice(w)
    env = {"AGRITRACE_SIGNING_PASSWORD": "correct horse"}
    res = CliRunner().invoke(app, ["keys", "new", "--out", str(tmp_path / "k.json")], env=env)
    assert res.exit_code == 0, res.output
    address = res.output.strip().splitlines()[-1]
    assert register(w, w.coop.id, address).status_code == 201
    (tmp_path / "domain.json").write_text(w.get(w.coop, "/api/v1/signing/domain").text)
    doc = {"@context": DEFAULT_CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2025-03-01T10:00:00Z",
           "epcisBody": {"eventList": [inspect(rice["uri"], 30), inspect(rice["uri"], 31)]}}  # fmt: skip
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    args = ["sign", str(tmp_path / "doc.json"), "--keystore", str(tmp_path / "k.json"),
            "--domain", str(tmp_path / "domain.json"), "--out", str(tmp_path / "signed.json")]  # fmt: skip
    res = CliRunner().invoke(app, args, env=env)
    assert res.exit_code == 0, res.output
    signed = json.loads((tmp_path / "signed.json").read_text())
    assert all(e[SIGNATURE_FIELD]["signer"] == address for e in signed["epcisBody"]["eventList"])
    r = w.post(w.coop, "/api/v1/capture", signed)
    assert r.status_code == 201, r.text
    res = CliRunner().invoke(app, args, env={"AGRITRACE_SIGNING_PASSWORD": "wrong"})
    assert res.exit_code == 2 and "password" in res.output
    # a malformed domain file or keystore is said, not a traceback
    dom = json.loads((tmp_path / "domain.json").read_text())
    bad_domains = [(dom | {"contract": "abc"}, "the domain's contract: 'abc' is not a 0x-prefixed 20-byte address"),
                   (dom | {"chainId": -5}, "the domain's chainId -5 is not a chain id"),
                   (dom | {"chainId": 2**300}, "is not a chain id (a positive 256-bit number)")]  # fmt: skip
    for bad, said in bad_domains:
        (tmp_path / "bad-domain.json").write_text(json.dumps(bad))
        res = CliRunner().invoke(app, [*args[:4], "--domain", str(tmp_path / "bad-domain.json")], env=env)
        assert res.exit_code == 1 and said in res.output, (bad, res.output)
        assert not isinstance(res.exception, Exception), res.exception  # typer.Exit is a SystemExit
    for keystore in ([1], {}, {"crypto": {"kdf": "scrypt"}, "version": 3}):
        (tmp_path / "bad-k.json").write_text(json.dumps(keystore))
        res = CliRunner().invoke(app, [*args[:2], "--keystore", str(tmp_path / "bad-k.json"), *args[4:]], env=env)
        assert res.exit_code == 2 and "bad-k.json is not" in res.output, (keystore, res.output)
        assert not isinstance(res.exception, Exception), res.exception
