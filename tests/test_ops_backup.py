"""Backup drill: a backup taken while a service captures under load is restored into a fresh
database and data directory; ``agritrace audit`` then finds zero problems, every event
acknowledged before the backup began is there, and the restored keys anchor what was pending."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from tests.cluster import AGRITRACE, Load, base_env, create_org, fresh_pg_database, seed_lot, start_instance, wait_for
from tests.conftest import TEST_DB
from traceability_api.anchoring.worker import make_worker
from traceability_api.audit.service import audit
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.events.models import Event
from traceability_api.ops.backup import BackupError, backup, restore

pytestmark = [pytest.mark.backup, pytest.mark.slow, pytest.mark.chain]


@contextmanager
def restore_target(source_url: str) -> Iterator[str | None]:
    """SQLite: None (the restored data directory's default file); PostgreSQL: a new database, same schema."""
    if TEST_DB == "sqlite":
        yield None
        return
    options = source_url.split("?", 1)[1] if "?" in source_url else ""
    with fresh_pg_database() as url:
        yield f"{url}?{options}" if options else url


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGRITRACE, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def anchored_batches(url: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    line = next(ln for ln in text.splitlines() if ln.startswith("agritrace_anchor_batches_total "))
    return float(line.split()[1])


def test_backup_under_load_restores_into_a_fresh_database_and_audits_clean(tmp_path: Path, database_url: str) -> None:
    src = base_env(DATABASE_URL=database_url, AGRITRACE_DATA_DIR=str(tmp_path / "var"),
                   AGRITRACE_ANCHOR_INTERVAL_S="0.3")  # fmt: skip
    key = create_org(database_url, "HTX Lúa gạo Thạnh Phú")
    inst = start_instance("source", src, tmp_path / "run")
    load = None
    try:
        lot = seed_lot(inst.url, key, 1, "L1")
        load = Load([inst.url], key, lot, threads=3).start()
        wait_for("events captured, a batch anchored", lambda: len(load.acked) >= 30 and anchored_batches(inst.url) >= 1)
        before_backup = list(load.acked)
        done = cli(src, "backup", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stderr
        wait_for("capture goes on after the backup", lambda: len(load.acked) > len(before_backup) + 10)
    finally:
        if load is not None:
            load.stop()
        inst.stop()
    assert load.bad_answers == [] and load.connection_errors == 0
    assert (tmp_path / "backup").stat().st_mode & 0o077 == 0, "a backup holds keys: owner only"

    with restore_target(database_url) as target:
        dst = base_env(AGRITRACE_DATA_DIR=str(tmp_path / "restored"), AGRITRACE_ANCHOR_INTERVAL_S="0.3")
        if target is not None:
            dst["DATABASE_URL"] = target
        done = cli(dst, "restore", str(tmp_path / "backup"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "restored" / "keys" / "anchor-keystore.json").exists()
        assert (tmp_path / "restored" / "chain" / "anvil-state.json").exists()
        restored_settings = Settings(data_dir=tmp_path / "restored", database_url=target, anchor_interval_s=0.3)
        with pytest.raises(BackupError, match="not empty"):  # never restores over data
            restore(restored_settings, tmp_path / "backup")
        # what `agritrace audit` runs, in this process: the restored chain state, database and keys
        rt = build_runtime(restored_settings)
        try:
            assert rt.chain is not None
            report = audit(rt.engine, rt.chain.contract)
            assert report.ok and report.problems == [] and report.events >= len(before_backup), report
            with Session(rt.engine) as s:
                restored = set(s.exec(select(Event.hash_id)).all())
            assert set(before_backup) <= restored, "every event acknowledged before the backup began is restored"
            make_worker(rt.engine, rt.chain, restored_settings).run_once()  # restored keys anchor what was pending
            report = audit(rt.engine, rt.chain.contract)
            assert report.ok and report.pending == 0, report
        finally:
            rt.close()


@pytest.mark.sqlite_only
def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    build_runtime(Settings(data_dir=tmp_path / "var"), with_chain=False).close()
    backup(Settings(data_dir=tmp_path / "var"), tmp_path / "bk")
    with pytest.raises(BackupError, match="not empty"):
        backup(Settings(data_dir=tmp_path / "var"), tmp_path / "bk")  # never writes into a used directory
    (tmp_path / "bk" / "database.sqlite").write_bytes(b"edited")
    done = cli(base_env(AGRITRACE_DATA_DIR=str(tmp_path / "new")), "restore", str(tmp_path / "bk"))
    assert done.returncode == 1 and "differ from the manifest" in done.stderr
    assert not (tmp_path / "new").exists()
