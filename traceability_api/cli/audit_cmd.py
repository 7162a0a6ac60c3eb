"""``agritrace audit``: every stored record recomputed against the anchored roots."""

from __future__ import annotations

import typer

from traceability_api.cli.common import app, clean_errors, progress, read_only_runtime, settings, summary


@app.command()
@clean_errors
def audit() -> None:
    """Recompute every stored record's hash and proof against the anchored roots on chain
    (read-only: works while the service runs, no key password)."""
    from traceability_api.audit.service import audit as run_audit

    runtime = read_only_runtime(settings())
    try:
        with progress("audit") as bar:
            rep = run_audit(runtime.engine, runtime.chain.contract if runtime.chain else None, progress=bar)
    finally:
        runtime.close()
    for problem in rep.problems:
        typer.echo(f"TAMPERED  {problem}")
    typer.echo(
        f"audited {rep.events} events and {rep.corrections} error declarations: "
        f"{len(rep.problems)} problems, {rep.pending} not anchored yet"
    )
    summary(
        "audit " + ("passed" if rep.ok else "FAILED"),
        {
            "events": rep.events,
            "error declarations": rep.corrections,
            "audit-log entries": rep.write_log_entries,
            "open-data files": rep.opendata_files,
            "not anchored yet": rep.pending,
            "problems": len(rep.problems),
        },
        ok=rep.ok,
    )
    raise typer.Exit(0 if rep.ok else 1)
