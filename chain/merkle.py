"""Merkle trees and proofs compatible with OpenZeppelin ``MerkleProof.sol`` and its JS
``@openzeppelin/merkle-tree`` (``StandardMerkleTree`` with a ``bytes32`` leaf encoding).

CONSENSUS-CRITICAL: every byte here decides whether a proof verifies on chain and in
independent verifiers.  Change nothing without the vector tests (tests/test_merkle.py).

Rules
-----
* Leaf of an event: ``keccak256(keccak256(abi.encode(bytes32 digest)))`` where ``digest`` is the
  32-byte SHA-256 of the event's CBV 2.0 hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``).  Since
  ``abi.encode(bytes32)`` is the 32 bytes themselves, this is ``keccak(keccak(digest))``.  The
  double hash keeps a leaf from ever equalling an inner node (second pre-image defence).
* Inner node: ``keccak256(min(a, b) ‖ max(a, b))`` (sorted pair, so proofs carry no directions).
* Layout: OpenZeppelin's complete binary tree in an array of ``2n-1`` nodes; leaves sorted by
  hash and placed from the end (``tree[len-1-i]``); node ``i`` has children ``2i+1`` and ``2i+2``.
  A single leaf is its own root.  A proof lists sibling hashes from the leaf upwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sha3 import keccak_256  # safe-pysha3: C Keccak-256, ~7x less overhead per call than eth_hash

PROOF_FORMAT = "agritrace-merkle-v1"  # sorted-pair keccak256, OZ standard tree, bytes32 leaves


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()  # type: ignore[no-any-return]


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def digest_of_hash_id(hash_id: str) -> bytes:
    """32-byte SHA-256 digest inside a ``ni:///sha-256;<hex>?ver=CBV2.0`` event hash ID."""
    prefix = "ni:///sha-256;"
    if not hash_id.startswith(prefix):
        raise ValueError(f"not a sha-256 ni: hash ID: {hash_id!r}")
    hex_part = hash_id[len(prefix) :].split("?", 1)[0]
    digest = bytes.fromhex(hex_part)
    if len(digest) != 32:
        raise ValueError(f"hash ID digest is {len(digest)} bytes, expected 32")
    return digest


def leaf_of_digest(digest: bytes) -> bytes:
    if len(digest) != 32:
        raise ValueError("a leaf value must be 32 bytes")
    return keccak(keccak(digest))


def leaf_of_hash_id(hash_id: str) -> bytes:
    return leaf_of_digest(digest_of_hash_id(hash_id))


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    return process_proof(leaf, proof) == root


@dataclass(frozen=True)
class MerkleTree:
    """A built tree: ``nodes`` in OpenZeppelin's array layout, ``positions[leaf] = node index``."""

    nodes: list[bytes]
    positions: dict[bytes, int]

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    def proof(self, leaf: bytes) -> list[bytes]:
        i = self.positions[leaf]
        nodes = self.nodes
        path = []
        while i > 0:
            path.append(nodes[i + 1] if i % 2 else nodes[i - 1])
            i = (i - 1) // 2
        return path

    def proofs(self) -> dict[bytes, list[bytes]]:
        return {leaf: self.proof(leaf) for leaf in self.positions}


def build(leaves: Sequence[bytes], *, sort_leaves: bool = True) -> MerkleTree:
    """Build the tree of ``leaves`` (already leaf hashes).  Duplicate leaves are refused."""
    if not leaves:
        raise ValueError("cannot build a Merkle tree of no leaves")
    ordered = sorted(leaves) if sort_leaves else list(leaves)
    n = len(ordered)
    size = 2 * n - 1
    nodes: list[bytes] = [b""] * size
    positions: dict[bytes, int] = {}
    for i, leaf in enumerate(ordered):
        if len(leaf) != 32:
            raise ValueError("leaves must be 32-byte hashes")
        pos = size - 1 - i
        nodes[pos] = leaf
        positions[leaf] = pos
    if len(positions) != n:
        raise ValueError("duplicate leaves in one tree")
    for i in range(size - 1 - n, -1, -1):
        nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
    return MerkleTree(nodes=nodes, positions=positions)
