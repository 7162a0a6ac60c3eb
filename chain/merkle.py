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
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
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
    """A built tree: ``nodes`` in OpenZeppelin's array layout (the leaves are the last
    ``leaf_count`` of them).

    One proof is read off the array on demand (:meth:`proof`, or :func:`proof_at` on a stored
    array); every proof at once (:meth:`hex_proofs`, :meth:`proofs`) is built a column at a time:
    the ``h``-th element of the proofs of one level is the list of the level's siblings ``h``
    levels up, each repeated for the nodes below it, so no path is walked per leaf."""

    nodes: list[bytes]

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    @property
    def leaf_count(self) -> int:
        return (len(self.nodes) + 1) // 2

    @cached_property
    def positions(self) -> dict[bytes, int]:
        """``positions[leaf]`` = the leaf's node index (built on first use)."""
        size = len(self.nodes)
        first = size - self.leaf_count
        return dict(zip(self.nodes[first:], range(first, size), strict=True))

    def proof(self, leaf: bytes) -> list[bytes]:
        return proof_at(self.nodes, self.positions[leaf])

    def proofs(self) -> dict[bytes, list[bytes]]:
        return self._all_paths(self.nodes)

    def hex_proofs(self) -> dict[bytes, list[str]]:
        """Every leaf's proof as hex strings (the form stored per anchored item)."""
        with _no_gc():
            values = list(map(bytes.hex, self.nodes))  # once per node, not once per proof it is in
        return self._all_paths(values)

    def _all_paths(self, values: list[_V]) -> dict[bytes, list[_V]]:
        with _no_gc():
            return self._paths(values)

    def _paths(self, values: list[_V]) -> dict[bytes, list[_V]]:
        nodes = self.nodes
        size = len(nodes)
        if size == 1:
            return {nodes[0]: []}
        first_leaf = size - self.leaf_count
        out: dict[bytes, list[_V]] = {}
        # cols[h][j]: element h of the proof of node lo+j of the current level (h = 0: its sibling)
        cols: list[list[_V]] = []
        lo = 1
        while lo < size:  # one depth: indices lo .. hi-1; lo = 2**depth - 1 is a left child
            hi = min(2 * lo + 1, size)
            m = hi - lo  # even: children come in pairs
            level = values[lo:hi]
            sib = level[:]
            sib[0::2], sib[1::2] = level[1::2], level[0::2]
            new = [sib]
            for c in cols:  # the parents' columns, one entry per child: parent lo+j has children 2j, 2j+1 here
                half = c[: m // 2]
                twice = [half[0]] * m
                twice[0::2] = twice[1::2] = half
                new.append(twice)
            cols = new
            if hi > first_leaf:
                start = max(lo, first_leaf) - lo
                rows = zip(*(c[start:] if start else c for c in cols), strict=True)
                out.update(zip(nodes[lo + start : hi], map(list, rows), strict=True))
            lo = 2 * lo + 1
        return out


def proof_at(nodes: Sequence[bytes], index: int) -> list[bytes]:
    """The proof of the node at ``index`` of a tree's node array (see :func:`proof_indices`)."""
    return [nodes[i] for i in proof_indices(index)]


def proof_indices(index: int) -> list[int]:
    """Node indices of the proof of node ``index``: its sibling, its parent's sibling, ... up to
    (not including) the root.  Sibling of ``i``: ``i+1`` for odd ``i`` (a left child), ``i-1``
    for even ``i``; parent ``(i-1)//2``."""
    out = []
    i = index
    while i > 0:
        out.append(i + 1 if i % 2 else i - 1)
        i = (i - 1) // 2
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
    if digests and set(map(len, digests)) != {32}:
        raise ValueError("a leaf value must be 32 bytes")
    return [keccak_256(keccak_256(d).digest()).digest() for d in digests]


def build(leaves: Sequence[bytes], *, sort_leaves: bool = True, merge_duplicates: bool = False) -> MerkleTree:
    """Build the tree of ``leaves`` (already leaf hashes).  Duplicate leaves are refused, or with
    ``merge_duplicates`` (sorted leaves only) kept once: a leaf proves its value, not a count.

    Level by level from the deepest: the inner nodes of one depth are one list comprehension
    over their children's slice (node ``i`` has children ``2i+1`` and ``2i+2``)."""
    if not leaves:
        raise ValueError("cannot build a Merkle tree of no leaves")
    if merge_duplicates and not sort_leaves:
        raise ValueError("duplicates are merged only when the leaves are sorted")
    ordered = sorted(leaves) if sort_leaves else list(leaves)
    if set(map(len, ordered)) != {32}:
        raise ValueError("leaves must be 32-byte hashes")
    # sorted: a duplicate sits next to its twin (one C-level pass, no set of a million leaves)
    if any(map(operator.eq, ordered, islice(ordered, 1, None))) if sort_leaves else len(set(ordered)) != len(ordered):
        if not merge_duplicates:
            raise ValueError("duplicate leaves in one tree")
        ordered = [a for a, b in zip(ordered, islice(ordered, 1, None), strict=False) if a != b] + ordered[-1:]
    n = len(ordered)
    ordered.reverse()  # leaf i at node size-1-i
    nodes: list[bytes] = [b""] * (n - 1) + ordered
    with _no_gc():
        _fill_inner(nodes, n)
    return MerkleTree(nodes=nodes)


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
