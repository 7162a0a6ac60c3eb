"""Service foundation: health endpoint, restart keeps chain state, bad configuration fails fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from chain.node import free_port
from tests.conftest import REPO

AGRITRACE = [sys.executable, "-m", "traceability_api.cli"]


def test_healthz_reports_database_and_chain(app_client: TestClient) -> None:
    body = app_client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["chain"]["ok"] is True and body["chain"]["contract_address"].startswith("0x")


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env.update({"AGRITRACE_DATA_DIR": str(tmp / "var"), "PYTHONPATH": str(REPO)}, **extra)
    return env


def _wait_health(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 180) -> dict:  # type: ignore[type-arg]
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            return httpx.get(url, timeout=1).json()  # type: ignore[no-any-return]
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("service did not come up")


@pytest.mark.sqlite_only
@pytest.mark.chain  # the service starts its own anvil
@pytest.mark.slow
def test_serve_restart_keeps_chain_state_and_contract(tmp_path: Path) -> None:
    seen = []
    for _ in range(2):
        port = free_port()
        proc = subprocess.Popen(
            [*AGRITRACE, "serve", "--port", str(port)],
            env=_env(tmp_path),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            health = _wait_health(f"http://127.0.0.1:{port}/healthz", proc)
            seen.append(health["chain"])
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert seen[0]["contract_address"] == seen[1]["contract_address"]
    assert seen[1]["block_number"] >= seen[0]["block_number"] >= 1
    assert (tmp_path / "var" / "chain" / "anvil-state.json").exists()
    keystore = json.loads((tmp_path / "var" / "keys" / "anchor-keystore.json").read_text())
    assert "crypto" in keystore and "ciphertext" in keystore["crypto"], "the anchoring key is stored encrypted"
    assert (tmp_path / "var" / "keys" / "anchor-keystore.json").stat().st_mode & 0o077 == 0


@pytest.mark.sqlite_only
@pytest.mark.slow  # one CLI process per case
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHAIN_RPC_URL": "http://127.0.0.1:1", "AGRITRACE_ANCHOR_PRIVATE_KEY": "0x" + "11" * 32}, "unreachable"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "database"),
        ({"DATABASE_URL": "not a url"}, "not a valid database URL"),
        ({"AGRITRACE_ANCHOR_PRIVATE_KEY": "0x1234"}, "not a valid 32-byte"),
        ({"AGRITRACE_ANCHOR_KEY_PASSWORD": "wrong", "CHAIN_RPC_URL": "http://127.0.0.1:1"}, "keystore"),
        ({"AGRITRACE_PORT": "eighty"}, "bad setting port"),
    ],
)
def test_bad_configuration_fails_fast_with_one_line(tmp_path: Path, env: dict[str, str], message: str) -> None:
    # "fails fast" = it exits on its own (no hang until a timeout); no wall-clock assertion on a shared machine
    proc = subprocess.run(
        [*AGRITRACE, "chain", "status"], env=_env(tmp_path, **env), cwd=tmp_path, capture_output=True, timeout=120
    )
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
