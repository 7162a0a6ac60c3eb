"""The ``agritrace`` command line: one small module per group of commands.

Importing this package loads only typer and the standard library, so ``agritrace --help``
answers at once; each command imports what it needs (web3, SQLModel, FastAPI ...) when it runs.
Configuration errors end with one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

# each module registers its commands on ``app`` when imported
from traceability_api.cli import (  # noqa: F401
    anchor_cmd,
    audit_cmd,
    backup_cmds,
    chain_cmds,
    export_cmd,
    label_cmds,
    national_record_cmd,
    opendata_cmd,
    org_cmds,
    serve_cmds,
    sign_cmds,
    verify_cmd,
)
from traceability_api.cli.common import app, chain_app

__all__ = ["app", "chain_app", "main"]


def main() -> None:  # pragma: no cover
    app(prog_name="agritrace")
