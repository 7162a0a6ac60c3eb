"""``agritrace anchor``: the anchoring worker in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, progress, settings, summary


@app.command()
@clean_errors
def anchor(
    once: Annotated[
        bool, typer.Option(help="one pass (resume + one batch), then exit; --no-once: run until Ctrl-C")
    ] = True,
) -> None:
    """Run the anchoring worker in the foreground.  With ``--no-once`` it anchors as the service's
    worker does (as soon as events wait, at most ``AGRITRACE_ANCHOR_MAX_DELAY_S`` later) and
    prints a line only for passes that anchored something."""
    from sqlmodel import Session, func, select

    from traceability_api.anchoring.models import AnchorItem
    from traceability_api.anchoring.worker import WorkerLoop, make_worker
    from traceability_api.compose import build_runtime

    runtime = build_runtime(settings())
    try:
        assert runtime.chain is not None
        worker = make_worker(runtime.engine, runtime.chain, runtime.settings)
        total = 0
        if once:
            with Session(runtime.engine) as s:
                waiting = s.exec(select(func.count()).where(AnchorItem.batch_id.is_(None))).one()  # type: ignore[union-attr]
            with progress("anchor") as bar:
                bar("pending records", 0, waiting)
                total = worker.run_once(force=True)
                bar("pending records", total, max(waiting, total))
            typer.echo(f"anchored {total} items")
        else:

            def anchored(n: int) -> None:
                nonlocal total
                total += n
                typer.echo(f"anchored {n} items ({total} in all)")

            loop = WorkerLoop(worker, on_pass=anchored)
            try:
                loop.run()
            except KeyboardInterrupt:
                loop.stop()
        summary(
            "anchor", {"anchored": total, "chain": runtime.chain.rpc_url, "contract": runtime.chain.contract.address}
        )
    finally:
        runtime.close()
