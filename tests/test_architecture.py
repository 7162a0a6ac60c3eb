"""The architecture rules as import-linter contracts in pyproject.toml, checked by the test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", "--no-logo", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_import_contracts() -> None:
    """web3 only in chain/ (and whatever other contracts pyproject.toml declares)."""
    res = _lint()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Only chain/ talks to web3 KEPT" in res.stdout, res.stdout


def test_web3_outside_chain_is_reported(tmp_path: Path) -> None:
    """The checker does fail: the same contract, with chain/ itself as the source, is broken."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["chain"]\n'
        "include_external_packages = true\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "chain may not use web3"\n'
        'type = "forbidden"\n'
        'source_modules = ["chain.client"]\n'
        'forbidden_modules = ["web3"]\n'
    )
    res = _lint("--config", str(config))
    assert res.returncode == 1 and "chain.client -> web3" in res.stdout, res.stdout + res.stderr
