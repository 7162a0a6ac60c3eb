"""The key registry (second role of the anchor contract) on a real anvil node: roles,
registration, rotation, revocation, validity windows and their events."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from chain.client import AnchorContract
from chain.errors import AnchorError
from chain.registry import NO_END, KeyRegistry, org_key
from tests.conftest import fund

pytestmark = [pytest.mark.sqlite_only, pytest.mark.chain]
REF = "urn:epc:id:pgln:8934567.00001"


@pytest.fixture
def registry(w3: Web3, funded_account: LocalAccount, chain_snapshot: None) -> KeyRegistry:
    c = AnchorContract.deploy(w3, funded_account, admin=funded_account.address, anchorer=funded_account.address)
    return KeyRegistry(c)


def _now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def _tick(w3: Web3, seconds: int = 10) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]


def _events(reg: KeyRegistry, w3: Web3, name: str, tx: str) -> list[dict]:  # type: ignore[type-arg]
    receipt = w3.eth.get_transaction_receipt(tx)  # type: ignore[arg-type]
    logs = getattr(reg.anchor.contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in logs]


def test_register_and_add_signer_emit_events(registry: KeyRegistry, w3: Web3) -> None:
    key = Account.create().address
    r = registry.register_organisation(REF)
    assert _events(registry, w3, "OrganisationRegistered", r.tx_hash) == [{"org": org_key(REF), "ref": REF}]
    assert registry.is_organisation(REF)
    r = registry.add_signer(REF, key)
    (added,) = _events(registry, w3, "SignerAdded", r.tx_hash)
    assert (added["signer"], added["validUntil"], added["custodial"]) == (key, NO_END, False)
    t = _now(w3)
    assert added["validFrom"] == t
    assert registry.valid_at(REF, key, t) and not registry.valid_at(REF, key, t - 1)
    assert registry.window(REF, key).valid_at(t)  # type: ignore[union-attr]
    assert registry.window("urn:other", key) is None


def test_window_bounds_are_inclusive_exclusive(registry: KeyRegistry, w3: Web3) -> None:
    key = Account.create().address
    registry.register_organisation(REF)
    registry.add_signer(REF, key, valid_from=1_000, valid_until=2_000)
    assert [registry.valid_at(REF, key, t) for t in (999, 1_000, 1_999, 2_000)] == [False, True, True, False]
    with pytest.raises(AnchorError, match="EmptyWindow"):
        registry.add_signer(REF, Account.create().address, valid_from=2_000, valid_until=2_000)


def test_rotation_ends_the_old_key_and_starts_the_new(registry: KeyRegistry, w3: Web3) -> None:
    old, new = Account.create().address, Account.create().address
    registry.register_organisation(REF)
    registry.add_signer(REF, old)
    _tick(w3)
    r = registry.rotate_signer(REF, old, new, custodial=True)
    (rot,) = _events(registry, w3, "SignerRotated", r.tx_hash)
    assert registry.window(REF, new).custodial and not registry.window(REF, old).custodial  # type: ignore[union-attr]
    at = rot["at"]
    assert (rot["oldSigner"], rot["newSigner"]) == (old, new)
    assert registry.valid_at(REF, old, at - 1) and not registry.valid_at(REF, old, at)
    assert registry.valid_at(REF, new, at) and not registry.valid_at(REF, new, at - 1)
    with pytest.raises(AnchorError, match="SignerEnded"):
        registry.rotate_signer(REF, old, Account.create().address)


def test_revocation_keeps_the_past_and_refuses_the_future(registry: KeyRegistry, w3: Web3) -> None:
    key = Account.create().address
    registry.register_organisation(REF)
    registry.add_signer(REF, key)
    _tick(w3)
    r = registry.revoke_signer(REF, key)
    (rev,) = _events(registry, w3, "SignerRevoked", r.tx_hash)
    assert registry.valid_at(REF, key, rev["revokedAt"] - 1)
    assert not registry.valid_at(REF, key, rev["revokedAt"])
    assert registry.window(REF, key).revoked_at == rev["revokedAt"]  # type: ignore[union-attr]
    with pytest.raises(AnchorError, match="SignerEnded"):
        registry.revoke_signer(REF, key)


def test_a_key_belongs_to_one_organisation_only(registry: KeyRegistry) -> None:
    key = Account.create().address
    registry.register_organisation(REF)
    registry.register_organisation("urn:agritrace:org:2")
    registry.add_signer(REF, key)
    with pytest.raises(AnchorError, match="SignerTaken"):
        registry.add_signer("urn:agritrace:org:2", key)
    assert not registry.valid_at("urn:agritrace:org:2", key, 2**39)
    with pytest.raises(AnchorError, match="UnknownOrganisation"):
        registry.add_signer("urn:never-registered", Account.create().address)
    with pytest.raises(AnchorError, match="OrganisationExists"):
        registry.register_organisation(REF)
    with pytest.raises(AnchorError, match="UnknownSigner"):
        registry.revoke_signer(REF, Account.create().address)


def test_only_the_registrar_role_writes(registry: KeyRegistry, w3: Web3) -> None:
    outsider = Account.create()
    fund(w3, outsider.address)
    as_outsider = KeyRegistry(AnchorContract(w3, registry.address, outsider))
    with pytest.raises(AnchorError, match="AccessControlUnauthorizedAccount"):
        as_outsider.register_organisation(REF)
    registry.register_organisation(REF)
    with pytest.raises(AnchorError, match="AccessControlUnauthorizedAccount"):
        as_outsider.add_signer(REF, outsider.address)
    assert not registry.is_registrar(outsider.address)
    registry.grant_registrar(outsider.address)
    as_outsider.add_signer(REF, outsider.address)
    assert registry.is_registrar(outsider.address)
