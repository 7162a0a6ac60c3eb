"""Data separation: who may read what across organisations (attachments, revoked keys), custody
writes serialised on both databases, and the SQLite file kept private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from chain.node import free_port
from tests.conftest import REPO, auth
from tests.world import Org, make_org, make_world, setup_rice, ship
from traceability_api.config import Settings
from traceability_api.lots.models import Lot
from traceability_api.runtime import Runtime, build_runtime


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


@contextmanager
def second_worker(settings: Settings, tmp: Path) -> Iterator[str]:
    """Another API worker process (uvicorn) on the same database, as in a multi-worker deployment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {"DATABASE_URL": settings.effective_database_url, "AGRITRACE_CHAIN_ENABLED": "false",
            "AGRITRACE_DATA_DIR": str(tmp / "worker2"), "PYTHONPATH": str(REPO)}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "worker exited"
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the second worker did not come up"
                time.sleep(0.2)  # poll with a deadline: the process gives no other signal
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_revoked_key_is_refused_at_once_by_every_worker(
    settings: Settings, runtime: Runtime, app_client: TestClient, tmp_path: Path
) -> None:
    w = make_world(runtime, app_client)
    r = w.post(w.coop, "/api/v1/members", {"name": "Chị Ba", "role": "recorder"})
    assert r.status_code == 201, r.text
    key, member_id = r.json()["api_key"], r.json()["member"]["id"]
    with second_worker(settings, tmp_path) as other:
        assert httpx.get(other + "/api/v1/lots", headers=auth(key)).status_code == 200  # worker 2 has seen the key
        assert app_client.get("/api/v1/lots", headers=auth(key)).status_code == 200
        revoked = app_client.delete(f"/api/v1/members/{member_id}/keys", headers=w.coop.h())
        assert revoked.status_code == 200, revoked.text
        for answer in (
            httpx.get(other + "/api/v1/lots", headers=auth(key)),
            app_client.get("/api/v1/lots", headers=auth(key)),
        ):
            assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
        # the organisation's admin key, used on both workers all along, still works
        assert httpx.get(other + "/api/v1/lots", headers=w.coop.h()).status_code == 200


def test_concurrent_shipments_of_one_lot_exactly_one_wins(runtime: Runtime, app_client: TestClient) -> None:
    """Two organisations' shipments of the same lot race over HTTP, many times: every time exactly
    one succeeds and the other is refused (SQLite serialises custody writes, PostgreSQL locks the row)."""
    w = make_world(runtime, app_client)
    for run in range(12):
        rice = setup_rice(w, lot=f"R{run}")
        start = threading.Barrier(2)

        def go(to: Org, uri: str = rice["uri"], start: threading.Barrier = start) -> int:
            start.wait(timeout=30)
            return int(ship(w, w.coop, to, uri).status_code)

        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(go, (w.mill, w.distributor)))
        assert codes[0] == 201 and codes[1] in (403, 409), (run, codes)
        with Session(runtime.engine) as s:
            lot = s.get(Lot, rice["lot"]["id"])
            assert lot is not None and lot.in_transit_to_org_id in (w.mill.id, w.distributor.id)
