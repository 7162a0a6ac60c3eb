"""A non-public event in a bundle: its hash ID's proof, and the revealed fields against its
anchored disclosure commitment (consensus/disclosure.py, docs/selective-disclosure.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from traceability_api.consensus import disclosure
from traceability_api.consensus.proofs import leaf_of_digest_hex, leaf_of_hash_id

ProofCheck = Callable[[str, bytes, dict[str, Any]], "int | None"]


class Reporter(Protocol):
    def add(self, status: str, text: str) -> None: ...


def check_hidden(rep: Reporter, i: int, entry: dict[str, Any], check_proof: ProofCheck) -> int | None:
    """Adds the lines of a non-public event; returns its anchoring time if its hash's proof verifies."""
    hash_id = str(entry.get("hashId", ""))
    label = f"event {i} ({entry.get('visibility', 'private')} step recorded by {entry.get('recordedBy', '?')})"
    try:
        leaf = leaf_of_hash_id(hash_id)
    except ValueError:
        rep.add("FAIL", f"{label}: {hash_id[:40]!r} is not a CBV 2.0 hash ID")
        return None
    rep.add("NOTE", f"{label}: content not public; its hash ID is checked against the chain, not recomputed")
    at = check_proof(label, leaf, entry)
    d = entry.get("disclosure")
    if not isinstance(d, dict):
        rep.add("FAIL", f"{label}: disclosure is not an object")
        return at
    try:
        digest = disclosure.commitment_digest(hash_id, str(d.get("root", "")))
    except ValueError:
        rep.add("FAIL", f"{label}: disclosure root is not a 32-byte hex value")
        return at
    if "0x" + digest != d.get("digest"):
        rep.add("FAIL", f"{label}: disclosure digest is not that of its root and hash ID")
        return at
    revealed = d.get("revealed", [])
    problems = disclosure.check_revealed(str(d["root"]), revealed if isinstance(revealed, list) else [None])
    for problem in problems:
        rep.add("FAIL", f"{label}: {problem}")
    if not problems:
        paths = ", ".join(str(r.get("path")) for r in revealed)
        rep.add("OK", f"{label}: revealed fields match the commitment ({paths or 'none'})")
    check_proof(f"{label} disclosure commitment", leaf_of_digest_hex(digest), d)
    return at
