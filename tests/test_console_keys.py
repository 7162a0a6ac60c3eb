"""The console's Signing keys page (issue 15) on a real anvil node with the compiled contract: an
authority admin registers an organisation's own address (seen in the chain's KeyRegistry window and in
the list), gives a custodial key, rotates and revokes, through the real forms with CSRF; refusals are
shown next to their field (a bad address, an empty window the chain refuses, a revoke without its
confirmation); a non-admin authority member sees the list but cannot write; a cooperative gets 403;
without a chain the page says keys cannot be registered."""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from chain.registry import NO_END, KeyRegistry
from tests.workspace_helpers import accept, csrf_of, make_org, member_client
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.main import create_app
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.runtime import Runtime
from traceability_api.signing.models import SigningKey, SigningOrg
from traceability_api.workspace.invites import create_invite

PAGE = "/app/console/keys"


def err_of(html: str, err_id: str) -> str:
    m = re.search(rf'<p class="err" id="{re.escape(err_id)}">([^<]*)</p>', html)
    assert m, html[html.find("<main") :][:4000]
    return m.group(1)


def post(c: TestClient, path: str, **form: str) -> object:
    return c.post(path, data={"csrf": csrf_of(c.get(PAGE).text)} | form, follow_redirects=False)


def setup(c: TestClient, runtime: Runtime) -> tuple[int, int]:
    """A cooperative (no key yet), then an authority admin signed in on ``c``: (coop id, authority id)."""
    coop_id, _ = member_client(c, runtime, "HTX Mỹ Xương", "htx-admin")
    c.cookies.clear()
    authority_id, _ = member_client(c, runtime, "Chi cục QLCL Đồng Tháp", "chicuc", OrgKind.authority)
    return coop_id, authority_id


def window(runtime: Runtime, org_id: int, address: str) -> object:
    assert runtime.chain is not None
    with Session(runtime.engine) as s:
        so = s.get(SigningOrg, org_id)
        assert so is not None
        return KeyRegistry(runtime.chain.contract).window(so.ref, address)


def key_line(html: str, address: str) -> str:
    m = re.search(rf'<li id="{address}"[^>]*>.*?</li>', html, re.S)
    assert m, html[html.find("<main") :][:4000]
    return m.group(0)


def midnight(day: str) -> int:
    return int(datetime.combine(datetime.fromisoformat(day).date(), time(0), ZoneInfo("Asia/Ho_Chi_Minh")).timestamp())


def test_register_an_own_address_and_refusals_next_to_their_fields(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    coop_id, _ = setup(c, runtime)
    page = c.get(PAGE)
    assert page.status_code == 200 and 'href="/app/console/keys" aria-current="page"' in page.text
    assert 'id="register-key"' in page.text and "HTX Mỹ Xương" in page.text  # listed: may get a key
    device = Account.create().address
    r = post(c, PAGE, org_id=str(coop_id), address=device.lower())
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    w = window(runtime, coop_id, device)  # on chain, under its checksummed address
    assert w is not None and w.valid_until == NO_END and not w.custodial and w.revoked_at == 0  # type: ignore[attr-defined]
    html = c.get(r.headers["location"]).text  # type: ignore[attr-defined]
    assert f"Đã lưu: {device}" in html
    line = key_line(html, device)
    assert 'data-status="active"' in line and 'data-custodial="no"' in line and "Khóa riêng của tổ chức" in line
    assert "Đang hiệu lực" in line and "không thời hạn" in line and "Chưa chứng thực" in line

    # a window given as dates: Unix seconds at 00:00 Vietnam time, on chain and shown back as the dates
    later = Account.create().address
    r = post(c, PAGE, org_id=str(coop_id), address=later, valid_from="2040-01-01", valid_until="2041-06-30")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    w = window(runtime, coop_id, later)
    assert (w.valid_from, w.valid_until) == (midnight("2040-01-01"), midnight("2041-06-30"))  # type: ignore[attr-defined]
    line = key_line(c.get(PAGE).text, later)
    assert 'data-status="not_yet_valid"' in line and "01/01/2040" in line and "30/06/2041" in line  # as people write
    assert "2040-01-01" not in line

    # refusals, each next to its field, nothing written
    r = post(c, PAGE, org_id=str(coop_id), address="0x1234")
    assert r.status_code == 422 and err_of(r.text, "address-err") == "Không đúng định dạng."  # type: ignore[attr-defined]
    assert 'value="0x1234"' in r.text  # type: ignore[attr-defined]  # the form is kept
    r = post(c, PAGE, org_id=str(coop_id), address=device)  # the same address again
    assert r.status_code == 409 and err_of(r.text, "address-err") == f"Địa chỉ {device} đã được đăng ký."  # type: ignore[attr-defined]
    r = post(c, PAGE, org_id=str(coop_id), address=Account.create().address, valid_from="2030-13-01")
    assert r.status_code == 422 and err_of(r.text, "valid_from-err").startswith("Ngày không hợp lệ")  # type: ignore[attr-defined]
    empty = Account.create().address  # the chain refuses an empty window (EmptyWindow): a message, no 500
    r = post(c, PAGE, org_id=str(coop_id), address=empty, valid_from="2040-01-02", valid_until="2040-01-01")
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert err_of(r.text, "valid_until-err") == "Ngày kết thúc phải sau ngày bắt đầu."  # type: ignore[attr-defined]
    assert window(runtime, coop_id, empty) is None
    r = post(c, PAGE, org_id="999999", address=Account.create().address)
    assert r.status_code == 404 and err_of(r.text, "org_id-err") == "Tổ chức này không tồn tại."  # type: ignore[attr-defined]
    with Session(runtime.engine) as s:
        assert sorted(k.address for k in s.exec(select(SigningKey))) == sorted([device, later])


def test_custodial_key_rotate_and_revoke(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    coop_id, _ = setup(c, runtime)
    r = post(c, PAGE + "/custodial", org_id=str(coop_id))  # no key password on an external chain
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert err_of(r.text, "custodial_org_id-err").startswith("Chưa thể giữ khóa hộ")  # type: ignore[attr-defined]
    runtime.settings.signing_key_password = SecretStr("mật khẩu khóa giữ hộ")
    r = post(c, PAGE + "/custodial", org_id=str(coop_id))
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    with Session(runtime.engine) as s:
        (held,) = s.exec(select(SigningKey).where(SigningKey.org_id == coop_id))
        assert held.custodial and held.keystore
    w = window(runtime, coop_id, held.address)
    assert w is not None and w.custodial  # type: ignore[attr-defined]
    line = key_line(c.get(PAGE).text, held.address)
    assert 'data-custodial="yes"' in line and "giữ hộ bởi AgriTrace" in line

    # rotate the custodial key to the organisation's own address: the old one ends, the new one starts
    own = Account.create().address
    r = post(c, f"{PAGE}/{coop_id}/{held.address}/rotate", new_address="0xnot-an-address")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert err_of(r.text, f"err-new-{held.address}") == "Không đúng định dạng."  # type: ignore[attr-defined]
    r = post(c, f"{PAGE}/{coop_id}/{held.address}/rotate", new_address=own)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    old, new = window(runtime, coop_id, held.address), window(runtime, coop_id, own)
    assert new is not None and not new.custodial and old.valid_until == new.valid_from  # type: ignore[attr-defined]
    html = c.get(PAGE).text
    assert 'data-status="expired"' in key_line(html, held.address)
    assert f'action="/app/console/keys/{coop_id}/{held.address}/rotate"' not in html  # an ended key has no forms
    assert 'data-status="active"' in key_line(html, own)

    # rotate the own key to a new custodial key (empty address)
    r = post(c, f"{PAGE}/{coop_id}/{own}/rotate", new_address="")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    with Session(runtime.engine) as s:
        newest = s.exec(select(SigningKey).where(SigningKey.org_id == coop_id).order_by(SigningKey.id.desc())).first()  # type: ignore[union-attr]
        assert newest is not None and newest.custodial and newest.address not in (own, held.address)
    assert window(runtime, coop_id, newest.address).custodial  # type: ignore[union-attr]

    # revoke: only with the confirmation ticked
    r = post(c, f"{PAGE}/{coop_id}/{newest.address}/revoke")
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert err_of(r.text, f"err-confirm-{newest.address}") == "Hãy đánh dấu xác nhận trước khi thu hồi."  # type: ignore[attr-defined]
    assert window(runtime, coop_id, newest.address).revoked_at == 0  # type: ignore[union-attr]
    r = post(c, f"{PAGE}/{coop_id}/{newest.address}/revoke", confirm="yes")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert window(runtime, coop_id, newest.address).revoked_at > 0  # type: ignore[union-attr]
    line = key_line(c.get(PAGE).text, newest.address)
    assert 'data-status="revoked"' in line and "ĐÃ BỊ THU HỒI" in line and "thu hồi ngày" in line
    # a key of another organisation is not found under this one: a message, nothing changes
    r = post(c, f"{PAGE}/{coop_id + 1000}/{own}/revoke", confirm="yes")
    assert r.status_code == 404 and "không phải khóa của tổ chức này" in err_of(r.text, f"err-confirm-{own}")  # type: ignore[attr-defined]


def test_csrf_cooperatives_and_non_admin_authority_members_cannot_write(
    app_client: TestClient, runtime: Runtime
) -> None:
    c = app_client
    coop_id, authority_id = setup(c, runtime)
    address = Account.create().address
    r = c.post(PAGE, data={"org_id": str(coop_id), "address": address}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    assert post(c, PAGE, org_id=str(coop_id), address=address).status_code == 303  # type: ignore[attr-defined]
    r = c.post(f"{PAGE}/{coop_id}/{address}/revoke", data={"confirm": "yes"}, follow_redirects=False)
    assert r.status_code == 403

    # an authority member who is not an admin: sees the list, no forms; a crafted post is refused
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, authority_id, "Cán bộ xem", Role.viewer)
        s.commit()
    c.cookies.clear()
    accept(c, token, "canbo")
    page = c.get(PAGE)
    assert page.status_code == 200 and 'data-status="active"' in key_line(page.text, address)
    assert (
        "Chỉ quản trị viên của cơ quan quản lý" in page.text
        and '<form method="post"' not in page.text.split("<main", 1)[1]
    )
    csrf = csrf_of(c.get("/app").text)
    for path, form in ((PAGE, {"org_id": str(coop_id), "address": Account.create().address}),
                       (PAGE + "/custodial", {"org_id": str(coop_id)}),
                       (f"{PAGE}/{coop_id}/{address}/revoke", {"confirm": "yes"}),
                       (f"{PAGE}/{coop_id}/{address}/rotate", {"new_address": ""})):  # fmt: skip
        r = c.post(path, data={"csrf": csrf} | form, follow_redirects=False)
        assert r.status_code == 403 and "Chỉ quản trị viên được làm việc này." in r.text, (path, r.text[:500])
    assert window(runtime, coop_id, address).revoked_at == 0  # type: ignore[union-attr]
    with Session(runtime.engine) as s:
        assert [k.address for k in s.exec(select(SigningKey))] == [address]

    # a cooperative's member: the console's 403, reading and writing
    c.cookies.clear()
    member_client(c, runtime, "HTX Tân Thuận", "htx2")
    r = c.get(PAGE)
    assert r.status_code == 403 and "cơ quan quản lý" in r.text
    r = c.post(f"{PAGE}/{coop_id}/{address}/revoke", data={"csrf": csrf_of(c.get("/app").text), "confirm": "yes"})
    assert r.status_code == 403
    assert window(runtime, coop_id, address).revoked_at == 0  # type: ignore[union-attr]


def test_without_a_chain_the_page_says_keys_cannot_be_registered(tmp_path: Path, database_url: str) -> None:
    rt = build_runtime(Settings(data_dir=tmp_path / "var", database_url=database_url, chain_enabled=False,
                                rate_limit_enabled=False))  # fmt: skip
    try:
        assert rt.chain is None
        with TestClient(create_app(rt)) as c:
            coop_id, _, _ = make_org(rt, "HTX Không Chuỗi")
            _, _, token = make_org(rt, "Chi cục Không Chuỗi", OrgKind.authority)
            accept(c, token, "khongchuoi")
            page = c.get(PAGE)
            assert page.status_code == 200 and 'id="keys-no-chain"' in page.text
            assert "không thể đăng ký" in page.text and 'id="register-key"' not in page.text
            csrf = csrf_of(c.get("/app").text)
            r = c.post(PAGE, data={"csrf": csrf, "org_id": str(coop_id), "address": Account.create().address})
            assert r.status_code == 422  # said at the top of the page (there is no form to say it next to)
            assert re.search(r'<p class="alert" role="alert">[^<]*không có sổ đăng ký khóa', r.text), r.text
    finally:
        rt.close()


def test_register_with_an_x509_attestation_through_the_form(
    app_client: TestClient, runtime: Runtime, tmp_path: Path
) -> None:
    """The organisation's certificate (from a CA made here) vouches for its address: one half alone,
    a certificate from a CA the authority does not trust and a statement about another address are
    refused next to the certificate field; the good one is stored and shown as attested."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.test_key_attestation import _cert, _pem
    from traceability_api.parties.service import party_uri
    from traceability_api.signing.attestation import statement

    c = app_client
    coop_id, _ = setup(c, runtime)
    ca_key, rogue_key, org_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("CA thử nghiệm", ca_key, "CA thử nghiệm", ca_key, ca=True)
    leaf = _cert("HTX Mỹ Xương", org_key, "CA thử nghiệm", ca_key, ca=False)
    rogue_leaf = _cert("HTX Mỹ Xương", org_key, "Rogue CA", rogue_key, ca=False)
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(_pem(ca))
    runtime.settings.signing_trust_anchors = anchors
    address = Account.create().address
    with Session(runtime.engine) as s:
        from traceability_api.parties.models import Organisation

        org = s.get(Organisation, coop_id)
        assert org is not None
        ref = party_uri(org)

    def sign(text: bytes) -> str:
        return base64.b64encode(org_key.sign(text, ec.ECDSA(hashes.SHA256()))).decode()

    form = {"org_id": str(coop_id), "address": address}
    half = post(c, PAGE, **form, att_certificates=_pem(leaf))
    assert half.status_code == 422 and "chữ ký xác nhận" in err_of(half.text, "att_certificates-err")  # type: ignore[attr-defined]
    rogue = post(c, PAGE, **form, att_certificates=_pem(rogue_leaf), att_signature=sign(statement(address, ref)))
    assert rogue.status_code == 422 and "tổ chức chứng thực được tin cậy" in err_of(rogue.text, "att_certificates-err")  # type: ignore[attr-defined]
    other = post(c, PAGE, **form, att_certificates=_pem(leaf),
                 att_signature=sign(statement(Account.create().address, ref)))  # fmt: skip
    assert other.status_code == 422 and "chưa ký dòng chữ «AgriTrace signing key" in err_of(
        other.text, "att_certificates-err"
    )  # type: ignore[attr-defined]
    with Session(runtime.engine) as s:  # refused before any transaction: nothing registered
        assert s.exec(select(SigningKey).where(SigningKey.address == address)).first() is None
    good = post(c, PAGE, **form, att_certificates=_pem(leaf), att_signature=sign(statement(address, ref)))
    assert good.status_code == 303, getattr(good, "text", "")[:2000]  # type: ignore[attr-defined]
    line = key_line(c.get(PAGE).text, address)
    assert "HTX Mỹ Xương" in line and "CN=HTX Mỹ Xương" in line
    with Session(runtime.engine) as s:
        key = s.exec(select(SigningKey).where(SigningKey.address == address)).one()
        assert key.attestation and json.loads(key.attestation)["subject"] == "CN=HTX Mỹ Xương,C=VN"
