"""Custodial signing keys: generated per organisation that does not manage keys, stored
encrypted at rest (Web3 Secret Storage, scrypt) with the password from settings, decrypted once
per process and kept in memory only."""

from __future__ import annotations

import secrets
import threading

from chain.keys import KeystoreError, LocalAccount
from chain.signing import DigestSigner, decrypt_key, encrypt_key, new_key
from traceability_api.config import Settings
from traceability_api.errors import ConfigError
from traceability_api.local_secrets import secret_file


def password(settings: Settings) -> str:
    """The custodial keystores' password: from settings, or (embedded chain only) a random one
    kept in the data directory with mode 0600."""
    if settings.signing_key_password is not None:
        return settings.signing_key_password.get_secret_value()
    if not settings.embedded_chain:
        raise ConfigError("AGRITRACE_SIGNING_KEY_PASSWORD is required to hold custodial signing keys")
    path = settings.data_dir / "keys" / "signing-keys.password"
    return secret_file(path, lambda: secrets.token_urlsafe(32).encode()).decode()


def new_custodial(settings: Settings) -> tuple[LocalAccount, str]:
    """A fresh key and its encrypted keystore text."""
    acct = new_key()
    return acct, encrypt_key(acct, password(settings))


class Unlocked:
    """Decrypted custodial keys by address, ready to sign (the scrypt cost, and the secp256k1 key
    set-up, are paid once per key and process)."""

    def __init__(self) -> None:
        self._keys: dict[str, DigestSigner] = {}
        self._lock = threading.Lock()

    def get(self, address: str, keystore: str, settings: Settings) -> DigestSigner:
        with self._lock:
            acct = self._keys.get(address)
            if acct is None:
                try:
                    acct = DigestSigner(decrypt_key(keystore, password(settings)))
                except KeystoreError as exc:
                    raise ConfigError(f"custodial key {address}: {exc}") from exc
                self._keys[address] = acct
            return acct
