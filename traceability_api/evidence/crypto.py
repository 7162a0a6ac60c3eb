"""Secrets at rest (device HMAC keys) encrypted with Fernet under a master key:
AGRITRACE_MASTER_KEY, or a random key kept in the data directory (mode 0600)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet

from traceability_api.config import Settings
from traceability_api.local_secrets import secret_file


@lru_cache
def _key_file(path: Path) -> bytes:
    return secret_file(path, Fernet.generate_key)


def fernet(settings: Settings) -> Fernet:
    if settings.master_key is not None:
        return Fernet(settings.master_key.get_secret_value().encode())
    return Fernet(_key_file((settings.data_dir / "keys" / "master.key").resolve()))
