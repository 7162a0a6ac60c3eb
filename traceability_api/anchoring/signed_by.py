"""The signature part of an event's entry in proofs and bundles: the envelope as stored, and who
signed it in words ("signed by AgriTrace on behalf of X" for a custodial key)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from chain.client import AnchorContract
from chain.registry import KeyRegistry, SignerWindow
from traceability_api.consensus.signatures import SignatureInvalid, parse_envelope, verify_envelope
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


class SignerWindows:
    """Key windows read from the contract's registry, kept ``ttl_s`` seconds (pages verify often)."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._windows: dict[tuple[str, str, str], tuple[float, SignerWindow | None]] = {}
        self._chain_ids: dict[str, int] = {}

    def window(self, contract: AnchorContract, ref: str, signer: str) -> SignerWindow | None:
        key = (contract.address, ref, signer.lower())
        hit = self._windows.get(key)
        if hit is None or time.monotonic() - hit[0] > self.ttl_s:
            hit = (time.monotonic(), KeyRegistry(contract).window(ref, signer))
            self._windows[key] = hit
        return hit[1]

    def chain_id(self, contract: AnchorContract) -> int:
        if contract.address not in self._chain_ids:
            self._chain_ids[contract.address] = contract.chain_id()
        return self._chain_ids[contract.address]


WINDOWS = SignerWindows()


def signature_problem(envelope: Any, hash_id: str, anchored_at: int | None, contract: AnchorContract) -> str | None:
    """What is wrong with a stored event's signature (None: it verifies, and its signer was a key
    of its organisation at the anchoring time, as the chain says)."""
    try:
        env = parse_envelope(envelope)
        verify_envelope(env, hash_id, WINDOWS.chain_id(contract), contract.address)
    except SignatureInvalid as exc:
        return f"signature does not verify ({exc})"
    if anchored_at is None:
        return None
    window = WINDOWS.window(contract, env.org, env.signer)
    if window is None or not window.valid_at(anchored_at):
        return f"signer {env.signer} was not a registered key of {env.org} when anchored"
    if window.custodial != env.custodial:
        return f"the envelope misstates who holds key {env.signer} (custodial: {window.custodial} in the registry)"
    return None
