"""Wires the service to a chain: the embedded anvil node (supervised) or an external JSON-RPC
endpoint, the anchoring key (encrypted keystore) and the deployed anchor contract (recorded in
the DB, recognised after any restart by the code at the remembered address).

Read-only use (``agritrace audit``, ``agritrace chain status``) needs no key password and works
while the service runs: it attaches to the running embedded node over RPC.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from chain.client import AnchorContract, Web3Client, chain_id_of, connect, ensure_dev_balance
from chain.errors import ChainError
from chain.keys import (
    KeystoreError,
    LocalAccount,
    account_from_private_key,
    create_keystore,
    keystore_address,
    load_keystore,
)
from chain.node import AnvilNode, running_node_url
from chain.supervisor import NodeSupervisor
from traceability_api.anchoring.models import ChainDeployment
from traceability_api.config import Settings
from traceability_api.errors import ConfigError
from traceability_api.local_secrets import secret_file

log = logging.getLogger(__name__)
FUNDING_WEI = 10**24


@dataclass
class ChainRuntime:
    rpc_url: str
    chain_id: int
    contract: AnchorContract
    account: LocalAccount | None  # None: read-only
    node: AnvilNode | None = None  # the embedded node this process runs
    supervisor: NodeSupervisor | None = None
    anchorer: str | None = None  # the anchoring account's address (known without the key)

    def persist(self) -> None:
        """Put the embedded node's state on disk now (before the DB records an anchor)."""
        if self.node is not None:
            self.node.dump_state()

    def close(self) -> None:
        # the node first (it is then no longer wanted, so not restarted): a node the supervisor
        # restarted gets SIGINT when the supervisor's thread ends (PR_SET_PDEATHSIG is per thread)
        if self.node is not None:
            self.node.stop()
            self.node = None
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None


def _password(settings: Settings) -> str:
    if settings.anchor_key_password is not None:
        return settings.anchor_key_password.get_secret_value()
    if not settings.embedded_chain:
        raise ConfigError("AGRITRACE_ANCHOR_KEY_PASSWORD is required to open the anchoring keystore")
    # embedded development chain: a random password kept beside the keystore, mode 0600
    pw_file = settings.keystore_path.with_suffix(".password")
    return secret_file(pw_file, lambda: secrets.token_urlsafe(32).encode()).decode()


def load_account(settings: Settings) -> LocalAccount:
    try:
        if settings.anchor_private_key is not None:
            return account_from_private_key(settings.anchor_private_key.get_secret_value())
        path: Path = settings.keystore_path
        password = _password(settings)
        if not path.exists() and settings.embedded_chain:
            log.info("creating anchoring keystore %s", path)
            return create_keystore(path, password)
        return load_keystore(path, password)
    except KeystoreError as exc:
        raise ConfigError(str(exc)) from exc


def _embedded_node(settings: Settings) -> AnvilNode:
    return AnvilNode(
        state_path=_state_path(settings),
        chain_id=settings.chain_id,
        log_path=settings.data_dir / "chain" / "anvil.log",
    )


def _state_path(settings: Settings) -> Path:
    return settings.data_dir / "chain" / "anvil-state.json"


def start_chain(settings: Settings, engine: Engine) -> ChainRuntime:
    """Start (supervised) or connect to the chain, load the key, find or deploy the contract."""
    account = load_account(settings)
    node = _embedded_node(settings).start() if settings.embedded_chain else None
    try:
        rpc_url = node.url if node is not None else str(settings.chain_rpc_url)
        w3 = connect(rpc_url, timeout_s=settings.anchor_rpc_timeout_s)
        if node is not None:
            ensure_dev_balance(w3, account.address, FUNDING_WEI)
            node.dump_state()
        persist = node.dump_state if node is not None else None
        contract = _find_or_deploy(settings, engine, w3, account, persist)
        chain_id = contract.chain_id()
    except ChainError as exc:
        if node is not None:
            node.stop()
        raise ConfigError(str(exc)) from exc
    except BaseException:
        if node is not None:
            node.stop()
        raise
    supervisor = NodeSupervisor(node).start() if node is not None else None
    return ChainRuntime(rpc_url=rpc_url, chain_id=chain_id, contract=contract, account=account, node=node,
                        supervisor=supervisor, anchorer=account.address)  # fmt: skip


def attach_read_only(settings: Settings, engine: Engine) -> ChainRuntime | None:
    """The chain for reading only: the running service's node if there is one, else a node of
    our own on the state file (or the external RPC).  No key, no deployment; None if no
    contract was ever deployed."""
    anchorer = _anchorer(settings)
    node = None
    rpc_url = settings.chain_rpc_url
    if settings.embedded_chain:
        rpc_url = running_node_url(_state_path(settings))
        if rpc_url is None:
            node = _embedded_node(settings).start()
            rpc_url = node.url
    assert rpc_url is not None
    try:
        w3 = connect(rpc_url, timeout_s=settings.anchor_rpc_timeout_s)
        contract = _recorded_contract(settings, engine, w3, None)
        chain = None
        if contract is not None:
            chain = ChainRuntime(rpc_url=rpc_url, chain_id=contract.chain_id(), contract=contract, account=None,
                                 node=node, anchorer=anchorer)  # fmt: skip
    except ChainError as exc:
        if node is not None:
            node.stop()
        raise ConfigError(str(exc)) from exc
    if chain is None and node is not None:
        node.stop()
    return chain


def _anchorer(settings: Settings) -> str | None:
    """The anchoring address; a key or password that is configured is checked, none is needed."""
    if settings.anchor_private_key is not None or settings.anchor_key_password is not None:
        return load_account(settings).address
    return keystore_address(settings.keystore_path)


def _recorded_contract(
    settings: Settings, engine: Engine, w3: Web3Client, account: LocalAccount | None
) -> AnchorContract | None:
    """The configured contract, or the newest recorded deployment on this chain whose address
    holds our contract's code (whatever the genesis hash: a restarted node keeps its contract)."""
    chain_id = chain_id_of(w3)
    if settings.contract_address:
        contract = AnchorContract(w3, settings.contract_address, account)
        if not contract.is_deployed():
            raise ConfigError(
                f"no contract at AGRITRACE_CONTRACT_ADDRESS {settings.contract_address} on chain {chain_id}"
            )
        return contract
    with Session(engine) as session:
        deployments = session.exec(
            select(ChainDeployment).where(ChainDeployment.chain_id == chain_id).order_by(ChainDeployment.id.desc())  # type: ignore[union-attr]
        ).all()
    for dep in deployments:
        contract = AnchorContract(w3, dep.address, account)
        if contract.has_our_code():
            return contract
        log.warning("recorded contract %s has no AgriTraceAnchor code on chain %s", dep.address, dep.chain_id)
    return None


def _find_or_deploy(
    settings: Settings, engine: Engine, w3: Web3Client, account: LocalAccount, persist: Callable[[], None] | None
) -> AnchorContract:
    found = _recorded_contract(settings, engine, w3, account)
    if found is not None:
        return found
    contract = AnchorContract.deploy(w3, account, admin=account.address, anchorer=account.address)
    if persist is not None:
        persist()  # the chain state holding the contract is on disk before the DB names it
    with Session(engine) as session:
        session.add(
            ChainDeployment(chain_id=contract.chain_id(), genesis_hash=contract.genesis_hash(),
                            address=contract.address, block_number=contract.block_number())
        )  # fmt: skip
        session.commit()
    log.info("deployed AgriTraceAnchor at %s on chain %s", contract.address, contract.chain_id())
    return contract
