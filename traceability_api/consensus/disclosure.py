"""Selective disclosure: a salted commitment to an event's fields, anchored beside its hash.

CONSENSUS-CRITICAL: the commitment's digest is anchored on chain as a Merkle leaf and checked by
independent verifiers (``agritrace verify``).  Specification: docs/selective-disclosure.md;
vectors: consensus/vectors/disclosure/.  The byte rules, in the spirit of SD-JWT:

* fields of an event: every member of the event object, by RFC 6901 JSON pointer, recursing into
  JSON objects (an array, a scalar or an empty object is one field's value); ``@context`` and the
  ``agri:signature`` envelope are not fields.
* a disclosure: the JSON array ``[salt, path, value]``; salt = a string (the service uses 128
  random bits, base64url without padding), path = the JSON pointer, value = the field's JSON value.
* field digest: ``sha256(canonical JSON (UTF-8, not ASCII-escaped) of [salt, path, value])``.
* commitment root: the Merkle root (``chain.merkle``: OpenZeppelin rules, leaf
  ``keccak256(keccak256(digest))``, sorted leaves, sorted pairs) of every field digest.
* anchored digest: ``sha256("agritrace-disclosure\\n" + eventHashId + "\\n" + hex root)`` (lower
  case, no ``0x``): the commitment bound to its event, anchored as a leaf like an errorDeclaration.

Imports only the standard library and ``chain.merkle``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chain import merkle
from traceability_api.consensus.records import canonical_json

DISCLOSURE_FORMAT = "agritrace-disclosure-v1"
NOT_FIELDS = ("@context", "agri:signature")
SALT_BYTES = 16
MAX_SALT_CHARS = 64


def escape(token: str) -> str:
    """One reference token of a JSON pointer (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def split_pointer(path: str) -> list[str]:
    """The reference tokens of a JSON pointer; ValueError if it is not one (or is the root)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"not a JSON pointer to a member: {path!r}")
    return [unescape(t) for t in path[1:].split("/")]


def fields_of(event: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every field of ``event`` as (JSON pointer, value), in document order."""
    return list(_walk(event, "", top=True))


def _walk(obj: Mapping[str, Any], prefix: str, *, top: bool) -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        if top and key in NOT_FIELDS:
            continue
        path = f"{prefix}/{escape(str(key))}"
        if isinstance(value, Mapping) and value:
            yield from _walk(value, path, top=False)
        else:
            yield path, value


def new_salt() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(SALT_BYTES)).rstrip(b"=").decode()


def field_digest(salt: str, path: str, value: Any) -> bytes:
    """SHA-256 of the canonical JSON of ``[salt, path, value]``."""
    if not isinstance(salt, str) or not 0 < len(salt) <= MAX_SALT_CHARS:
        raise ValueError(f"a salt is a string of 1 to {MAX_SALT_CHARS} characters")
    split_pointer(path)
    return hashlib.sha256(canonical_json([salt, path, value], ascii_only=False).encode()).digest()


def commitment_digest(hash_id: str, root_hex: str) -> str:
    """Hex digest anchored for a commitment: binds the root to the event's hash ID."""
    root = bytes.fromhex(root_hex.removeprefix("0x"))
    if len(root) != 32:
        raise ValueError("a commitment root is 32 bytes")
    merkle.digest_of_hash_id(hash_id)  # a CBV 2.0 hash ID or ValueError
    return hashlib.sha256(f"agritrace-disclosure\n{hash_id}\n{root.hex()}".encode()).hexdigest()


@dataclass(frozen=True)
class Commitment:
    """The tree of an event's salted field digests."""

    tree: merkle.MerkleTree
    leaves: dict[str, bytes]  # path -> leaf

    @property
    def root_hex(self) -> str:
        return self.tree.root.hex()

    def proof_of(self, path: str) -> list[str]:
        return ["0x" + p.hex() for p in self.tree.proof(self.leaves[path])]


def commit(event: Mapping[str, Any], salts: Mapping[str, str]) -> Commitment:
    """The commitment of ``event`` under ``salts`` (one per field path: KeyError if one is missing)."""
    fields = fields_of(event)
    if not fields:
        raise ValueError("an event with no fields has nothing to commit to")
    leaves = {path: merkle.leaf_of_digest(field_digest(salts[path], path, value)) for path, value in fields}
    return Commitment(merkle.build(list(leaves.values())), leaves)


def salts_for(event: Mapping[str, Any]) -> dict[str, str]:
    """Fresh random salts, one per field of ``event`` (kept secret by whoever commits)."""
    return {path: new_salt() for path, _ in fields_of(event)}


def value_at(event: Mapping[str, Any], path: str) -> Any:
    node: Any = event
    for token in split_pointer(path):
        if not isinstance(node, Mapping) or token not in node:
            raise KeyError(path)
        node = node[token]
    return node


def reveal(event: Mapping[str, Any], salts: Mapping[str, str], paths: Sequence[str]) -> list[dict[str, Any]]:
    """Disclosures of the fields at ``paths`` (those the event has), each with its Merkle proof."""
    c = commit(event, salts)
    out = []
    for path in paths:
        if path not in c.leaves:
            continue
        out.append({"salt": salts[path], "path": path, "value": value_at(event, path), "proof": c.proof_of(path)})
    return out


def check_revealed(root_hex: str, revealed: Sequence[Any]) -> list[str]:
    """Problems with revealed fields against a commitment root (empty: every one verifies)."""
    problems = []
    seen = set()
    for i, d in enumerate(revealed):
        if not isinstance(d, Mapping) or not isinstance(d.get("proof"), list):
            problems.append(f"revealed field {i} is not an object with salt, path, value and proof")
            continue
        path = d.get("path")
        try:
            leaf = merkle.leaf_of_digest(field_digest(d.get("salt"), path, d.get("value")))  # type: ignore[arg-type]
            proof = [bytes.fromhex(str(p).removeprefix("0x")) for p in d["proof"]]
            ok = merkle.process_proof(leaf, proof) == bytes.fromhex(root_hex.removeprefix("0x"))
        except (ValueError, TypeError):
            ok = False
        if not ok:
            problems.append(f"revealed field {path!r} does not match the anchored commitment")
        elif path in seen:
            problems.append(f"revealed field {path!r} is given twice")
        seen.add(path)
    return problems


def redacted(revealed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An object holding only the revealed values, at their paths (for display)."""
    out: dict[str, Any] = {}
    for d in revealed:
        tokens = split_pointer(str(d["path"]))
        node = out
        for t in tokens[:-1]:
            nxt = node.setdefault(t, {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            node[tokens[-1]] = d["value"]
    return out
