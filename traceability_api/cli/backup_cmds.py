"""``agritrace backup`` and ``agritrace restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, settings, summary


@app.command()
@clean_errors
def backup(dest: Annotated[Path, typer.Argument(help="a new directory for the backup")]) -> None:
    """Back up the database (PostgreSQL: pg_dump; SQLite: online backup) and the data directory
    (keystore, secrets, attachments, embedded chain state) while the service runs."""
    from traceability_api.ops.backup import backup as run_backup

    manifest = run_backup(settings(), dest, progress=lambda step: typer.echo(f"backup: {step}", err=True))
    summary("backup written", {"directory": dest, "database": manifest["backend"], "files": len(manifest["files"])})


@app.command()
@clean_errors
def restore(src: Annotated[Path, typer.Argument(help="a directory written by agritrace backup")]) -> None:
    """Restore a backup into an empty database (DATABASE_URL) and an empty data directory
    (AGRITRACE_DATA_DIR); then start the service, and check with ``agritrace audit``."""
    from traceability_api.ops.backup import restore as run_restore

    manifest = run_restore(settings(), src, progress=lambda step: typer.echo(f"restore: {step}", err=True))
    summary("restored", {"from": src, "taken at": manifest["created_at"], "files": len(manifest["files"])})
