"""The demo's way in for people: a one-time workspace invitation per demo organisation admin who has
not chosen a sign-in yet (printed by ``agritrace demo`` after the guide; a new link each start until used)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traceability_api.runtime import Runtime


def demo_invites(runtime: Runtime, org_names: list[str]) -> list[tuple[str, str]]:
    """(organisation, one-time link) for each demo organisation whose admin has not chosen a workspace
    sign-in yet: a new invitation each time the demo starts, until it is used."""
    from sqlmodel import Session, select

    from traceability_api.parties.kinds import Role
    from traceability_api.parties.models import Member, Organisation
    from traceability_api.workspace.invites import create_invite, invite_url
    from traceability_api.workspace.models import WorkspaceLogin

    out = []
    with Session(runtime.engine) as s:
        for label in org_names:
            name = label.rsplit(" (", 1)[0]  # the guide's labels read "name (kind)"
            org = s.exec(select(Organisation).where(Organisation.name == name)).first()
            if org is None:
                continue
            admin = s.exec(
                select(Member).where(Member.org_id == org.id, Member.role == Role.admin, Member.active)
                .order_by(Member.id)  # type: ignore[arg-type]
            ).first()  # fmt: skip
            if admin is None or s.exec(select(WorkspaceLogin).where(WorkspaceLogin.member_id == admin.id)).first():
                continue
            token = create_invite(s, runtime.settings, org.id or 0, admin.name, Role.admin, admin.id)
            out.append((label, invite_url(runtime.settings, token)))
        s.commit()
    return out


def invite_lines(runtime: Runtime, org_names: list[str]) -> str:
    invites = demo_invites(runtime, org_names)
    if not invites:
        return ""
    base = runtime.settings.public_base_url
    lines = ["Workspace for people (phone-first, Vietnamese): open a link once to choose a username and a",
             f"password for that organisation's admin, then sign in at {base}/app/login"]  # fmt: skip
    lines += [f"  {org}: {url}" for org, url in invites]
    return "\n".join(lines) + "\n"
