"""The signature part of an event's entry in proofs and bundles: the envelope as stored, and who
signed it in words ("signed by AgriTrace on behalf of X" for a custodial key)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from traceability_api.events.models import Event
from traceability_api.parties.models import Organisation


def org_names(session: Session, events: Iterable[Event]) -> dict[int, str]:
    ids = {e.org_id for e in events if e.signature}
    if not ids:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))  # type: ignore[union-attr, call-overload]
    return {i: n for i, n in rows if i is not None}


def signature_json(event: Event, names: dict[int, str]) -> dict[str, Any]:
    env = event.signature
    if not env:
        return {}
    name = names.get(event.org_id, env.get("org", "?"))
    who = f"signed by AgriTrace on behalf of {name}" if env.get("custodial") else f"signed by {name}"
    return {"signature": env, "signedBy": who}
