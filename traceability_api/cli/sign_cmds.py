"""``agritrace sign`` (sign an EPCIS document with a local keystore) and ``agritrace keys new``
(make that keystore): an organisation's own key never leaves its machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, fail

keys_app = typer.Typer(no_args_is_help=True, help="Signing keys kept on this machine")
app.add_typer(keys_app, name="keys")
PASSWORD_ENV = "AGRITRACE_SIGNING_PASSWORD"


def _password(confirm: bool) -> str:
    pw = os.environ.get(PASSWORD_ENV)
    if pw:
        return pw
    value: str = typer.prompt("keystore password", hide_input=True, confirmation_prompt=confirm)
    return value


@keys_app.command("new")
@clean_errors
def keys_new(
    out: Annotated[Path, typer.Option(help="keystore file to create (scrypt-encrypted, mode 0600)")],
) -> None:
    """Create a signing key in an encrypted keystore; prints its address (give it to the authority)."""
    from chain.keys import create_keystore

    acct = create_keystore(out, _password(confirm=True))
    typer.echo(acct.address)


@app.command("sign")
@clean_errors
def sign(
    document: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="EPCIS 2.0 JSON document or event")],
    keystore: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="keystore from `agritrace keys new`")],
    domain: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="GET /api/v1/signing/domain answer")],
    out: Annotated[Path | None, typer.Option(help="signed document (default: standard output)")] = None,
) -> None:
    """Add an agri:signature (EIP-712 over each event's CBV 2.0 hash ID) to every event.

    The password comes from AGRITRACE_SIGNING_PASSWORD or a prompt."""
    from chain.keys import load_keystore
    from traceability_api.limits import parse_json_bounded
    from traceability_api.signing.document import domain_of, sign_document

    try:
        doc = parse_json_bounded(document.read_bytes(), max_bytes=2**30, max_depth=64)
        dom = domain_of(json.loads(domain.read_text()))
    except (OSError, ValueError) as exc:
        fail(f"cannot read input: {exc}")
    account = load_keystore(keystore, _password(confirm=False))
    signed = sign_document(doc, account, dom)
    text = json.dumps(signed, ensure_ascii=False, indent=1)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        n = len(signed.get("epcisBody", {}).get("eventList", [])) if "epcisBody" in signed else 1
        typer.secho(f"signed {n} event(s) as {account.address} for {dom.org_ref}", err=True)
