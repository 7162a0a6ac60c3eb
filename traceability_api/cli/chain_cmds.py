"""``agritrace chain status`` and ``agritrace chain compile``."""

from __future__ import annotations

import json

import typer

from traceability_api.cli.common import chain_app, clean_errors, read_only_runtime, settings


@chain_app.command("status")
@clean_errors
def chain_status() -> None:
    """Print the chain and contract in use (read-only: works while the service runs, no key password)."""
    from traceability_api.errors import ConfigError

    runtime = read_only_runtime(settings())
    try:
        rt = runtime.chain
        if rt is None:
            raise ConfigError("no anchor contract deployed yet (start the service once)")
        typer.echo(
            json.dumps(
                {
                    "rpc_url": rt.rpc_url,
                    "chain_id": rt.chain_id,
                    "contract_address": rt.contract.address,
                    "anchorer": rt.anchorer,
                    "anchorer_has_role": rt.contract.is_anchorer(rt.anchorer) if rt.anchorer else None,
                    "block_number": rt.contract.block_number(),
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
