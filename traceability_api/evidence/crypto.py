"""Secrets at rest (device HMAC keys) encrypted with Fernet under a master key:
AGRITRACE_MASTER_KEY, or a random key kept in the data directory (mode 0600)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet

from traceability_api.config import Settings


@lru_cache
def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return path.read_bytes().strip()


def fernet(settings: Settings) -> Fernet:
    if settings.master_key is not None:
        return Fernet(settings.master_key.get_secret_value().encode())
    return Fernet(_key_file((settings.data_dir / "keys" / "master.key").resolve()))
