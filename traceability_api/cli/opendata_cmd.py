"""``agritrace opendata build``: regenerate the open-data files now."""

from __future__ import annotations

import typer

from traceability_api.cli.common import app, clean_errors, settings

opendata_app = typer.Typer(no_args_is_help=True, help="Open data (DCAT catalogue, datasets)", rich_markup_mode=None)
app.add_typer(opendata_app, name="opendata")


@opendata_app.command("build")
@clean_errors
def build_cmd() -> None:
    """Regenerate every open-data file (CSV and JSON); changed files are queued for anchoring
    (the service's anchoring worker, or `agritrace anchor`, puts them on chain)."""
    from traceability_api.compose import build_runtime
    from traceability_api.opendata.build import build

    runtime = build_runtime(settings(), with_chain=False)
    try:
        rep = build(runtime.engine, runtime.settings)
    finally:
        runtime.close()
    for f in rep.files:
        typer.echo(f"{f['dataset']}.{f['format']}  {f['rows']} rows  {f['size']} bytes  sha256 {f['sha256']}")
    typer.echo(f"{len(rep.files)} files, {rep.changed} changed, {rep.seconds:.2f} s")
