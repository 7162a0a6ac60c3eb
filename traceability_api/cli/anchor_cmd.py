"""``agritrace anchor``: the anchoring worker in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, progress, settings, summary


@app.command()
@clean_errors
def anchor(once: Annotated[bool, typer.Option(help="one pass (resume + one batch), then exit")] = True) -> None:
    """Run the anchoring worker in the foreground."""
    import time

    from sqlmodel import Session, func, select

    from traceability_api.anchoring.models import AnchorItem
    from traceability_api.anchoring.worker import make_worker
    from traceability_api.compose import build_runtime

    runtime = build_runtime(settings())
    try:
        assert runtime.chain is not None
        worker = make_worker(runtime.engine, runtime.chain, runtime.settings)
        total = 0
        while True:
            with Session(runtime.engine) as s:
                waiting = s.exec(select(func.count()).where(AnchorItem.batch_id.is_(None))).one()  # type: ignore[union-attr]
            with progress("anchor") as bar:
                bar("pending records", 0, waiting)
                n = worker.run_once(force=True)
                bar("pending records", n, max(waiting, n))
            total += n
            typer.echo(f"anchored {n} items")
            if once:
                break
            time.sleep(runtime.settings.anchor_interval_s)
        summary(
            "anchor", {"anchored": total, "chain": runtime.chain.rpc_url, "contract": runtime.chain.contract.address}
        )
    finally:
        runtime.close()
