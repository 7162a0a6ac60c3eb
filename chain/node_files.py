"""The node's files: the state file, written atomically, and its last-known-good backup."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from chain.errors import NodeError


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data``: the old or the new content survives any crash, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def check_state(state_path: Path) -> None:
    """Keep a last-known-good copy of the state; fall back to it if the file is torn."""
    backup = state_path.with_suffix(".bak")
    if not state_path.exists():
        return
    try:
        json.loads(state_path.read_bytes())
        shutil.copyfile(state_path, backup)
    except ValueError as exc:
        try:
            json.loads(backup.read_bytes())
        except (OSError, ValueError):
            raise NodeError(f"chain state {state_path} is corrupt and has no usable backup") from exc
        shutil.copyfile(backup, state_path)
