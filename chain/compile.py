"""Compile the anchor contract from source with py-solc-x and the npm ``solc`` compiler.

The compiled artifact is committed (``chain/artifacts/AgriTraceAnchor.json``) together with the
compiler version and a hash of every source file that went in, so that run time never needs a
compiler and a test can prove the artifact is current.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import solcx

from chain.errors import ArtifactError, CompilerError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO_ROOT / "contracts"
NODE_MODULES = REPO_ROOT / ".tools" / "node_modules"
SOLC_WRAPPER = REPO_ROOT / "scripts" / "solc"
ARTIFACT_PATH = Path(__file__).resolve().parent / "artifacts" / "AgriTraceAnchor.json"

CONTRACT_FILE = "AgriTraceAnchor.sol"
CONTRACT_NAME = "AgriTraceAnchor"
SOLC_VERSION = "0.8.28"  # pinned; matches `pragma solidity 0.8.28` and .tools/package.json
EVM_VERSION = "berlin"  # runs on pre-London permissioned networks (no PUSH0 / MCOPY) and every later fork

_IMPORT_RE = re.compile(r'^\s*import\s+(?:[^"\']*from\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)


def _resolve(unit: str, importer: str | None) -> tuple[str, Path]:
    """Map an import path to (source unit name, file on disk)."""
    if unit.startswith("."):
        if importer is None:
            raise CompilerError(f"relative import {unit!r} without an importer")
        unit = str(Path(importer).parent.joinpath(unit)).replace("\\", "/")
        unit = _normalise(unit)
    if unit.startswith("@"):
        return unit, NODE_MODULES / unit
    return unit, CONTRACTS_DIR / unit


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def collect_sources(entry: str = CONTRACT_FILE) -> dict[str, str]:
    """Return every source unit reachable from ``entry`` by imports, keyed by unit name."""
    sources: dict[str, str] = {}
    todo: list[tuple[str, str | None]] = [(entry, None)]
    while todo:
        unit, importer = todo.pop()
        name, path = _resolve(unit, importer)
        if name in sources:
            continue
        if not path.is_file():
            raise CompilerError(f"source {name!r} not found at {path}; run the setup script first")
        text = path.read_text(encoding="utf-8")
        sources[name] = text
        todo.extend((imp, name) for imp in _IMPORT_RE.findall(text))
    return dict(sorted(sources.items()))


def sources_hash(sources: dict[str, str]) -> str:
    """SHA-256 over the sorted (name, content) pairs of the compiler input."""
    digest = hashlib.sha256()
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def compile_contract() -> dict[str, Any]:
    """Compile the anchor contract and return the artifact (abi, bytecode, provenance)."""
    sources = collect_sources()
    std_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": 10_000},
            "evmVersion": EVM_VERSION,
            "outputSelection": {CONTRACT_FILE: {CONTRACT_NAME: ["abi", "evm.bytecode.object"]}},
        },
    }
    try:
        out = solcx.compile_standard(std_input, solc_binary=SOLC_WRAPPER)
    except (solcx.exceptions.SolcError, OSError) as exc:
        raise CompilerError(f"solc failed: {exc}") from exc
    contract = out["contracts"][CONTRACT_FILE][CONTRACT_NAME]
    version = solcx.wrapper.get_version_str_from_solc_binary(SOLC_WRAPPER)
    return {
        "contractName": CONTRACT_NAME,
        "compiler": {"name": "solc", "version": version, "evmVersion": EVM_VERSION, "optimizerRuns": 10_000},
        "sourcesSha256": sources_hash(sources),
        "sources": sorted(sources),
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
    }


def write_artifact(path: Path = ARTIFACT_PATH) -> dict[str, Any]:
    artifact = compile_contract()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return artifact


def load_artifact(path: Path = ARTIFACT_PATH) -> dict[str, Any]:
    """Load the committed artifact; never compiles."""
    try:
        artifact: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"contract artifact unreadable at {path}: {exc}") from exc
    return artifact


if __name__ == "__main__":  # python -m chain.compile
    art = write_artifact()
    print(f"wrote {ARTIFACT_PATH} ({art['compiler']['version']}, sources {art['sourcesSha256'][:12]})")  # noqa: T201
