"""web3.py client of the anchor contract: deploy, anchor roots, read them back, verify proofs.

Works against anvil (EIP-1559 fees) and against permissioned networks with a zero gas price
(Besu QBFT with ``min-gas-price=0``): fees are chosen from what the node reports.  Foreign
exceptions are translated into :mod:`chain.errors` here, at the boundary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak  # type: ignore[attr-defined]
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ProviderConnectionError,
    RequestTimedOut,
    TimeExhausted,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)

from chain.compile import load_artifact
from chain.errors import AnchorError, ChainError, ChainUnavailable, RootAlreadyAnchored

ANCHORER_ROLE = keccak(text="ANCHORER_ROLE")
P = ParamSpec("P")
R = TypeVar("R")
_TRANSPORT = (requests.RequestException, OSError, ProviderConnectionError, RequestTimedOut)


def translated(fn: Callable[P, R]) -> Callable[P, R]:
    """Let only :mod:`chain.errors` out: transport failures become ChainUnavailable, any other
    web3 failure a ChainError carrying its message."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ChainError:
            raise
        except _TRANSPORT as exc:
            raise ChainUnavailable(f"chain RPC unreachable: {exc.__class__.__name__}") from exc
        except (Web3Exception, ValueError, KeyError, TypeError) as exc:
            raise ChainError(f"chain RPC failed: {exc.__class__.__name__}: {exc}") from exc

    return wrapper


@dataclass(frozen=True)
class AnchorRecord:
    root: bytes
    timestamp: int
    leaf_count: int
    submitter: str
    batch_id: int


@dataclass(frozen=True)
class SentTx:
    tx_hash: str
    raw: bytes
    nonce: int


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    gas_used: int
    status: int


def connect(rpc_url: str, timeout_s: float = 10.0) -> Web3:
    """Connect to a JSON-RPC endpoint or raise :class:`ChainUnavailable` with the reason."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))
    try:
        w3.eth.chain_id  # noqa: B018 - a real round trip
    except (*_TRANSPORT, ValueError, Web3Exception) as exc:
        raise ChainUnavailable(f"chain RPC {rpc_url} unreachable: {exc.__class__.__name__}") from exc
    return w3


Web3Client = Web3  # the connection type callers hold, without importing web3 themselves


@translated
def chain_id_of(w3: Web3) -> int:
    return int(w3.eth.chain_id)


@translated
def ensure_dev_balance(w3: Web3, address: str, wei: int) -> None:
    """Development chains (anvil) only: top the account up to ``wei`` if it has less than half."""
    if w3.eth.get_balance(Web3.to_checksum_address(address)) < wei // 2:
        w3.provider.make_request("anvil_setBalance", [address, hex(wei)])  # type: ignore[arg-type]


def _error_selectors(abi: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for item in abi:
        if item.get("type") == "error":
            sig = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            out["0x" + keccak(text=sig)[:4].hex()] = item["name"]
    return out


class AnchorContract:
    """Typed wrapper around one deployed AgriTraceAnchor contract."""

    def __init__(self, w3: Web3, address: str, account: LocalAccount | None = None) -> None:
        artifact = load_artifact()
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.account = account
        self.contract = w3.eth.contract(address=self.address, abi=artifact["abi"])
        self._errors = _error_selectors(artifact["abi"])

    # ---- deployment -------------------------------------------------------------------------
    @classmethod
    @translated
    def deploy(cls, w3: Web3, deployer: LocalAccount, admin: str, anchorer: str | None) -> AnchorContract:
        artifact = load_artifact()
        factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        zero = "0x" + "00" * 20
        tx = factory.constructor(Web3.to_checksum_address(admin), Web3.to_checksum_address(anchorer or zero))
        params = tx.build_transaction(_fees(w3) | {"from": deployer.address, "nonce": _nonce(w3, deployer.address)})
        receipt = _send_and_wait(w3, deployer, params)
        if receipt["status"] != 1 or not receipt.get("contractAddress"):
            raise AnchorError("contract deployment reverted")
        return cls(w3, receipt["contractAddress"], deployer)

    @translated
    def is_deployed(self) -> bool:
        return len(self.w3.eth.get_code(self.address)) > 0

    @translated
    def has_our_code(self) -> bool:
        """The code at the address is this contract's (its runtime code is part of the artifact's
        creation code), not merely some code."""
        code = bytes(self.w3.eth.get_code(self.address)).hex()
        return bool(code) and code in str(load_artifact()["bytecode"]).removeprefix("0x")

    # ---- the chain itself ---------------------------------------------------------------------
    @translated
    def chain_id(self) -> int:
        return chain_id_of(self.w3)

    @translated
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    @translated
    def block_timestamp(self, number: int) -> int:
        return int(self.w3.eth.get_block(number)["timestamp"])

    @translated
    def genesis_hash(self) -> str:
        return "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex()

    @translated
    def gas_used(self, tx_hash: str) -> int:
        return int(self.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]

    @translated
    def pending_nonce(self) -> int:
        return _nonce(self.w3, self._require_account().address)

    @translated
    def tx_known(self, tx_hash: str) -> bool:
        """The node knows the transaction (pending or mined)."""
        try:
            return self.w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
        except TransactionNotFound:
            return False

    # ---- writes -------------------------------------------------------------------------------
    @translated
    def build_anchor_tx(self, root: bytes, batch_id: int, leaf_count: int, nonce: int | None = None) -> SentTx:
        """Simulate, then sign (without sending) the anchoring transaction of ``root``."""
        acct = self._require_account()
        fn = self.contract.functions.anchor(root, batch_id, leaf_count)
        try:
            params = fn.build_transaction(
                _fees(self.w3)  # type: ignore[arg-type]
                | {"from": acct.address, "nonce": _nonce(self.w3, acct.address) if nonce is None else nonce}
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._translate(exc) from exc
        params["gas"] = int(params["gas"] * 1.2) + 5_000
        signed = acct.sign_transaction(params)  # type: ignore[arg-type]
        return SentTx(
            tx_hash="0x" + signed.hash.hex().removeprefix("0x"),
            raw=bytes(signed.raw_transaction),
            nonce=params["nonce"],
        )

    @translated
    def broadcast(self, tx: SentTx) -> None:
        """Send a signed transaction; sending the same one twice is harmless."""
        try:
            self.w3.eth.send_raw_transaction(tx.raw)
        except Web3RPCError as exc:
            msg = str(exc).lower()
            if "already known" in msg or "already imported" in msg or "known transaction" in msg:
                return
            raise AnchorError(f"anchoring transaction refused: {exc}") from exc
        except (requests.RequestException, OSError) as exc:
            raise ChainUnavailable(f"chain RPC unreachable: {exc.__class__.__name__}") from exc

    @translated
    def wait(self, tx_hash: str, timeout_s: float = 60.0, confirmations: int = 1) -> Receipt:
        try:
            r = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout_s, poll_latency=0.05)  # type: ignore[arg-type]
        except TimeExhausted as exc:
            raise AnchorError(f"no receipt for {tx_hash} within {timeout_s} s") from exc
        deadline = time.monotonic() + timeout_s
        while self.w3.eth.block_number < r["blockNumber"] + confirmations - 1:
            if time.monotonic() > deadline:
                raise AnchorError(f"{tx_hash}: {confirmations} confirmations not reached in {timeout_s} s")
            time.sleep(0.2)
        return Receipt(tx_hash=tx_hash, block_number=r["blockNumber"], gas_used=r["gasUsed"], status=r["status"])

    @translated
    def anchor(self, root: bytes, batch_id: int, leaf_count: int, confirmations: int = 1) -> Receipt:
        tx = self.build_anchor_tx(root, batch_id, leaf_count)
        self.broadcast(tx)
        receipt = self.wait(tx.tx_hash, confirmations=confirmations)
        if receipt.status != 1:
            raise AnchorError(f"anchoring transaction {tx.tx_hash} reverted")
        return receipt

    @translated
    def grant_anchorer(self, address: str) -> Receipt:
        return self._transact(self.contract.functions.grantRole(ANCHORER_ROLE, Web3.to_checksum_address(address)))

    @translated
    def revoke_anchorer(self, address: str) -> Receipt:
        return self._transact(self.contract.functions.revokeRole(ANCHORER_ROLE, Web3.to_checksum_address(address)))

    # ---- reads --------------------------------------------------------------------------------
    @translated
    def anchor_of(self, root: bytes) -> AnchorRecord | None:
        ts, count, submitter, batch_id = self.contract.functions.anchorOf(root).call()
        if ts == 0:
            return None
        return AnchorRecord(root=root, timestamp=ts, leaf_count=count, submitter=submitter, batch_id=batch_id)

    @translated
    def find_anchor_tx(self, root: bytes, from_block: int = 0) -> tuple[str, int] | None:
        """(tx hash, block) of the RootAnchored event of ``root``, if any."""
        logs = self.contract.events.RootAnchored().get_logs(from_block=from_block, argument_filters={"root": root})
        if not logs:
            return None
        return "0x" + logs[0]["transactionHash"].hex().removeprefix("0x"), logs[0]["blockNumber"]

    @translated
    def verify(self, proof: list[bytes], root: bytes, leaf: bytes) -> bool:
        return bool(self.contract.functions.verify(proof, root, leaf).call())

    @translated
    def is_anchorer(self, address: str) -> bool:
        return bool(self.contract.functions.hasRole(ANCHORER_ROLE, Web3.to_checksum_address(address)).call())

    # ---- helpers ------------------------------------------------------------------------------
    def _require_account(self) -> LocalAccount:
        if self.account is None:
            raise AnchorError("no anchoring key configured")
        return self.account

    def _transact(self, fn: Any) -> Receipt:
        acct = self._require_account()
        try:
            params = fn.build_transaction(
                _fees(self.w3) | {"from": acct.address, "nonce": _nonce(self.w3, acct.address)}
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._translate(exc) from exc
        r = _send_and_wait(self.w3, acct, params)
        return Receipt(
            tx_hash=r["transactionHash"].hex(), block_number=r["blockNumber"], gas_used=r["gasUsed"], status=r["status"]
        )

    def _translate(self, exc: Exception) -> AnchorError:
        data = getattr(exc, "data", None)
        data = data if isinstance(data, str) else str(exc)
        for selector, name in self._errors.items():
            if selector in data:
                if name == "AgriTraceAnchorRootAlreadyAnchored":
                    return RootAlreadyAnchored("root already anchored")
                if name == "AccessControlUnauthorizedAccount":
                    role = data[data.index(selector) + 10 + 64 : data.index(selector) + 10 + 128]
                    role_name = "ANCHORER_ROLE" if role == ANCHORER_ROLE.hex() else "DEFAULT_ADMIN_ROLE"
                    return AnchorError(
                        f"contract refused: account lacks {role_name} (AccessControlUnauthorizedAccount)"
                    )
                return AnchorError(f"contract refused: {name}")
        return AnchorError(f"contract refused: {exc}")


def _nonce(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))


def _fees(w3: Web3) -> dict[str, Any]:
    """EIP-1559 fees where the chain has a base fee, else a legacy gas price (0 on free networks)."""
    block = w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    tip = 1_000_000_000 if base > 0 else 0
    return {"maxFeePerGas": int(base) * 2 + tip, "maxPriorityFeePerGas": tip}


def _send_and_wait(w3: Web3, acct: LocalAccount, params: dict[str, Any]) -> Any:
    signed = acct.sign_transaction(params)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.05)


def new_account() -> LocalAccount:
    acct: LocalAccount = Account.create()
    return acct
