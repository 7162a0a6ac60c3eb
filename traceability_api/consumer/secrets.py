"""The label-signing secret: AGRITRACE_LABEL_SECRET, or a random one kept in the data directory."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from traceability_api.config import Settings
from traceability_api.local_secrets import secret_file


@lru_cache
def _from_file(path: Path) -> bytes:
    return bytes.fromhex(secret_file(path, lambda: secrets.token_hex(32).encode()).decode())


def label_secret(settings: Settings) -> bytes:
    if settings.label_secret is not None:
        return settings.label_secret.get_secret_value().encode()
    return _from_file((settings.data_dir / "keys" / "label-secret").resolve())
