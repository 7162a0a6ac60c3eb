"""Optional legal binding of a signing key: the organisation's X.509 certificate (the kind
Vietnamese CAs issue for digital signatures) signs the statement "this address is our AgriTrace
signing key"; the certificate must chain to a trust anchor the authority configured
(``AGRITRACE_SIGNING_TRUST_ANCHORS``, a PEM file) and be valid now.

Statement (UTF-8): ``AgriTrace signing key <EIP-55 address> of <registry ref>``, signed with
SHA-256 (RSA PKCS#1 v1.5 or ECDSA)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError
from pydantic import BaseModel, Field

from traceability_api.errors import Invalid


class AttestationIn(BaseModel):
    certificates: str = Field(max_length=64_000, description="PEM: the organisation's certificate, then intermediates")
    signature: str = Field(max_length=2_000, description="base64 signature of the statement by the certificate's key")


def statement(address: str, ref: str) -> bytes:
    return f"AgriTrace signing key {address} of {ref}".encode()


def _anchors(path: Path | None) -> list[x509.Certificate]:
    if path is None:
        raise Invalid("no trust anchors are configured (AGRITRACE_SIGNING_TRUST_ANCHORS): attestations are off")
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise Invalid(f"trust anchors unreadable: {exc.__class__.__name__}") from exc


def check(att: AttestationIn, address: str, ref: str, anchors: Path | None, now: datetime) -> str:
    """The attested JSON to store (certificates, signature, subject); Invalid says why not."""
    try:
        chain = x509.load_pem_x509_certificates(att.certificates.encode())
        sig = base64.b64decode(att.signature, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Invalid("attestation: certificates must be PEM and the signature base64") from exc
    leaf, intermediates = chain[0], chain[1:]
    store = Store(_anchors(anchors))
    verifier = (
        PolicyBuilder().store(store).time(now)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )  # fmt: skip
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise Invalid(f"attestation: the certificate does not chain to a trust anchor ({exc})") from exc
    key = leaf.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, statement(address, ref), padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, statement(address, ref), ec.ECDSA(hashes.SHA256()))
        else:
            raise Invalid("attestation: only RSA and ECDSA certificates are supported")
    except InvalidSignature as exc:
        raise Invalid(f"attestation: the certificate's key did not sign '{statement(address, ref).decode()}'") from exc
    subject = leaf.subject.rfc4514_string()
    return json.dumps({"certificates": att.certificates, "signature": att.signature, "subject": subject})


def subject_of(stored: str | None) -> str | None:
    if not stored:
        return None
    return str(json.loads(stored).get("subject"))
