"""Anchoring keys in encrypted Web3 Secret Storage keystores (scrypt + AES-128-CTR).

The private key exists in clear only in memory.  The keystore file is written with mode 0600.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount as LocalAccount  # re-exported: callers type with it
from eth_utils import to_checksum_address  # type: ignore[attr-defined]

from chain.errors import ChainError


class KeystoreError(ChainError):
    pass


def create_keystore(path: Path, password: str, *, scrypt_n: int = 2**18) -> LocalAccount:
    """Generate a fresh key and store it encrypted at ``path`` (refuses to overwrite)."""
    if path.exists():
        raise KeystoreError(f"keystore {path} already exists")
    acct: LocalAccount = Account.create()
    encrypted = Account.encrypt(acct.key, password, kdf="scrypt", iterations=scrypt_n)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(encrypted, fh)
    return acct


def load_keystore(path: Path, password: str) -> LocalAccount:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(f"keystore not found at {path}") from exc
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} unreadable: {exc.__class__.__name__}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("crypto") or data.get("Crypto"), dict):
        raise KeystoreError(f"{path} is not an encrypted keystore (Web3 Secret Storage JSON with 'crypto')")
    try:
        key = Account.decrypt(data, password)
    except ValueError as exc:
        raise KeystoreError(f"wrong password for keystore {path} (MAC mismatch)") from exc
    except (KeyError, TypeError, NotImplementedError) as exc:  # a member missing or of another kind
        raise KeystoreError(f"{path} is not a keystore this service reads: {exc.__class__.__name__} {exc}") from exc
    acct: LocalAccount = Account.from_key(key)
    return acct


def account_from_private_key(hex_key: str) -> LocalAccount:
    try:
        acct: LocalAccount = Account.from_key(hex_key)
    except (ValueError, TypeError) as exc:
        raise KeystoreError("anchoring private key is not a valid 32-byte secp256k1 key") from exc
    return acct


def keystore_address(path: Path) -> str | None:
    """The account address a keystore declares, read without its password (None if unknown)."""
    try:
        address = json.loads(path.read_text()).get("address")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(address, str) or not address:
        return None
    try:
        return str(to_checksum_address("0x" + address.removeprefix("0x")))
    except ValueError:
        return None
