"""Leaves, proof checks and the proof-bundle format: what decides whether a record verifies.

CONSENSUS-CRITICAL: the leaf and tree rules are those of ``chain.merkle`` (OpenZeppelin
``MerkleProof``); a bundle is plain data with a format name and version.  Used alike by the
service (proof pages, audit) and by the independent verifier.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from chain import merkle
from traceability_api.consensus.event_hash import hash_id_of_event
from traceability_api.consensus.records import canonical_json

BUNDLE_FORMAT = "agritrace-proof-bundle"
BUNDLE_VERSION = 3  # 3: a non-public event carries its disclosure commitment instead of its content
# 2: events may carry their signature envelope ("signature"); 1 and 2 are still verified
READABLE_VERSIONS = (1, 2, 3)
CONVENTIONS = {
    "eventHash": "GS1 CBV 2.0 event hash ID (ni:///sha-256;<hex>?ver=CBV2.0) of the event as given, with the"
    " prefixes of its own @context",
    "hashRule": "2: CBV 2.0 section 8.9 as written; 1 (events captured before it): only gs1/cbv/epcis/cbvmda CURIEs"
    " expanded in values, a bare sensor component hashed as written; absent = 1",
    "leaf": "keccak256(keccak256(sha256 digest of the event hash ID)): OZ StandardMerkleTree leaf of a bytes32",
    "correctionLeaf": "keccak256(keccak256(sha256('errorDeclaration\\n' + eventHashId + '\\n' + canonical JSON)))",
    "tree": "OpenZeppelin MerkleProof: sorted-pair keccak256; the contract's verify(proof, root, leaf)",
    "disclosure": "a non-public event has no 'event', only its hash ID and proof, and 'disclosure': revealed"
    " fields [salt, JSON pointer, value], each sha256(canonical JSON) a leaf (chain.merkle rules) of the commitment"
    " root; the anchored leaf is that of sha256('agritrace-disclosure\\n' + eventHashId + '\\n' + hex root)"
    " (docs/selective-disclosure.md)",
    "signature": "EIP-712 AgriTraceEvent(string hashId) in domain {name AgriTrace, version 1, chainId,"
    " verifyingContract, salt keccak256(org ref)}; the signer must be a key of the org in the contract's key"
    " registry at the anchoring block time (isSignerValidAt)",
}


def leaf_of_digest_hex(digest: str) -> bytes:
    """The Merkle leaf of a record whose anchored digest is the 32-byte hex ``digest``."""
    return merkle.leaf_of_digest(bytes.fromhex(digest))


def leaf_of_hash_id(hash_id: str) -> bytes:
    return merkle.leaf_of_hash_id(hash_id)


def _bytes(h: str) -> bytes:
    return bytes.fromhex(h[2:] if h.startswith("0x") else h)


def proof_leads_to(leaf: bytes, proof: Sequence[str], root: str) -> bool:
    """Whether the hex ``proof`` (siblings from the leaf up, with or without ``0x``) leads from
    ``leaf`` to the hex ``root``."""
    return merkle.process_proof(leaf, [_bytes(p) for p in proof]) == _bytes(root)


def hash_of_document(document: dict[str, Any], rule: int) -> str:
    """The CBV 2.0 hash ID of a stored JSON-LD event under hash ``rule`` (the one it was captured
    with), with the prefixes of its own context."""
    return hash_id_of_event(document, rule)


@lru_cache(maxsize=200_000)
def hash_of_serialised(serialised: str, rule: int) -> str:
    """Memoised on the exact text: an edited document is a different key, hashed afresh."""
    try:
        document = json.loads(serialised)
    except ValueError:
        return "unparseable"
    return hash_of_document(document, rule) if isinstance(document, dict) else "not an object"


def recompute_hash(document: dict[str, Any], rule: int) -> str:
    """The CBV hash of ``document`` under ``rule``, memoised on its exact serialised content: any
    change to the stored document changes the key, so an edited row is always hashed afresh."""
    return hash_of_serialised(canonical_json(document, ascii_only=False), rule)
