"""A newcomer's first minutes: ``agritrace demo`` (what ./scripts/demo.sh runs) prints the demo
lots, keys, chain and docs; the landing page ``/`` links them; the verify instructions work."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from chain.node import free_port
from tests.conftest import auth
from tests.test_foundation_service import AGRITRACE, _env, _wait_health
from traceability_api.runtime import Runtime


def test_landing_page_links_docs_and_verify_instructions(runtime: Runtime, app_client: TestClient) -> None:
    from traceability_api.compose import attach_worker
    from traceability_api.demo import seed_demo

    page = app_client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for text in ('href="/docs"', 'href="/redoc"', "agritrace verify bundle.json", "./scripts/demo.sh"):
        assert text in page.text
    assert app_client.head("/").status_code == 200

    runtime.settings.anchor_worker = True
    attach_worker(runtime)
    url = seed_demo(runtime)["consumer_url"]
    page = app_client.get("/")
    assert f'href="{url}"' in page.text and "Gạo ST25 Thạnh Phú" in page.text and "./scripts/demo.sh" not in page.text
    assert app_client.get(url.removeprefix(runtime.settings.public_base_url)).status_code == 200
    keys = runtime.settings.data_dir / "demo-keys.json"
    assert keys.stat().st_mode & 0o077 == 0, "demo keys are readable by their owner only"


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_demo_prints_lots_keys_chain_and_docs(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*AGRITRACE, "demo", "--port", str(port)], env=_env(tmp_path), cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        _wait_health(f"{base}/healthz", proc, deadline_s=180)  # the guide is printed before the server starts
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    lot_urls = re.findall(rf"{base}/01/\d{{14}}/10/[\w-]+", out)
    keys = re.findall(r"agt_[\w-]+", out)
    rpc = re.search(r"JSON-RPC (http://127\.0\.0\.1:\d+)", out)
    assert len(lot_urls) >= 8 and len(keys) == 19 and rpc, out  # Cần Thơ (5 orgs), Đồng Tháp (10), export chains (4)
    assert f"{base}/docs" in out and f"{base}/redoc" in out and "DEMO DATA ONLY" in out
    invites = re.findall(rf"{base}/app/invite/[\w-]+", out)  # people's way in: one link per demo admin
    assert len(invites) == len(keys) and f"{base}/app/login" in out, out

    proc = subprocess.Popen([*AGRITRACE, "demo", "--port", str(port)], env=_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        _wait_health(f"{base}/healthz", proc, deadline_s=120)
        landing = httpx.get(f"{base}/").text
        assert all(f'href="{u}"' in landing for u in lot_urls[:3])
        assert all(httpx.get(u).status_code == 200 for u in lot_urls[:3])
        assert httpx.get(f"{base}/api/v1/lots", headers=auth(keys[1])).status_code == 200
        invite_page = httpx.get(invites[0])  # still open after a restart: not used yet
        assert invite_page.status_code == 200 and 'name="password"' in invite_page.text, invite_page.text[:500]
        bundle_cmd = re.search(r"curl -o bundle.json (\S+)", landing)
        assert bundle_cmd is not None
        bundle = httpx.get(bundle_cmd.group(1))
        assert bundle.status_code == 200, bundle.text
        (tmp_path / "bundle.json").write_bytes(bundle.content)
        assert proc.stdout is not None
        out2 = ""
        while "agritrace verify" not in out2:  # the guide is already in the pipe: printed before start-up
            out2 += proc.stdout.readline()
        assert set(re.findall(r"agt_[\w-]+", out2)) == set(keys), "a restart shows the same demo keys"
        verify_cmd = re.search(r"agritrace verify bundle.json --rpc (\S+)", out2)
        assert verify_cmd is not None, out2
        verified = subprocess.run([*AGRITRACE, "verify", str(tmp_path / "bundle.json"), "--rpc", verify_cmd.group(1)],
                                  env=_env(tmp_path), capture_output=True, text=True, timeout=120)  # fmt: skip
        assert verified.returncode == 0 and "VERIFIED" in verified.stdout, verified.stdout + verified.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert set(re.findall(r"agt_[\w-]+", out2)) == set(keys), "a restart shows the same demo keys"
