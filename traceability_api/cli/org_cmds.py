"""``agritrace create-org``: the first organisation and its admin's API key."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from traceability_api.cli.common import app, clean_errors, fail, settings
from traceability_api.parties.kinds import OrgKind


@app.command("create-org")
@clean_errors
def create_org(
    name: Annotated[str, typer.Option(help="the organisation's name (unique)")],
    kind: Annotated[OrgKind, typer.Option(help="what the organisation does")],
    admin_name: Annotated[str, typer.Option(help="name of its first admin member")] = "admin",
    gln: Annotated[str | None, typer.Option(help="GS1 Global Location Number")] = None,
    address: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an organisation with an admin member; prints the admin's API key and a one-time link
    (expiring) where the admin chooses a username and password for the workspace (/app)."""
    from sqlmodel import Session, select

    from traceability_api.compose import build_runtime
    from traceability_api.parties.kinds import Role
    from traceability_api.parties.models import Organisation, OrganisationCreate
    from traceability_api.parties.service import create_organisation
    from traceability_api.workspace.invites import create_invite, invite_url

    data = OrganisationCreate.model_validate(
        {"name": name, "kind": kind, "admin_name": admin_name, "gln": gln, "address": address}
    )
    runtime = build_runtime(settings(), with_chain=False)
    try:
        with Session(runtime.engine) as session:
            existing = session.exec(select(Organisation).where(Organisation.name == data.name)).first()
            if existing is not None:
                fail(
                    f"organisation {data.name!r} already exists (id {existing.id}, {OrgKind(existing.kind).value}); "
                    "its admin key was printed when it was created and is not stored. Nothing was changed. "
                    "An admin of it can issue new keys with POST /api/v1/members.",
                    1,
                )
            org, issued = create_organisation(session, data)
            st = runtime.settings
            invite = create_invite(session, st, org.id or 0, issued.member.name, Role.admin, issued.member.id)
            out = {"organisation_id": org.id, "name": org.name, "kind": org.kind.value, "api_key": issued.api_key,
                   "admin_invite_url": invite_url(st, invite)}  # fmt: skip
            session.commit()
        typer.echo(json.dumps(out))
        typer.secho(
            "keep this API key now: it is shown only once; open admin_invite_url to sign in to the workspace",
            err=True, fg=typer.colors.YELLOW,
        )  # fmt: skip
    finally:
        runtime.close()
