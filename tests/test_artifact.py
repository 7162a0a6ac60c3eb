"""The committed contract artifact is what the pinned compiler makes of the current sources."""

from __future__ import annotations

import pytest

from chain.compile import SOLC_VERSION, collect_sources, compile_contract, load_artifact, sources_hash

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]  # compiles the contract


def test_artifact_matches_sources_and_compiler() -> None:
    committed = load_artifact()
    assert committed["sourcesSha256"] == sources_hash(collect_sources()), (
        "contracts changed: run `agritrace chain compile` and commit chain/artifacts"
    )
    assert committed["compiler"]["version"].startswith(SOLC_VERSION + "+commit.")
    fresh = compile_contract()
    assert fresh["bytecode"] == committed["bytecode"]
    assert fresh["abi"] == committed["abi"]
