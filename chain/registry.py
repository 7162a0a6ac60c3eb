"""The signing-key registry: the second role of the deployed AgriTraceAnchor contract
(``contracts/AgriTraceKeyRegistry.sol``).  The authority (REGISTRAR_ROLE) registers
organisations and their signer addresses with validity windows; anyone reads them back.

Organisations are keyed by ``keccak256(utf8(ref))`` (``ref``: GS1 party URI or AgriTrace id),
the same key the EIP-712 domain of an event signature carries as its salt."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak  # type: ignore[attr-defined]
from web3 import Web3

from chain.client import AnchorContract, Receipt
from chain.rpc import translated

REGISTRAR_ROLE = keccak(text="REGISTRAR_ROLE")
NO_END = 2**40 - 1  # validUntil of a key registered without an end


@dataclass(frozen=True)
class SignerWindow:
    """A key's validity on chain: valid at t iff valid_from <= t < valid_until and (not revoked or t < revoked_at)."""

    valid_from: int
    valid_until: int
    revoked_at: int  # 0: not revoked
    custodial: bool = False  # the key is held by AgriTrace (signs on the organisation's behalf)

    def valid_at(self, t: int) -> bool:
        return self.valid_from <= t < self.valid_until and (self.revoked_at == 0 or t < self.revoked_at)


def org_key(ref: str) -> bytes:
    return bytes(keccak(text=ref))


class KeyRegistry:
    """Typed wrapper around the registry functions of one deployed contract."""

    def __init__(self, contract: AnchorContract) -> None:
        self.anchor = contract
        self.fns = contract.contract.functions

    @property
    def address(self) -> str:
        return self.anchor.address

    # ---- writes (REGISTRAR_ROLE) ------------------------------------------------------------
    @translated
    def register_organisation(self, ref: str) -> Receipt:
        return self.anchor._transact(self.fns.registerOrganisation(org_key(ref), ref))

    @translated
    def add_signer(
        self, ref: str, signer: str, valid_from: int = 0, valid_until: int = 0, custodial: bool = False
    ) -> Receipt:
        return self.anchor._transact(
            self.fns.addSigner(org_key(ref), Web3.to_checksum_address(signer), valid_from, valid_until, custodial)
        )

    @translated
    def revoke_signer(self, ref: str, signer: str) -> Receipt:
        return self.anchor._transact(self.fns.revokeSigner(org_key(ref), Web3.to_checksum_address(signer)))

    @translated
    def rotate_signer(self, ref: str, old: str, new: str, valid_until: int = 0, custodial: bool = False) -> Receipt:
        return self.anchor._transact(
            self.fns.rotateSigner(
                org_key(ref), Web3.to_checksum_address(old), Web3.to_checksum_address(new), valid_until, custodial
            )
        )

    @translated
    def grant_registrar(self, address: str) -> Receipt:
        return self.anchor._transact(self.fns.grantRole(REGISTRAR_ROLE, Web3.to_checksum_address(address)))

    # ---- reads --------------------------------------------------------------------------------
    @translated
    def is_organisation(self, ref: str) -> bool:
        return bool(self.fns.isOrganisation(org_key(ref)).call())

    @translated
    def window(self, ref: str, signer: str) -> SignerWindow | None:
        """The key's window, None if ``signer`` is not a key of ``ref``."""
        vf, vu, rv, custodial = self.fns.signerKey(org_key(ref), Web3.to_checksum_address(signer)).call()
        return None if vu == 0 else SignerWindow(int(vf), int(vu), int(rv), bool(custodial))

    @translated
    def valid_at(self, ref: str, signer: str, at: int) -> bool:
        """Whether the chain says ``signer`` was a key of ``ref`` at block time ``at``."""
        return bool(self.fns.isSignerValidAt(org_key(ref), Web3.to_checksum_address(signer), at).call())

    @translated
    def is_registrar(self, address: str) -> bool:
        return bool(self.fns.hasRole(REGISTRAR_ROLE, Web3.to_checksum_address(address)).call())
