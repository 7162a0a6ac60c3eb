"""The architecture rules of docs/architecture.md, as import-linter contracts in pyproject.toml."""

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
    """Leaf rule, consensus core, verifier, domain layers (no cycles), web3 only in chain/."""
    res = _lint()
    assert res.returncode == 0, res.stdout + res.stderr
    contracts = ("Leaf rule", "consensus core", "independent verifier", "Domain packages", "Only chain/ talks to web3")
    for contract in contracts:
        assert contract in res.stdout
    assert "BROKEN" not in res.stdout


def test_a_broken_rule_is_reported(tmp_path: Path) -> None:
    """The checker does fail: forbid an import the code really makes (events uses lots)."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["traceability_api"]\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "events may not use lots"\n'
        'type = "forbidden"\n'
        'source_modules = ["traceability_api.events"]\n'
        'forbidden_modules = ["traceability_api.lots"]\n'
    )
    res = _lint(str(config))
    assert res.returncode == 1
    assert "BROKEN" in res.stdout and "traceability_api.events" in res.stdout


def test_the_verifier_loads_without_the_service() -> None:
    """`agritrace verify`'s code, imported alone, pulls in no database, web framework or domain."""
    code = (
        "import sys, traceability_api.verifier\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlmodel', 'sqlalchemy', 'fastapi')\n"
        "       or (m.startswith('traceability_api.') and m.split('.')[1] not in ('verifier', 'consensus'))]\n"
        "print(bad)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


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
