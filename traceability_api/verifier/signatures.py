"""Authorship of an event in a proof bundle, checked against the chain: the signature recovers to
its signer for the stated organisation (EIP-712, ``consensus/signatures.py``) and the contract's
key registry says that signer was a key of that organisation at the anchoring block's time, held
by whom the envelope says (the organisation, or AgriTrace for a custodial key)."""

from __future__ import annotations

from typing import Any, Protocol

from chain.client import AnchorContract
from chain.registry import KeyRegistry, SignerWindow
from traceability_api.consensus.signatures import SignatureInvalid, parse_envelope, verify_envelope


class Reporter(Protocol):
    def add(self, status: str, text: str) -> None: ...


def check_signature(
    rep: Reporter, label: str, entry: dict[str, Any], anchored_at: int | None, contract: AnchorContract,
    chain_id: int, *, require: bool, seen: dict[tuple[str, str], SignerWindow | None] | None = None,
) -> None:  # fmt: skip
    """Adds one line for the event's signature (OK, FAIL, PENDING, or NOTE for an unsigned event)."""
    raw = entry.get("signature")
    if raw is None:
        rep.add("FAIL" if require else "NOTE", f"{label}: not signed (authorship rests on AgriTrace's word)")
        return
    try:
        env = parse_envelope(raw)
        verify_envelope(env, str(entry.get("hashId", "")), chain_id, contract.address)
    except SignatureInvalid as exc:
        rep.add("FAIL", f"{label}: signature does not verify: {exc}")
        return
    if anchored_at is None:
        rep.add("PENDING", f"{label}: signature by {env.signer} for {env.org} verifies; key validity awaits anchoring")
        return
    key = (env.org, env.signer.lower())  # one chain call per key, not per event
    seen = {} if seen is None else seen
    if key not in seen:
        seen[key] = KeyRegistry(contract).window(env.org, env.signer)
    window = seen[key]
    if window is None or not window.valid_at(anchored_at):
        why = "is not a key of that organisation in the registry" if window is None else (
            f"was not valid at the anchoring time {anchored_at} (from {window.valid_from} until"
            f" {window.valid_until}{f', revoked at {window.revoked_at}' if window.revoked_at else ''})"
        )  # fmt: skip
        rep.add("FAIL", f"{label}: signer {env.signer} {why} ({env.org})")
        return
    if window.custodial != env.custodial:
        held = "AgriTrace holds" if window.custodial else "the organisation holds"
        rep.add("FAIL", f"{label}: the envelope misstates who holds key {env.signer}: the registry says {held} it")
        return
    on_behalf = " (custodial: AgriTrace signed on the organisation's behalf)" if window.custodial else ""
    rep.add("OK", f"{label}: signed by {env.signer} for {env.org}, a registered key at {anchored_at}{on_behalf}")
