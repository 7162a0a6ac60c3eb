"""Signing an event's EIP-712 typed data with a secp256k1 key (eth-account), and the
per-organisation custodial keystores (Web3 Secret Storage: scrypt + AES-128-CTR, like the
anchoring key).  Verification needs none of this: see ``traceability_api/consensus/signatures.py``."""

from __future__ import annotations

import json
from typing import Any

from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from chain.keys import KeystoreError


def sign_typed_data(account: LocalAccount, typed_data: dict[str, Any]) -> str:
    """``0x`` + r ‖ s ‖ v (65 bytes, low s) over an EIP-712 document."""
    signed = account.sign_message(encode_typed_data(full_message=typed_data))
    return "0x" + bytes(signed.signature).hex()


def new_key() -> LocalAccount:
    acct: LocalAccount = Account.create()
    return acct


def encrypt_key(account: LocalAccount, password: str, *, scrypt_n: int = 2**14) -> str:
    """The key as a keystore JSON text (never the key in clear)."""
    return json.dumps(Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n))


def decrypt_key(keystore_json: str, password: str) -> LocalAccount:
    try:
        key = Account.decrypt(json.loads(keystore_json), password)
    except (ValueError, TypeError) as exc:
        raise KeystoreError("signing keystore unreadable or wrong password (MAC mismatch)") from exc
    acct: LocalAccount = Account.from_key(key)
    return acct


class DigestSigner:
    """A key ready to sign 32-byte digests: the libsecp256k1 key object (whose construction derives
    the public key, most of a signature's cost) is made once, not per signature."""

    def __init__(self, account: LocalAccount) -> None:
        self.address: str = account.address
        self._key = PrivateKey(bytes(account.key))

    def sign(self, digest: bytes) -> str:
        """``0x`` + r ‖ s ‖ v over a 32-byte digest computed by the caller (the EIP-712 digest of
        ``consensus/signatures.py``), with coincurve directly: the same bytes as eth-account's
        ``sign_typed_data`` (tests/test_signatures.py) at a fraction of its per-call overhead."""
        if len(digest) != 32:
            raise ValueError("a signing digest is 32 bytes")
        rsv = self._key.sign_recoverable(digest, hasher=None)  # libsecp256k1: low s, RFC 6979
        return "0x" + rsv[:64].hex() + f"{rsv[64] + 27:02x}"


def sign_digest(account: LocalAccount, digest: bytes) -> str:
    """One signature with ``account`` (see ``DigestSigner`` to sign many)."""
    return DigestSigner(account).sign(digest)
