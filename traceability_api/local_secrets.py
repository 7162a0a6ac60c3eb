"""Secrets the embedded deployment generates for itself and keeps in the data directory, each in
its own file created with mode 0600 (never in the repository or the logs).  Production sets them
through the environment instead."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def secret_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The secret stored at ``path``, created with ``make()`` on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its secret
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as fh:
            fh.write(make())
    return path.read_bytes().strip()
