"""Where capture meets event signatures, kept to two calls so capture stays small.

The envelope (``agri:signature``) is taken out of an event before it is hashed: a signature is
over the hash ID, so it cannot be part of it.  The gate that checks it (``signing/gate.py``) is one
of the runtime's capture checks, found here by duck typing so that ``events`` imports nothing of
``signing``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlmodel import Session

from traceability_api.consensus.signatures import SIGNATURE_FIELD
from traceability_api.errors import Invalid
from traceability_api.parties.service import Principal


class SignatureGate(Protocol):
    def envelope_for(self, session: Session, p: Principal, hash_id: str, envelope: Any) -> dict[str, Any] | None:
        """The envelope to store with the event (verified, or made by a custodial key), None for
        an unsigned event that may stay unsigned; raises Invalid for a forged or unusable one."""


def split_envelope(event: dict[str, Any]) -> Any:
    """Remove and return the event's signature envelope (None if it has none)."""
    return event.pop(SIGNATURE_FIELD, None)


def envelope_for(checks: Sequence[Any], session: Session, p: Principal, hash_id: str, envelope: Any) -> Any:
    for check in checks:
        gate = getattr(check, "envelope_for", None)
        if gate is not None:
            return gate(session, p, hash_id, envelope)
    if envelope is not None:
        raise Invalid(f"{SIGNATURE_FIELD} cannot be checked: this service runs without a chain and key registry")
    return None
