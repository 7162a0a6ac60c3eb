"""The managed anvil process: free port, persisted state, always stopped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from eth_account import Account

from chain.client import AnchorContract, connect
from chain.errors import NodeError
from chain.node import AnvilNode
from tests.conftest import fund

pytestmark = [pytest.mark.sqlite_only, pytest.mark.chain]  # starts anvil nodes itself


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    acct = Account.create()
    root = os.urandom(32)
    with AnvilNode(state_path=state) as node:
        w3 = connect(node.url)
        fund(w3, acct.address)
        contract = AnchorContract.deploy(w3, acct, admin=acct.address, anchorer=acct.address)
        contract.anchor(root, batch_id=1, leaf_count=1)
        address = contract.address
        proc = node.proc
    assert proc is not None and proc.poll() is not None, "anvil must be stopped"
    with AnvilNode(state_path=state) as node:
        again = AnchorContract(connect(node.url), address)
        assert again.is_deployed()
        assert again.anchor_of(root) is not None


def test_second_node_on_the_same_state_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with AnvilNode(state_path=state):
        with pytest.raises(NodeError, match="in use"):
            AnvilNode(state_path=state).start()


def test_torn_state_file_falls_back_to_last_good_copy(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with AnvilNode(state_path=state) as node:
        fund(connect(node.url), Account.create().address)
    with AnvilNode(state_path=state):
        pass  # start validates the file and keeps a backup
    state.write_text(state.read_text()[:-100])  # torn write
    with AnvilNode(state_path=state) as node:
        assert connect(node.url).eth.chain_id == 31337
    state.write_text("{")
    state.with_suffix(".bak").write_text("{")
    with pytest.raises(NodeError, match="corrupt"):
        AnvilNode(state_path=state).start()


def test_genesis_is_fixed_and_new_blocks_carry_the_real_time(tmp_path: Path) -> None:
    from chain.node import GENESIS_TIMESTAMP

    started = int(time.time())
    with AnvilNode(state_path=tmp_path / "state.json") as node:
        w3 = connect(node.url)
        genesis = w3.eth.get_block(0)
        fund(w3, Account.create().address)
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        assert w3.eth.get_block("latest")["timestamp"] >= started
    assert genesis["timestamp"] == GENESIS_TIMESTAMP  # so a node started afresh has the same genesis hash
    (tmp_path / "state.json").unlink()
    with AnvilNode(state_path=tmp_path / "state.json") as node:
        assert connect(node.url).eth.get_block(0)["hash"] == genesis["hash"]


def test_running_node_url_only_while_a_node_holds_the_state(tmp_path: Path) -> None:
    from chain.node import running_node_url

    state = tmp_path / "state.json"
    with AnvilNode(state_path=state) as node:
        assert running_node_url(state) == node.url
    assert running_node_url(state) is None
    with AnvilNode() as other:  # a URL left behind now answering for another node is not trusted
        state.with_suffix(".url").write_text(other.url)
        assert running_node_url(state) is None
