"""Shared fixtures: a real anvil node per session (snapshot/revert per test), a fresh database
per test (SQLite file or a fresh PostgreSQL schema, chosen by AGRITRACE_TEST_DB), the service
wired to both, and API clients for a small cast of organisations."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from web3 import Web3

from chain.client import connect
from chain.node import AnvilNode, free_port
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.main import create_app
from traceability_api.runtime import Runtime

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "traceability_api" / "consensus" / "vectors"  # event-hash and Merkle vectors (see README there)
CONFORMANCE = REPO / "tests" / "conformance"  # GS1 EPCIS REST binding
ARTIFACTS = REPO / "test-artifacts"
TEST_DB = os.environ.get("AGRITRACE_TEST_DB", "sqlite")
PG_DSN = os.environ.get("AGRITRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs once, in the SQLite pass")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark by what a test really uses, so the marks cannot drift: ``chain`` when it needs the
    anvil node, ``postgres`` when it uses the database (PostgreSQL in the second pass).
    The fast subset is ``pytest -m "not chain and not slow"``."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "anvil" in fixtures:
            item.add_marker(pytest.mark.chain)
        if "database_url" in fixtures:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode(extra_args=("--prune-history",)) as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: AnvilNode) -> Web3:
    return connect(anvil.url)


def fund(w3: Web3, address: str) -> None:
    w3.provider.make_request("anvil_setBalance", [address, hex(10**24)])  # type: ignore[arg-type]


@pytest.fixture
def funded_account(w3: Web3) -> LocalAccount:
    acct: LocalAccount = Account.create()
    fund(w3, acct.address)
    return acct


@pytest.fixture
def chain_snapshot(w3: Web3) -> Iterator[None]:
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    reverted = w3.provider.make_request("evm_revert", [snap]).get("result")  # type: ignore[arg-type]
    assert reverted is True, f"anvil did not revert to snapshot {snap}: the next test would see this one's chain"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if TEST_DB == "sqlite":
        yield f"sqlite:///{tmp_path / 'agritrace.db'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    try:
        conn = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - CI has PostgreSQL
        pytest.fail(f"PostgreSQL required for AGRITRACE_TEST_DB=postgresql: {exc}")
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG_DSN else "?"
        yield f"{PG_DSN}{sep}options=-csearch_path%3D{schema}"
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings(tmp_path: Path, database_url: str, anvil: AnvilNode, funded_account: LocalAccount) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        chain_rpc_url=anvil.url,
        anchor_private_key=funded_account.key.hex(),
        public_base_url="https://trace.example.vn",
        anchor_worker=False,
        anchor_interval_s=0.2,
        consumer_page_cache_s=0,  # tests see live verification; test_consumer checks the cache itself
        consumer_view_cache=False,  # likewise (test_consumer_cache checks the kept pages)
        rate_limit_enabled=False,  # tests hammer public pages; test_input_limits checks the limits themselves
    )


@pytest.fixture
def runtime(settings: Settings, chain_snapshot: None) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pick(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys}


@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    """The app on a real uvicorn server in a thread (for browsers and other real HTTP clients)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright (no browser download), one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
