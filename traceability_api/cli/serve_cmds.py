"""``agritrace serve`` and ``agritrace demo``."""

from __future__ import annotations

from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, settings


@app.command()
@clean_errors
def serve(
    demo: Annotated[bool, typer.Option(help="seed realistic demo data on first start")] = False,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API, the consumer site and the anchoring worker."""
    import uvicorn

    from traceability_api.compose import build_service
    from traceability_api.ops.logs import configure_logging

    st = settings(host=host, port=port)
    configure_logging(json_logs=st.log_json)
    if "public_base_url" not in st.model_fields_set:  # links point at this server unless told otherwise
        st = st.model_copy(update={"public_base_url": f"http://{st.host}:{st.port}"})
    service, runtime = build_service(st)
    try:
        if demo:
            from traceability_api.demo import seed_demo
            from traceability_api.demo_guide import guide, load_demo_keys
            from traceability_api.opendata.build import build as build_opendata
            from traceability_api.workspace.demo_invites import invite_lines

            seed_demo(runtime)
            build_opendata(runtime.engine, runtime.settings)  # /opendata has files at once (unchanged: no new rows)
            typer.echo(guide(runtime) + "\n" + invite_lines(runtime, list(load_demo_keys(runtime.settings))))
        else:
            typer.echo(f"AgriTrace on http://{st.host}:{st.port}  (API docs: /docs)")
        uvicorn.run(service, host=st.host, port=st.port, log_level="info", log_config=None)
    finally:
        runtime.close()


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None, port: Annotated[int | None, typer.Option()] = None
) -> None:
    """Same as ``serve --demo``: the embedded service with realistic demo data."""
    serve(demo=True, host=host, port=port)
