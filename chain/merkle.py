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

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sha3 import keccak_256  # safe-pysha3: C Keccak-256, ~7x less overhead per call than eth_hash

_V = TypeVar("_V", bytes, str)
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
    """A built tree: ``nodes`` in OpenZeppelin's array layout, ``positions[leaf] = node index``.

    One proof is read off the array on demand (:meth:`proof`); every proof at once is built
    level by level from the root down, each node's path being its sibling plus its parent's path
    (:meth:`hex_proofs`, :meth:`proofs`), so no path is walked twice."""

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
        return self._all_paths(self.nodes)

    def hex_proofs(self) -> dict[bytes, list[str]]:
        """Every leaf's proof as hex strings (the form stored per anchored item)."""
        return self._all_paths([x.hex() for x in self.nodes])

    def _all_paths(self, values: list[_V]) -> dict[bytes, list[_V]]:
        with _no_gc():
            return self._paths(values)

    def _paths(self, values: list[_V]) -> dict[bytes, list[_V]]:
        nodes = self.nodes
        size = len(nodes)
        first_leaf = size - len(self.positions)
        out: dict[bytes, list[_V]] = {nodes[0]: []} if size == 1 else {}
        parent: list[tuple[_V, ...]] = [()]  # paths of the level above, from index parent_lo
        parent_lo, lo = 0, 1
        while lo < size:  # one level: indices lo .. 2*lo (the last one may be partial)
            hi = min(2 * lo, size - 1)
            # sibling of i: i+1 for odd i (a left child), i-1 for even i; parent (i-1)//2
            level = [(values[((i - 1) ^ 1) + 1],) + parent[(i - 1) // 2 - parent_lo] for i in range(lo, hi + 1)]
            if hi >= first_leaf:
                start = max(lo, first_leaf)
                out.update(zip(nodes[start : hi + 1], map(list, level[start - lo :]), strict=True))
            parent, parent_lo, lo = level, lo, 2 * lo + 1
        return out


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic lists and tuples are made:
    otherwise it rescans them again and again (2-3x the time of 1M proofs).  Nothing made here
    can form a cycle, so nothing is left for it to find."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def leaves_of_digests(digests: Sequence[bytes]) -> list[bytes]:
    """:func:`leaf_of_digest` of many digests at once."""
    if any(len(d) != 32 for d in digests):
        raise ValueError("a leaf value must be 32 bytes")
    return [keccak_256(keccak_256(d).digest()).digest() for d in digests]


def build(leaves: Sequence[bytes], *, sort_leaves: bool = True) -> MerkleTree:
    """Build the tree of ``leaves`` (already leaf hashes).  Duplicate leaves are refused.

    Level by level from the deepest: the inner nodes of one depth are one list comprehension
    over their children's slice (node ``i`` has children ``2i+1`` and ``2i+2``)."""
    if not leaves:
        raise ValueError("cannot build a Merkle tree of no leaves")
    ordered = sorted(leaves) if sort_leaves else list(leaves)
    if any(len(leaf) != 32 for leaf in ordered):
        raise ValueError("leaves must be 32-byte hashes")
    n = len(ordered)
    size = 2 * n - 1
    positions = dict(zip(ordered, range(size - 1, n - 2, -1), strict=True))  # leaf i at size-1-i
    if len(positions) != n:
        raise ValueError("duplicate leaves in one tree")
    ordered.reverse()
    nodes: list[bytes] = [b""] * (n - 1) + ordered
    with _no_gc():
        _fill_inner(nodes, n)
    return MerkleTree(nodes=nodes, positions=positions)


def _fill_inner(nodes: list[bytes], n: int) -> None:
    k = keccak_256
    depth_lo = 1 << ((n - 1).bit_length() - 1) if n > 1 else 0  # first index of the deepest inner depth, + 1
    while depth_lo:
        lo = depth_lo - 1
        hi = min(2 * lo, n - 2)
        kids = nodes[2 * lo + 1 : 2 * hi + 3]
        nodes[lo : hi + 1] = [
            k(a + b).digest() if a < b else k(b + a).digest() for a, b in zip(kids[::2], kids[1::2], strict=True)
        ]
        depth_lo >>= 1
