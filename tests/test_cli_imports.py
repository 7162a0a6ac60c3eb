"""Commands that need no chain never import web3 (it alone costs seconds of start-up).

Each command runs as the real CLI in a fresh interpreter with ``-X importtime``, which lists every
module the process imported on stderr; the test reads that list.  A control command that does
talk to the chain shows the check can fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CLI = [sys.executable, "-X", "importtime", "-m", "traceability_api.cli"]


def imported(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=env["AGRITRACE_DATA_DIR"])
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, modules


def uses_web3(modules: set[str]) -> bool:
    """web3 or the Ethereum account stack under it (eth_account pulls in py_ecc: ~0.6 s of import)."""
    return any(m.split(".")[0] in ("web3", "eth_account", "py_ecc") for m in modules)


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    return base | {"PYTHONPATH": str(REPO), "DATABASE_URL": database_url, "AGRITRACE_DATA_DIR": str(tmp_path)}


def test_commands_without_chain_import_no_web3(env: dict[str, str], tmp_path: Path) -> None:
    commands = [
        ["--help"],
        ["create-org", "--help"],
        ["create-org", "--name", "HTX Imports", "--kind", "cooperative"],
        ["export", str(tmp_path / "events.csv")],
        ["labels", "08930000000019", "NO-SUCH-LOT", "--out", str(tmp_path / "l.pdf")],  # refused: no such lot
    ]
    for args in commands:
        proc, modules = imported([*CLI, *args], env)
        assert proc.returncode in (0, 2), (args, proc.stdout, proc.stderr[-2000:])
        assert "traceability_api.cli" in modules, args  # the list is real
        assert not uses_web3(modules), f"agritrace {' '.join(args)} imported web3 or eth_account"
    assert (tmp_path / "events.csv").exists(), "export ran for real"


def test_the_check_sees_web3_when_it_is_imported(env: dict[str, str]) -> None:
    _, modules = imported([sys.executable, "-X", "importtime", "-c", "import chain.client"], env)
    assert uses_web3(modules)
