"""Merkle core against OpenZeppelin's own vectors, plus properties."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import merkle
from tests.conftest import VECTORS

VECTORS = json.loads((VECTORS / "merkle" / "openzeppelin-standard-tree-vectors.json").read_text())


@pytest.mark.parametrize("tree", VECTORS, ids=[t["source"] for t in VECTORS])
def test_openzeppelin_vectors(tree: dict) -> None:  # type: ignore[type-arg]
    if tree["format"] == "standard-v1":
        leaves = [keccak(keccak(encode(tree["leafEncoding"], leaf["value"]))) for leaf in tree["leaves"]]
    else:
        leaves = [bytes.fromhex(leaf["value"][2:]) for leaf in tree["leaves"]]
    assert ["0x" + lf.hex() for lf in leaves] == [leaf["leafHash"] for leaf in tree["leaves"]]
    built = merkle.build(leaves, sort_leaves=".sorted." in tree["source"])
    assert "0x" + built.root.hex() == tree["root"]
    for leaf, expected in zip(leaves, tree["leaves"], strict=True):
        proof = built.proof(leaf)
        assert ["0x" + p.hex() for p in proof] == expected["proof"]
        assert merkle.verify(proof, built.root, leaf)


def test_leaf_of_event_hash_is_the_standard_bytes32_leaf() -> None:
    hash_id = "ni:///sha-256;6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7?ver=CBV2.0"
    digest = bytes.fromhex("6ae96341e0acc6d7a261364751f60e68278a81cdf51da0abb6b4e617014e39d7")
    assert merkle.leaf_of_hash_id(hash_id) == keccak(keccak(encode(["bytes32"], [digest])))
    with pytest.raises(ValueError):
        merkle.leaf_of_hash_id("ni:///sha-256;abcd?ver=CBV2.0")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
def test_every_proof_verifies_and_a_wrong_leaf_does_not(leaves: list[bytes]) -> None:
    tree = merkle.build(leaves)
    for leaf in leaves:
        assert merkle.verify(tree.proof(leaf), tree.root, leaf)
    assert not merkle.verify(tree.proof(leaves[0]), tree.root, keccak(b"x" + leaves[0]))


def test_refuses_empty_and_duplicate_leaves() -> None:
    with pytest.raises(ValueError):
        merkle.build([])
    with pytest.raises(ValueError):
        merkle.build([b"a" * 32, b"a" * 32])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=20), st.data())
def test_merged_duplicates_give_the_tree_of_the_distinct_leaves(leaves: list[bytes], data: st.DataObject) -> None:
    repeated = leaves + data.draw(st.lists(st.sampled_from(leaves), max_size=20))
    tree = merkle.build(repeated, merge_duplicates=True)
    assert tree.nodes == merkle.build(list(set(leaves))).nodes
    with pytest.raises(ValueError, match="sorted"):
        merkle.build(leaves, sort_leaves=False, merge_duplicates=True)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100, 1023, 1024, 1025])
def test_bulk_proofs_equal_the_single_proofs(n: int) -> None:
    digests = [keccak(i.to_bytes(4, "big")) for i in range(n)]
    leaves = merkle.leaves_of_digests(digests)
    assert leaves == [merkle.leaf_of_digest(d) for d in digests]
    tree = merkle.build(leaves)
    bulk, hexed = tree.proofs(), tree.hex_proofs()
    assert set(bulk) == set(hexed) == set(leaves)
    for leaf in leaves:
        assert bulk[leaf] == tree.proof(leaf)
        assert hexed[leaf] == [p.hex() for p in tree.proof(leaf)]
        assert merkle.verify(bulk[leaf], tree.root, leaf)
    with pytest.raises(ValueError):
        merkle.leaves_of_digests([b"short"])
