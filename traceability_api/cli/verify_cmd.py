"""``agritrace verify``: a proof bundle against the chain, with no AgriTrace database or server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors

MAX_BUNDLE_BYTES = 2**31  # a bundle larger than this is refused before it is read


def read_bundle(path: Path) -> bytes:
    """The file's bytes, at most ``MAX_BUNDLE_BYTES``: a larger file is refused by its size before
    any of it is read, a pipe or device (no size) read no further than the limit (the whole file was
    read first: /dev/zero, or a file of many gigabytes, ran the machine out of memory)."""
    from traceability_api.errors import ConfigError

    limit = f"{MAX_BUNDLE_BYTES:,} bytes"
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise ConfigError(f"bundle {path} is {path.stat().st_size:,} bytes, larger than a bundle may be ({limit})")
        with path.open("rb") as fh:
            raw = fh.read(MAX_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read bundle {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BUNDLE_BYTES:
        raise ConfigError(f"bundle {path} is larger than a bundle may be ({limit})")
    return raw


@app.command()
@clean_errors
def verify(
    bundle: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="proof bundle JSON")],
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of the chain")],
    contract: Annotated[str | None, typer.Option(help="anchor contract (default: from the bundle)")] = None,
    require_signatures: Annotated[bool, typer.Option(help="an unsigned event fails (default: noted)")] = False,
) -> None:
    """Verify a lot's proof bundle against the chain, without AgriTrace's database or server.

    Exit code 0: every record verified; 1: a record fails; 3: some records are not anchored yet."""
    from chain.client import AnchorContract, connect
    from traceability_api.errors import ConfigError
    from traceability_api.limits import parse_json_bounded, sane_recursion_limit
    from traceability_api.verifier import verify_bundle
    from traceability_api.verifier.shape import member

    sane_recursion_limit()  # web3 was just imported: a hostile bundle must not overflow the C stack
    try:
        data = parse_json_bounded(read_bundle(bundle), max_bytes=MAX_BUNDLE_BYTES, max_depth=64)
    except ValueError as exc:
        raise ConfigError(f"cannot read bundle {bundle}: {exc}") from exc
    if not isinstance(data, dict):
        kind = {"list": "array", "str": "string", "int": "number", "float": "number", "bool": "boolean"}
        raise ConfigError(f"{bundle} is not a proof bundle: it holds a JSON {kind.get(type(data).__name__, 'null')},"
                          " not an object")  # fmt: skip
    address = contract or member(data, "chain", "contractAddress")
    if not address:
        raise ConfigError("the bundle names no contract; pass --contract")
    if not isinstance(address, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        raise ConfigError(f"contract address {str(address)[:60]!r} is not 0x followed by 40 hex digits")
    rep = verify_bundle(data, AnchorContract(connect(rpc), address), require_signatures=require_signatures)
    lot = member(data, "lot", "uri") or "?"
    typer.echo(f"Proof bundle for {lot} on chain {member(data, 'chain', 'chainId')} contract {address}")
    for line in rep.lines:
        typer.echo("  " + line)
    verdict = "VERIFIED" if rep.exit_code == 0 else ("NOT VERIFIED" if rep.failed else "PARTLY PENDING")
    typer.echo(f"{verdict}: {rep.ok} verified, {rep.pending} pending, {rep.failed} failed")
    raise typer.Exit(rep.exit_code)
