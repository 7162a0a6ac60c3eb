"""The anchor contract on a real anvil node, from the committed compiled artifact."""

from __future__ import annotations

import json
import os

import pytest
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from web3 import Web3

from chain.client import AnchorContract
from chain.errors import AnchorError, RootAlreadyAnchored
from tests.conftest import VECTORS, fund

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def contract(w3: Web3, funded_account: LocalAccount, chain_snapshot: None) -> AnchorContract:
    return AnchorContract.deploy(w3, funded_account, admin=funded_account.address, anchorer=funded_account.address)


def test_anchor_and_read_back(contract: AnchorContract, w3: Web3) -> None:
    root = os.urandom(32)
    receipt = contract.anchor(root, batch_id=7, leaf_count=3)
    rec = contract.anchor_of(root)
    assert rec is not None
    assert (rec.leaf_count, rec.batch_id, rec.submitter) == (3, 7, contract.account.address)  # type: ignore[union-attr]
    assert rec.timestamp == w3.eth.get_block(receipt.block_number)["timestamp"]
    assert contract.find_anchor_tx(root) == (receipt.tx_hash, receipt.block_number)
    assert contract.anchor_of(os.urandom(32)) is None


def test_duplicate_root_is_refused(contract: AnchorContract) -> None:
    root = os.urandom(32)
    contract.anchor(root, batch_id=1, leaf_count=1)
    with pytest.raises(RootAlreadyAnchored):
        contract.anchor(root, batch_id=2, leaf_count=1)
    assert contract.anchor_of(root).batch_id == 1  # type: ignore[union-attr]


def test_zero_root_and_empty_batch_are_refused(contract: AnchorContract) -> None:
    with pytest.raises(AnchorError, match="ZeroRoot"):
        contract.anchor(b"\0" * 32, batch_id=1, leaf_count=1)
    with pytest.raises(AnchorError, match="EmptyBatch"):
        contract.anchor(os.urandom(32), batch_id=1, leaf_count=0)


def test_account_without_role_is_refused_until_granted(
    contract: AnchorContract, w3: Web3, funded_account: LocalAccount
) -> None:
    from eth_account import Account

    outsider = Account.create()
    fund(w3, outsider.address)
    as_outsider = AnchorContract(w3, contract.address, outsider)
    with pytest.raises(AnchorError, match="ANCHORER_ROLE"):
        as_outsider.anchor(os.urandom(32), batch_id=1, leaf_count=1)
    receipt = contract.grant_anchorer(outsider.address)
    granted = contract.contract.events.RoleGranted().process_receipt(w3.eth.get_transaction_receipt(receipt.tx_hash))
    assert granted[0]["args"]["account"] == outsider.address
    as_outsider.anchor(os.urandom(32), batch_id=1, leaf_count=1)
    contract.revoke_anchorer(outsider.address)
    assert not contract.is_anchorer(outsider.address)
    with pytest.raises(AnchorError, match="ANCHORER_ROLE"):
        as_outsider.anchor(os.urandom(32), batch_id=2, leaf_count=1)


def test_only_admin_grants_roles(contract: AnchorContract, w3: Web3) -> None:
    from eth_account import Account

    outsider = Account.create()
    fund(w3, outsider.address)
    with pytest.raises(AnchorError):
        AnchorContract(w3, contract.address, outsider).grant_anchorer(outsider.address)


def test_openzeppelin_vectors_verify_in_the_contract(contract: AnchorContract) -> None:
    vectors = json.loads((VECTORS / "merkle" / "openzeppelin-standard-tree-vectors.json").read_text())
    checked = 0
    for i, tree in enumerate(vectors):
        root = bytes.fromhex(tree["root"][2:])
        leaf0 = bytes.fromhex(tree["leaves"][0]["leafHash"][2:])
        proof0 = [bytes.fromhex(p[2:]) for p in tree["leaves"][0]["proof"]]
        assert not contract.verify(proof0, root, leaf0), "an unanchored root must not verify"
        contract.anchor(root, batch_id=i + 1, leaf_count=len(tree["leaves"]))
        for leaf in tree["leaves"]:
            proof = [bytes.fromhex(p[2:]) for p in leaf["proof"]]
            assert contract.verify(proof, root, bytes.fromhex(leaf["leafHash"][2:])) is leaf["verifies"]
            checked += 1
        assert not contract.verify(proof0, root, keccak(b"not a leaf"))
        items = [([bytes.fromhex(p[2:]) for p in leaf["proof"]], root, bytes.fromhex(leaf["leafHash"][2:]))
                 for leaf in tree["leaves"]] + [(proof0, root, keccak(b"not a leaf"))]  # fmt: skip
        want = [leaf["verifies"] for leaf in tree["leaves"]] + [False]
        assert contract.verify_many(items, chunk=3) == want, "batched verify() answers as one call per proof"
    assert checked == sum(len(t["leaves"]) for t in vectors)


def test_one_anchor_costs_about_47k_gas(contract: AnchorContract) -> None:
    receipt = contract.anchor(os.urandom(32), batch_id=1, leaf_count=10_000)
    assert 40_000 < receipt.gas_used < 52_000, receipt.gas_used


@pytest.mark.parametrize(
    "args",
    [
        ("--base-fee", "0", "--gas-price", "0", "--disable-min-priority-fee"),  # free permissioned network (QBFT-like)
        ("--hardfork", "berlin", "--gas-price", "0"),  # pre-London: no base fee, legacy gasPrice 0
    ],
    ids=["zero-base-fee", "legacy-zero-gas-price"],
)
def test_anchoring_on_zero_gas_networks(args: tuple[str, ...]) -> None:
    from eth_account import Account

    from chain.client import connect
    from chain.node import AnvilNode

    with AnvilNode(extra_args=args) as node:
        w3 = connect(node.url)
        acct = Account.create()  # holds no ether at all: gas must really cost nothing
        c = AnchorContract.deploy(w3, acct, admin=acct.address, anchorer=acct.address)
        root = os.urandom(32)
        c.anchor(root, batch_id=1, leaf_count=2)
        assert c.anchor_of(root) is not None
        assert w3.eth.get_balance(acct.address) == 0
