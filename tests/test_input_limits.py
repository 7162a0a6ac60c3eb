"""Hostile input: deep or huge JSON, out-of-range ids, NUL characters, odd headers must get a clear
4xx and never crash the process (issue 19, input part)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chain.node import AnvilNode, free_port
from tests.conftest import REPO


def _wait_health(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@pytest.fixture
def server(tmp_path: Path, database_url: str, anvil: AnvilNode) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The real service under uvicorn in its own process, web3 imported (external chain = anvil)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {
        "AGRITRACE_DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url, "CHAIN_RPC_URL": anvil.url,
        "AGRITRACE_ANCHOR_PRIVATE_KEY": "0x" + "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "AGRITRACE_ANCHOR_WORKER": "false", "PYTHONPATH": str(REPO),
    }  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_health(url + "/healthz", proc)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_deeply_nested_body_is_refused_and_the_server_lives(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, proc = server
    body = b"[" * 70_000 + b"]" * 70_000
    r = httpx.post(url + "/api/v1/events", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 422, r.text
    assert "nested 70000 levels" in r.json()["detail"]
    r = httpx.post(url + "/api/v1/capture", content=b"{}" + b" " * (11 * 1024 * 1024), timeout=30)
    assert r.status_code == 413, r.text
    assert "exceeds the limit" in r.json()["detail"]
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200
    assert proc.poll() is None
