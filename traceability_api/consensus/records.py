"""Digests of the records we anchor, and the one canonical JSON they are computed over.

CONSENSUS-CRITICAL: each digest here is stored, anchored on chain as a Merkle leaf and recomputed
by the audit and by independent verifiers.  The byte rules are fixed:

* canonical JSON: ``json.dumps(obj, sort_keys=True, separators=(",", ":"))`` (compact, key-sorted);
  ``ensure_ascii`` is part of each record's rule (errorDeclarations keep UTF-8, write-log entries
  and sensor batches escape to ASCII), so it is a required argument.
* event: the SHA-256 inside its CBV 2.0 hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``).
* errorDeclaration: ``sha256("errorDeclaration\\n" + eventHashId + "\\n" + canonical JSON (UTF-8))``.
* write-log entry: ``sha256(canonical JSON (ASCII) of {at, org, member, method, path, status})``.
* sensor readings: ``sha256`` over ``"<UTC ISO time>|<value repr>\\n"`` lines in time order.
* open-data file: ``sha256`` of the file's exact bytes as downloaded (the catalogue's ``spdx:checksum``),
  so a reuser checks a download with any SHA-256 tool before checking its Merkle proof.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chain import merkle


def canonical_json(obj: Any, *, ascii_only: bool) -> str:
    """Compact, key-sorted JSON: the one serialisation every digest and signature is taken over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)


def event_digest(hash_id: str) -> str:
    """Hex SHA-256 digest inside an event hash ID; ValueError if it is not a sha-256 ``ni:`` ID."""
    return merkle.digest_of_hash_id(hash_id).hex()


def correction_digest(hash_id: str, declaration: dict[str, Any]) -> str:
    """Digest anchored for an errorDeclaration: binds the declaration to the event's hash."""
    canon = canonical_json(declaration, ascii_only=False)
    return hashlib.sha256(f"errorDeclaration\n{hash_id}\n{canon}".encode()).hexdigest()


def write_log_digest(at: datetime, org: int | None, member: int | None, method: str, path: str, status: int) -> str:
    """Digest anchored for one entry of the write log (who wrote what, when)."""
    body = {"at": at.isoformat(), "org": org, "member": member, "method": method, "path": path, "status": status}
    return hashlib.sha256(canonical_json(body, ascii_only=True).encode()).hexdigest()


def readings_digest(readings: Iterable[tuple[datetime, float]]) -> str:
    """SHA-256 over the readings as "<UTC ISO time>|<value repr>" lines, in time order."""
    h = hashlib.sha256()
    for ts, v in readings:
        h.update(f"{ts.isoformat()}|{v!r}\n".encode())
    return h.hexdigest()


def file_digest(content: bytes) -> str:
    """Digest anchored for a published open-data file: the SHA-256 of its exact bytes."""
    return hashlib.sha256(content).hexdigest()
