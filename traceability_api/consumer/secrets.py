"""The label-signing secret: AGRITRACE_LABEL_SECRET, or a random one kept in the data directory."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from traceability_api.config import Settings


@lru_cache
def _from_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def label_secret(settings: Settings) -> bytes:
    if settings.label_secret is not None:
        return settings.label_secret.get_secret_value().encode()
    return _from_file((settings.data_dir / "keys" / "label-secret").resolve())
