"""X.509 attestation of a signing key: the organisation's certificate (from a CA made here)
signs "AgriTrace signing key <address> of <ref>"; the chain must reach a configured trust anchor."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from eth_account import Account
from fastapi.testclient import TestClient

from tests.world import World, make_world
from traceability_api.runtime import Runtime
from traceability_api.signing.attestation import statement


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    b = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )  # fmt: skip
    return b.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def test_attested_key_and_refusals(w: World, runtime: Runtime, tmp_path: Path) -> None:
    ca_key, other_ca_key, org_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("Test CA (like a Vietnamese CA)", ca_key, "Test CA (like a Vietnamese CA)", ca_key, ca=True)
    rogue = _cert("Rogue CA", other_ca_key, "Rogue CA", other_ca_key, ca=True)
    leaf = _cert("HTX Lúa gạo Thạnh Phú", org_key, "Test CA (like a Vietnamese CA)", ca_key, ca=False)
    rogue_leaf = _cert("HTX Lúa gạo Thạnh Phú", org_key, "Rogue CA", other_ca_key, ca=False)
    address = Account.create().address
    ref = f"urn:agritrace:party:{w.coop.id}"

    def attest(cert: x509.Certificate, text: bytes) -> dict[str, str]:
        sig = org_key.sign(text, ec.ECDSA(hashes.SHA256()))
        return {"certificates": _pem(cert), "signature": base64.b64encode(sig).decode()}

    def post(body: dict[str, Any]) -> Any:
        return w.client.post(f"/api/v1/signing/organisations/{w.coop.id}/keys", json=body, headers=w.authority.h())

    good = {"address": address, "attestation": attest(leaf, statement(address, ref))}
    r = post(good)
    assert r.status_code == 422 and "no trust anchors are configured" in r.text, r.text
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(_pem(ca))
    runtime.settings.signing_trust_anchors = anchors
    r = post({"address": address, "attestation": attest(rogue_leaf, statement(address, ref))})
    assert r.status_code == 422 and "does not chain to a trust anchor" in r.text, r.text
    r = post({"address": address, "attestation": attest(leaf, statement(Account.create().address, ref))})
    assert r.status_code == 422 and "did not sign" in r.text, r.text
    r = post({"address": address, "attestation": {"certificates": "not pem", "signature": "x"}})
    assert r.status_code == 422, r.text
    assert rogue is not None
    r = post(good)
    assert r.status_code == 201, r.text
    assert r.json()["attested_by"] == "CN=HTX Lúa gạo Thạnh Phú,C=VN"
