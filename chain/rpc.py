"""The JSON-RPC connection (web3.py) and the one place web3's exceptions become :mod:`chain.errors`:
transport failures -> ChainUnavailable, any other web3 failure -> ChainError."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ProviderConnectionError, RequestTimedOut, Web3Exception

from chain.errors import ChainError, ChainUnavailable

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
        except (Web3Exception, ValueError, KeyError) as exc:
            raise ChainError(f"chain RPC failed: {exc.__class__.__name__}: {exc}") from exc

    return wrapper


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


def nonce_of(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))


def fees(w3: Web3) -> dict[str, Any]:
    """EIP-1559 fees where the chain has a base fee, else a legacy gas price (0 on free networks)."""
    block = w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    tip = 1_000_000_000 if base > 0 else 0
    return {"maxFeePerGas": int(base) * 2 + tip, "maxPriorityFeePerGas": tip}


def send_and_wait(w3: Web3, acct: LocalAccount, params: dict[str, Any]) -> Any:
    signed = acct.sign_transaction(params)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.05)
