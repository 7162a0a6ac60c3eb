"""The ``agritrace`` command line.

Configuration errors end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from chain.errors import ChainError
from traceability_api.config import Settings
from traceability_api.errors import AgriTraceError, ConfigError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AgriTrace traceability service")
chain_app = typer.Typer(no_args_is_help=True, help="Chain and contract operations")
app.add_typer(chain_app, name="chain")

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"agritrace: error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def clean_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            _fail(f"bad setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        except (ConfigError, ChainError) as exc:
            _fail(str(exc))
        except AgriTraceError as exc:
            _fail(str(exc), 1)

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
@clean_errors
def serve(
    demo: Annotated[bool, typer.Option(help="seed realistic demo data on first start")] = False,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API, the consumer site and the anchoring worker."""
    import uvicorn

    from traceability_api.service_app import build_service

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(host=host, port=port)
    if "public_base_url" not in settings.model_fields_set:  # links point at this server unless told otherwise
        settings = settings.model_copy(update={"public_base_url": f"http://{settings.host}:{settings.port}"})
    service, runtime = build_service(settings)
    try:
        if demo:
            from traceability_api.demo import seed_demo

            info = seed_demo(runtime)
            typer.echo(f"demo data ready; consumer page: {info['consumer_url']}")
        typer.echo(f"AgriTrace on http://{settings.host}:{settings.port}  (API docs: /docs)")
        uvicorn.run(service, host=settings.host, port=settings.port, log_level="info")
    finally:
        runtime.close()


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None, port: Annotated[int | None, typer.Option()] = None
) -> None:
    """Same as ``serve --demo``: the embedded service with realistic demo data."""
    serve(demo=True, host=host, port=port)


@chain_app.command("status")
@clean_errors
def chain_status() -> None:
    """Start or connect to the configured chain and print the contract in use."""
    from traceability_api.runtime import build_runtime

    runtime = build_runtime(_settings())
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


@app.command("create-org")
@clean_errors
def create_org(
    name: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option()],
    admin_name: Annotated[str, typer.Option()] = "admin",
    gln: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an organisation with an admin member; prints the admin's API key once."""
    from sqlmodel import Session

    from traceability_api.parties.models import OrganisationCreate
    from traceability_api.parties.service import create_organisation
    from traceability_api.runtime import build_runtime

    runtime = build_runtime(_settings(), with_chain=False)
    try:
        data = OrganisationCreate.model_validate(
            {"name": name, "kind": kind, "admin_name": admin_name, "gln": gln, "address": address}
        )
        with Session(runtime.engine) as session:
            org, issued = create_organisation(session, data)
            session.commit()
        typer.echo(json.dumps({"organisation_id": org.id, "api_key": issued.api_key}))
    finally:
        runtime.close()


@app.command()
@clean_errors
def verify(
    bundle: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="proof bundle JSON")],
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of the chain")],
    contract: Annotated[str | None, typer.Option(help="anchor contract (default: from the bundle)")] = None,
) -> None:
    """Verify a lot's proof bundle against the chain, without AgriTrace's database or server.

    Exit code 0: every record verified; 1: a record fails; 3: some records are not anchored yet."""
    from chain.client import AnchorContract, connect
    from traceability_api.anchoring.verify import verify_bundle

    try:
        data = json.loads(bundle.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read bundle {bundle}: {exc}") from exc
    address = contract or data.get("chain", {}).get("contractAddress")
    if not address:
        raise ConfigError("the bundle names no contract; pass --contract")
    rep = verify_bundle(data, AnchorContract(connect(rpc), address))
    lot = data.get("lot", {}).get("uri", "?")
    typer.echo(f"Proof bundle for {lot} on chain {data.get('chain', {}).get('chainId')} contract {address}")
    for line in rep.lines:
        typer.echo("  " + line)
    verdict = "VERIFIED" if rep.exit_code == 0 else ("NOT VERIFIED" if rep.failed else "PARTLY PENDING")
    typer.echo(f"{verdict}: {rep.ok} verified, {rep.pending} pending, {rep.failed} failed")
    raise typer.Exit(rep.exit_code)


@app.command()
@clean_errors
def audit() -> None:
    """Recompute every stored record's hash and proof against the anchored roots on chain."""
    from traceability_api.audit.service import audit as run_audit
    from traceability_api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        rep = run_audit(runtime.engine, runtime.chain.contract if runtime.chain else None)
    finally:
        runtime.close()
    for problem in rep.problems:
        typer.echo(f"TAMPERED  {problem}")
    typer.echo(
        f"audited {rep.events} events and {rep.corrections} error declarations: "
        f"{len(rep.problems)} problems, {rep.pending} not anchored yet"
    )
    raise typer.Exit(0 if rep.ok else 1)


@app.command()
@clean_errors
def anchor(once: Annotated[bool, typer.Option(help="one pass (resume + one batch), then exit")] = True) -> None:
    """Run the anchoring worker in the foreground."""
    import time

    from traceability_api.anchoring.worker import AnchoringWorker
    from traceability_api.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        assert runtime.chain is not None
        worker = AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings)
        while True:
            n = worker.run_once(force=True)
            typer.echo(f"anchored {n} items")
            if once:
                return
            time.sleep(runtime.settings.anchor_interval_s)
    finally:
        runtime.close()


@app.command()
@clean_errors
def labels(
    gtin: Annotated[str, typer.Argument(help="GTIN of the product")],
    lot: Annotated[str, typer.Argument(help="lot code")],
    out: Annotated[Path, typer.Option(help="PDF file to write")] = Path("labels.pdf"),
    copies: Annotated[int, typer.Option(min=1, max=5000)] = 24,
    layout: Annotated[str, typer.Option(help="a4-3x8, a4-2x7, a4-4x10, thermal-60x40, thermal-100x50")] = "a4-3x8",
) -> None:
    """Print lot labels (QR code with the lot's Digital Link) to a PDF.  Serialised labels with
    signed tokens: POST /api/v1/lots/{id}/labels."""
    from sqlmodel import Session

    from labels.digital_link import DigitalLinkError, build
    from labels.pdf import LAYOUTS, LabelData, LabelError, render
    from traceability_api.consumer.labels_router import base_url_warning, label_fields
    from traceability_api.lots.service import find_lot
    from traceability_api.runtime import build_runtime

    if layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    settings = _settings()
    runtime = build_runtime(settings, with_chain=False)
    try:
        with Session(runtime.engine) as s:
            try:
                dl = build(gtin, lot)
            except DigitalLinkError as exc:
                raise ConfigError(str(exc)) from exc
            found = find_lot(s, dl.key, lot)
            if found is None:
                raise ConfigError(f"no lot {lot} of GTIN {dl.key}")
            common, expiry = label_fields(s, *found)
            uri = build(dl.key, lot, expiry=expiry).uri(settings.public_base_url)
        try:
            pdf = render([LabelData(**common, qr_payload=uri)] * copies, LAYOUTS[layout])
        except LabelError as exc:
            raise ConfigError(str(exc)) from exc
        out.write_bytes(pdf)
        typer.echo(f"wrote {copies} labels ({layout}) for {uri} to {out}")
        warning = base_url_warning(settings.public_base_url)
        if warning:
            typer.secho(warning, fg=typer.colors.RED, bold=True, err=True)
    finally:
        runtime.close()


def main() -> None:  # pragma: no cover
    app(prog_name="agritrace")


if __name__ == "__main__":  # pragma: no cover
    main()
