"""``agritrace chain status`` and ``agritrace chain compile``."""

from __future__ import annotations

import json

import typer

from traceability_api.cli.common import chain_app, clean_errors, settings


@chain_app.command("status")
@clean_errors
def chain_status() -> None:
    """Start or connect to the configured chain and print the contract in use."""
    from traceability_api.runtime import build_runtime

    runtime = build_runtime(settings())
    try:
        assert runtime.chain is not None
        rt = runtime.chain
        typer.echo(
            json.dumps(
                {
                    "rpc_url": rt.rpc_url,
                    "chain_id": rt.chain_id,
                    "contract_address": rt.contract.address,
                    "anchorer": rt.account.address,
                    "anchorer_has_role": rt.contract.is_anchorer(rt.account.address),
                    "block_number": int(rt.contract.w3.eth.block_number),
                },
                indent=2,
            )
        )
    finally:
        runtime.close()


@chain_app.command("compile")
@clean_errors
def chain_compile() -> None:
    """Recompile contracts/AgriTraceAnchor.sol and rewrite the committed artifact."""
    from chain.compile import ARTIFACT_PATH, write_artifact

    art = write_artifact()
    typer.echo(f"wrote {ARTIFACT_PATH} with solc {art['compiler']['version']}")
