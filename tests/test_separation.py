"""Data separation: who may read what across organisations (attachments, revoked keys), custody
writes serialised on both databases, and the SQLite file kept private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.world import make_org
from traceability_api.config import Settings
from traceability_api.runtime import build_runtime


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only
def test_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: without care, files come out 0644
    try:
        rt = build_runtime(Settings(data_dir=tmp_path / "var", chain_enabled=False))
        with Session(rt.engine) as s:
            make_org(s, "HTX Mỹ Xuyên", "cooperative", ("recorder",))
            s.commit()
            db = tmp_path / "var" / "agritrace.db"
            files = [db, db.with_name("agritrace.db-wal"), db.with_name("agritrace.db-shm")]
            assert all(f.exists() for f in files)  # WAL mode, connection still open
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        rt.close()
        # a database created 0644 by an earlier version is tightened on start
        db.chmod(0o644)
        build_runtime(Settings(data_dir=tmp_path / "var", chain_enabled=False)).close()
        assert _mode(db) == 0o600
    finally:
        os.umask(old)
