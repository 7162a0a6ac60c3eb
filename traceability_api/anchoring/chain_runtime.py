"""Wires the service to a chain: the embedded anvil node or an external JSON-RPC endpoint,
the anchoring key (encrypted keystore) and the deployed anchor contract (recorded in the DB).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from chain.client import AnchorContract, connect
from chain.errors import ChainError
from chain.keys import KeystoreError, account_from_private_key, create_keystore, load_keystore
from chain.node import AnvilNode
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
    account: LocalAccount
    node: AnvilNode | None = None

    def close(self) -> None:
        if self.node is not None:
            self.node.stop()
            self.node = None


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


def _genesis_hash(contract_w3: object) -> str:
    block = contract_w3.eth.get_block(0)  # type: ignore[attr-defined]
    return "0x" + bytes(block["hash"]).hex()


def start_chain(settings: Settings, engine: Engine) -> ChainRuntime:
    """Start or connect to the chain, load the key, find or deploy the contract."""
    node = None
    account = load_account(settings)
    try:
        if settings.embedded_chain:
            node = AnvilNode(
                state_path=settings.data_dir / "chain" / "anvil-state.json",
                chain_id=settings.chain_id,
                log_path=settings.data_dir / "chain" / "anvil.log",
            ).start()
            rpc_url = node.url
        else:
            assert settings.chain_rpc_url is not None
            rpc_url = settings.chain_rpc_url
        w3 = connect(rpc_url, timeout_s=settings.anchor_rpc_timeout_s)
        chain_id = int(w3.eth.chain_id)
        if node is not None and w3.eth.get_balance(account.address) < FUNDING_WEI // 2:
            w3.provider.make_request("anvil_setBalance", [account.address, hex(FUNDING_WEI)])  # type: ignore[arg-type]
        contract = _find_or_deploy(settings, engine, w3, account, chain_id)
    except ChainError as exc:
        if node is not None:
            node.stop()
        raise ConfigError(str(exc)) from exc
    except BaseException:
        if node is not None:
            node.stop()
        raise
    return ChainRuntime(rpc_url=rpc_url, chain_id=chain_id, contract=contract, account=account, node=node)


def _find_or_deploy(
    settings: Settings, engine: Engine, w3: object, account: LocalAccount, chain_id: int
) -> AnchorContract:
    from web3 import Web3

    assert isinstance(w3, Web3)
    if settings.contract_address:
        contract = AnchorContract(w3, settings.contract_address, account)
        if not contract.is_deployed():
            raise ConfigError(
                f"no contract at AGRITRACE_CONTRACT_ADDRESS {settings.contract_address} on chain {chain_id}"
            )
        return contract
    genesis = _genesis_hash(w3)
    with Session(engine) as session:
        dep = session.exec(
            select(ChainDeployment)
            .where(ChainDeployment.chain_id == chain_id, ChainDeployment.genesis_hash == genesis)
            .order_by(ChainDeployment.id.desc())  # type: ignore[union-attr]
        ).first()
        if dep is not None:
            contract = AnchorContract(w3, dep.address, account)
            if contract.is_deployed():
                return contract
            log.warning("recorded contract %s has no code on chain %s; deploying a new one", dep.address, chain_id)
        contract = AnchorContract.deploy(w3, account, admin=account.address, anchorer=account.address)
        session.add(
            ChainDeployment(
                chain_id=chain_id, genesis_hash=genesis, address=contract.address, block_number=int(w3.eth.block_number)
            )
        )
        session.commit()
        log.info("deployed AgriTraceAnchor at %s on chain %s", contract.address, chain_id)
        return contract
