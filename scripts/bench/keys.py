#!/usr/bin/env python
"""Benchmark: gas of the key registry (the anchor contract's second role) on a fresh anvil.

    .venv/bin/python scripts/bench/keys.py [--reps 3]

Per repetition: deploy the contract, then measure the gas of registering an organisation,
adding a signer, rotating it and revoking the new one.  Reference in the same run: the gas of
one anchor() (a Merkle root of a batch).  Prints min and median over the repetitions and each
operation's ratio to the anchor.
"""

from __future__ import annotations

import os
import statistics

from common import arguments
from eth_account import Account

from chain.client import AnchorContract, connect, ensure_dev_balance
from chain.node import AnvilNode
from chain.registry import KeyRegistry

OPS = ("registerOrganisation", "addSigner", "rotateSigner", "revokeSigner", "anchor (reference)")


def one_run(url: str) -> dict[str, int]:
    w3 = connect(url)
    acct = Account.create()
    ensure_dev_balance(w3, acct.address, 10**22)
    contract = AnchorContract.deploy(w3, acct, admin=acct.address, anchorer=acct.address)
    reg = KeyRegistry(contract)
    ref = "https://id.gs1.org/417/8934567000012"
    a, b = Account.create().address, Account.create().address
    return {
        "registerOrganisation": reg.register_organisation(ref).gas_used,
        "addSigner": reg.add_signer(ref, a).gas_used,
        "rotateSigner": reg.rotate_signer(ref, a, b).gas_used,
        "revokeSigner": reg.revoke_signer(ref, b).gas_used,
        "anchor (reference)": contract.anchor(os.urandom(32), 1, 1000).gas_used,
    }


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    with AnvilNode() as node:
        runs = [one_run(node.url) for _ in range(a.reps)]
    ref = statistics.median(r["anchor (reference)"] for r in runs)
    print(f"key registry gas, {a.reps} repetitions (fresh contract each):")  # noqa: T201
    for op in OPS:
        values = [r[op] for r in runs]
        med = statistics.median(values)
        print(f"  {op:<22} min {min(values):>7,} median {med:>9,.0f} gas  = {med / ref:.2f} x anchor")  # noqa: T201


if __name__ == "__main__":
    main()
