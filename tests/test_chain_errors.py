"""The chain behind one door: whatever fails underneath, callers see only chain.errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from chain.client import AnchorContract, connect
from chain.errors import ChainError, ChainUnavailable
from chain.node import AnvilNode
from tests.conftest import fund

pytestmark = [pytest.mark.chain, pytest.mark.sqlite_only]
ROOT = os.urandom(32)
CALLS: dict[str, Callable[[AnchorContract], Any]] = {
    "chain_id": lambda c: c.chain_id(),
    "block_number": lambda c: c.block_number(),
    "block_timestamp": lambda c: c.block_timestamp(0),
    "genesis_hash": lambda c: c.genesis_hash(),
    "is_deployed": lambda c: c.is_deployed(),
    "has_our_code": lambda c: c.has_our_code(),
    "anchor_of": lambda c: c.anchor_of(ROOT),
    "find_anchor_tx": lambda c: c.find_anchor_tx(ROOT),
    "verify": lambda c: c.verify([], ROOT, ROOT),
    "verify_many": lambda c: c.verify_many([([], ROOT, ROOT)]),
    "is_anchorer": lambda c: c.is_anchorer(c.address),
    "pending_nonce": lambda c: c.pending_nonce(),
    "tx_known": lambda c: c.tx_known("0x" + "11" * 32),
    "gas_used": lambda c: c.gas_used("0x" + "11" * 32),
    "build_anchor_tx": lambda c: c.build_anchor_tx(os.urandom(32), 1, 1),
    "anchor": lambda c: c.anchor(os.urandom(32), 1, 1),
}


@pytest.fixture(scope="module")
def dead_contract() -> AnchorContract:
    acct = Account.create()
    with AnvilNode() as node:
        w3 = connect(node.url, timeout_s=2)
        fund(w3, acct.address)
        contract = AnchorContract.deploy(w3, acct, admin=acct.address, anchorer=acct.address)
    return contract  # its node is gone


@pytest.mark.parametrize("name", sorted(CALLS))
def test_an_unreachable_chain_is_chain_unavailable(dead_contract: AnchorContract, name: str) -> None:
    with pytest.raises(ChainUnavailable, match="unreachable"):
        CALLS[name](dead_contract)


def test_other_rpc_failures_are_chain_errors(anvil: AnvilNode, funded_account: Any) -> None:
    contract = AnchorContract.deploy(connect(anvil.url), funded_account, funded_account.address, None)
    with pytest.raises(ChainError) as caught:
        contract.gas_used("0x" + "22" * 32)  # no such transaction
    assert type(caught.value) is ChainError and "TransactionNotFound" in str(caught.value)
    assert contract.tx_known("0x" + "22" * 32) is False
    with pytest.raises(ChainError):
        contract.block_timestamp(10**9)  # no such block
