"""Event signatures: EIP-712 typed data over an event's CBV 2.0 hash ID, and signer recovery.

CONSENSUS-CRITICAL: these bytes decide whether an event's authorship verifies, in the service at
capture and in independent verifiers.  Change nothing without the vectors
(``consensus/vectors/signatures/``, tests/test_signatures.py).  Standard library, Keccak-256 and
secp256k1 recovery (coincurve) only: any EIP-712 wallet or library (eth-account, ethers,
@noble/curves + the rules below) produces the same digest.

Rules
-----
* Organisation key: ``org = keccak256(utf8(ref))`` where ``ref`` is the organisation's reference
  in the key registry (its GS1 party URI or AgriTrace id), exactly as registered on chain.
* Domain: ``EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,
  bytes32 salt)`` with name ``"AgriTrace"``, version ``"1"``, the chain id, the anchor/registry
  contract, and ``salt = org``: a signature for one organisation never verifies for another.
* Message: ``AgriTraceEvent(string hashId)`` where ``hashId`` is the CBV 2.0 hash ID of the event
  without its signature envelope (``ni:///sha-256;<hex>?ver=CBV2.0``).
* Digest: ``keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))`` (EIP-712).
* Signature: 65 bytes ``r ‖ s ‖ v`` (v = 27 or 28; 0/1 accepted), hex with ``0x``; ``s`` must be in
  the lower half of the curve order (EIP-2), so a signature has one encoding only.
* Envelope (the ``agri:signature`` member of an event, stored beside it, never hashed):
  ``{"signer": "0x<address>", "sig": "0x<130 hex>", "org": "<ref>", "custodial": bool}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from coincurve import PublicKey
from sha3 import keccak_256

SIGNATURE_FIELD = "agri:signature"
DOMAIN_NAME = "AgriTrace"
DOMAIN_VERSION = "1"
PRIMARY_TYPE = "AgriTraceEvent"
TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
        {"name": "salt", "type": "bytes32"},
    ],
    PRIMARY_TYPE: [{"name": "hashId", "type": "string"}],
}
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")  # fullmatch only: "$" matches before a final newline
_SIG = re.compile(r"0x[0-9a-fA-F]{130}")


class SignatureInvalid(ValueError):
    """The envelope is malformed or its signature does not recover to its signer."""


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()  # type: ignore[no-any-return]


_DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)"
)
_EVENT_TYPEHASH = keccak(b"AgriTraceEvent(string hashId)")


@dataclass(frozen=True)
class Domain:
    chain_id: int
    contract: str  # 0x address of the anchor contract (which is also the key registry)
    org_ref: str

    @property
    def org_key(self) -> bytes:
        return org_key(self.org_ref)

    def typed_data(self, hash_id: str) -> dict[str, Any]:
        """The EIP-712 document for ``eth_signTypedData_v4`` / ``encode_typed_data(full_message=...)``."""
        return {
            "types": TYPES,
            "primaryType": PRIMARY_TYPE,
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.chain_id,
                "verifyingContract": self.contract,
                "salt": "0x" + self.org_key.hex(),
            },
            "message": {"hashId": hash_id},
        }


def org_key(ref: str) -> bytes:
    """The organisation's bytes32 key in the registry."""
    return keccak(ref.encode("utf-8"))


def _address_word(address: str) -> bytes:
    if not _ADDRESS.fullmatch(address):
        raise SignatureInvalid(f"{address!r} is not a 0x-prefixed 20-byte address")
    return bytes(12) + bytes.fromhex(address[2:])


@lru_cache(maxsize=4096)
def domain_separator(domain: Domain) -> bytes:
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(DOMAIN_NAME.encode())
        + keccak(DOMAIN_VERSION.encode())
        + domain.chain_id.to_bytes(32, "big")
        + _address_word(domain.contract)
        + domain.org_key
    )


def signing_digest(domain: Domain, hash_id: str) -> bytes:
    """The 32 bytes an organisation's key signs for the event with CBV 2.0 hash ID ``hash_id``."""
    struct = keccak(_EVENT_TYPEHASH + keccak(hash_id.encode("utf-8")))
    return keccak(b"\x19\x01" + domain_separator(domain) + struct)


def address_of_public_key(public_key: bytes) -> str:
    """EIP-55 checksummed address of a 65-byte uncompressed public key."""
    return checksum_address("0x" + keccak(public_key[1:])[-20:].hex())


def checksum_address(address: str) -> str:
    """EIP-55 form of a 0x-prefixed 20-byte address (SignatureInvalid if it is not one)."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise SignatureInvalid(f"{address!r} is not a 0x-prefixed 20-byte address")
    raw = address[2:].lower()
    check = keccak(raw.encode()).hex()
    return "0x" + "".join(c.upper() if int(check[i], 16) >= 8 else c for i, c in enumerate(raw))


def recover_signer(digest: bytes, signature: str) -> str:
    """The checksummed address whose key made ``signature`` over ``digest``."""
    if not isinstance(signature, str) or not _SIG.fullmatch(signature):
        raise SignatureInvalid("sig must be 0x followed by 130 hex digits (r, s, v)")
    raw = bytes.fromhex(signature[2:])
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1) or not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        raise SignatureInvalid("sig is not a canonical secp256k1 signature (r, s in range, low s, v 27/28)")
    try:
        public = PublicKey.from_signature_and_message(raw[:64] + bytes([v]), digest, hasher=None)
    except ValueError as exc:
        raise SignatureInvalid("sig does not recover to any public key") from exc
    return address_of_public_key(public.format(compressed=False))


@dataclass(frozen=True)
class Envelope:
    signer: str
    sig: str
    org: str
    custodial: bool

    def as_json(self) -> dict[str, Any]:
        return {"signer": self.signer, "sig": self.sig, "org": self.org, "custodial": self.custodial}


def parse_envelope(value: Any) -> Envelope:
    """The envelope as data, or SignatureInvalid saying what is wrong with it."""
    if not isinstance(value, dict):
        raise SignatureInvalid(f"{SIGNATURE_FIELD} must be an object {{signer, sig, org, custodial}}")
    extra = set(value) - {"signer", "sig", "org", "custodial"}
    if extra:
        raise SignatureInvalid(f"{SIGNATURE_FIELD} has unknown members: {', '.join(sorted(extra))}")
    signer, sig, org = value.get("signer"), value.get("sig"), value.get("org")
    if not isinstance(signer, str) or not _ADDRESS.fullmatch(signer):
        raise SignatureInvalid(f"{SIGNATURE_FIELD}.signer must be a 0x-prefixed 20-byte address")
    if not isinstance(sig, str) or not _SIG.fullmatch(sig):
        raise SignatureInvalid(f"{SIGNATURE_FIELD}.sig must be 0x followed by 130 hex digits")
    if not isinstance(org, str) or not 0 < len(org) <= 200:
        raise SignatureInvalid(f"{SIGNATURE_FIELD}.org must be the organisation's registry reference")
    custodial = value.get("custodial", False)
    if not isinstance(custodial, bool):
        raise SignatureInvalid(f"{SIGNATURE_FIELD}.custodial must be true or false")
    return Envelope(signer=signer, sig=sig, org=org, custodial=custodial)


def verify_envelope(envelope: Envelope, hash_id: str, chain_id: int, contract: str) -> None:
    """Raises SignatureInvalid unless ``envelope.sig`` is ``envelope.signer``'s signature of
    ``hash_id`` for organisation ``envelope.org`` on this chain and contract.  Whether the signer
    was a registered key of that organisation at the time is the registry's question, not this one."""
    digest = signing_digest(Domain(chain_id, contract, envelope.org), hash_id)
    recovered = recover_signer(digest, envelope.sig)
    if recovered.lower() != envelope.signer.lower():
        raise SignatureInvalid(f"signature was made by {recovered}, not by the stated signer {envelope.signer}")
