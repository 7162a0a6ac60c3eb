"""Secrets the embedded deployment generates for itself and keeps in the data directory, each in
its own file created with mode 0600 (never in the repository or the logs).  Production sets them
through the environment instead."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The secret stored at ``path``, created with ``make()`` on first use.  It is written whole to
    a file of its own, then linked into place (``link`` never replaces, and fails if another
    process was first: then that one's secret is used).  Created in place, the file existed empty
    while the secret was being made and written, and a process starting beside it read an empty
    secret (an empty HMAC key, an empty keystore password)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(make())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:  # another process won the race: use its secret
                pass
        finally:
            draft.unlink(missing_ok=True)
    return path.read_bytes().strip()
