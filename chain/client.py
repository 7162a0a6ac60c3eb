"""web3.py client of the anchor contract: deploy, anchor roots, read them back, verify proofs.

Works against anvil (EIP-1559 fees) and against permissioned networks with a zero gas price
(Besu QBFT with ``min-gas-price=0``): fees are chosen from what the node reports.  Every
public method is ``@translated`` (:mod:`chain.rpc`): only :mod:`chain.errors` leave this package,
and callers outside ``chain/`` never touch web3 themselves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak  # type: ignore[attr-defined]
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)

from chain.compile import load_artifact
from chain.errors import AnchorError, ChainError, ChainUnavailable, RootAlreadyAnchored
from chain.rpc import Web3Client as Web3Client
from chain.rpc import chain_id_of as chain_id_of
from chain.rpc import connect as connect
from chain.rpc import ensure_dev_balance as ensure_dev_balance
from chain.rpc import fees, nonce_of, send_and_wait, translated

ANCHORER_ROLE = keccak(text="ANCHORER_ROLE")


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
        params = tx.build_transaction(fees(w3) | {"from": deployer.address, "nonce": nonce_of(w3, deployer.address)})
        receipt = send_and_wait(w3, deployer, params)
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
        return nonce_of(self.w3, self._require_account().address)

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
                fees(self.w3)  # type: ignore[arg-type]
                | {"from": acct.address, "nonce": nonce_of(self.w3, acct.address) if nonce is None else nonce}
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
    def verify_many(self, items: Sequence[tuple[list[bytes], bytes, bytes]], chunk: int = 100) -> list[bool]:
        """``verify`` of each (proof, root, leaf), sent as JSON-RPC batches of ``chunk`` calls: one
        round trip per batch instead of one per proof (a lot's bundle: 50 proofs, one request)."""
        out: list[bool] = []
        for i in range(0, len(items), chunk):
            with self.w3.batch_requests() as batch:
                for proof, root, leaf in items[i : i + chunk]:
                    batch.add(self.contract.functions.verify(proof, root, leaf))
                answers = batch.execute()
            if len(answers) != len(items[i : i + chunk]) or not all(isinstance(a, bool) for a in answers):
                raise ChainError("chain RPC failed: a batch of verify() calls did not answer one boolean per call")
            out.extend(bool(a) for a in answers)
        return out

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
                fees(self.w3) | {"from": acct.address, "nonce": nonce_of(self.w3, acct.address)}
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._translate(exc) from exc
        r = send_and_wait(self.w3, acct, params)
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


def new_account() -> LocalAccount:
    acct: LocalAccount = Account.create()
    return acct
