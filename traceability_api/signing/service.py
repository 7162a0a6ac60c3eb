"""Registering organisations and their signing keys: each change is a registry transaction on
chain first, then its mirror row here (so capture never trusts a key the chain does not know).
Windows are read back from the chain (block timestamps), never computed locally."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select

from chain.errors import ChainError
from chain.registry import KeyRegistry
from traceability_api.config import Settings
from traceability_api.errors import Conflict, Invalid, NotFound
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import party_uri
from traceability_api.signing.custody import new_custodial
from traceability_api.signing.models import SigningKey, SigningOrg


def _chain(what: str, exc: ChainError) -> Invalid:
    return Invalid(f"key registry refused to {what}: {exc}")


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """A registry read after a transaction: its failure is reported, and nothing is mirrored
    (the caller's transaction is not committed; the chain is the truth either way)."""
    try:
        yield
    except ChainError as exc:
        raise Invalid(f"key registry could not be read back after {what}: {exc}; retry") from exc


def signing_org(session: Session, registry: KeyRegistry, org: Organisation) -> SigningOrg:
    """The organisation's registry entry, registering it on chain on first use."""
    assert org.id is not None
    found = session.get(SigningOrg, org.id)
    if found is not None:
        return found
    ref = party_uri(org)
    try:
        if not registry.is_organisation(ref):
            registry.register_organisation(ref)
    except ChainError as exc:
        raise _chain("register the organisation", exc) from exc
    row = SigningOrg(org_id=org.id, ref=ref)
    session.add(row)
    session.flush()
    return row


def _mirror(
    session: Session, registry: KeyRegistry, org: SigningOrg, address: str,
    keystore: str | None = None, attestation: str | None = None,
) -> SigningKey:  # fmt: skip
    with _reading(f"adding {address}"):
        window = registry.window(org.ref, address)
    if window is None:
        raise Invalid(f"{address} is not a key of {org.ref!r} on chain")
    row = SigningKey(org_id=org.org_id, address=address, valid_from=window.valid_from,
                     valid_until=window.valid_until, revoked_at=window.revoked_at or None, custodial=window.custodial,
                     keystore=keystore, attestation=attestation)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def add_key(
    session: Session, registry: KeyRegistry, org: Organisation, address: str,
    valid_from: int = 0, valid_until: int = 0, attestation: str | None = None,
) -> SigningKey:  # fmt: skip
    """Register ``address`` (an organisation's own key) for [valid_from, valid_until)."""
    so = signing_org(session, registry, org)
    if session.exec(select(SigningKey).where(SigningKey.address == address)).first() is not None:
        raise Conflict(f"{address} is already registered")
    try:  # already on chain for this organisation (an earlier attempt whose read-back failed): mirror it
        if registry.window(so.ref, address) is None:
            registry.add_signer(so.ref, address, valid_from, valid_until)
    except ChainError as exc:
        raise _chain(f"add {address}", exc) from exc
    return _mirror(session, registry, so, address, attestation=attestation)


def add_custodial_key(session: Session, registry: KeyRegistry, org: Organisation, settings: Settings) -> SigningKey:
    """Generate a key held (encrypted) by the service and register it for ``org``."""
    so = signing_org(session, registry, org)
    acct, keystore = new_custodial(settings)
    try:
        registry.add_signer(so.ref, acct.address, custodial=True)
    except ChainError as exc:
        raise _chain("add a custodial key", exc) from exc
    return _mirror(session, registry, so, acct.address, keystore=keystore)


def _key(session: Session, org_id: int, address: str) -> tuple[SigningOrg, SigningKey]:
    key = session.exec(select(SigningKey).where(SigningKey.address == address)).first()
    so = session.get(SigningOrg, org_id)
    if key is None or so is None or key.org_id != org_id:
        raise NotFound(f"{address} is not a key of organisation {org_id}")
    return so, key


def _refresh(registry: KeyRegistry, so: SigningOrg, key: SigningKey) -> SigningKey:
    with _reading(f"changing {key.address}"):
        window = registry.window(so.ref, key.address)
    assert window is not None
    key.valid_from, key.valid_until, key.revoked_at = window.valid_from, window.valid_until, window.revoked_at or None
    return key


def revoke_key(session: Session, registry: KeyRegistry, org_id: int, address: str) -> SigningKey:
    so, key = _key(session, org_id, address)
    try:
        registry.revoke_signer(so.ref, key.address)
    except ChainError as exc:
        raise _chain(f"revoke {address}", exc) from exc
    session.add(_refresh(registry, so, key))
    return key


def rotate_key(
    session: Session, registry: KeyRegistry, org_id: int, old: str, new: str | None, settings: Settings
) -> SigningKey:
    """Replace ``old`` by ``new`` (an own key), or by a fresh custodial key when ``new`` is None."""
    so, key = _key(session, org_id, old)
    keystore = None
    if new is None:
        acct, keystore = new_custodial(settings)
        new = acct.address
    try:
        registry.rotate_signer(so.ref, key.address, new, custodial=keystore is not None)
    except ChainError as exc:
        raise _chain(f"rotate {old}", exc) from exc
    session.add(_refresh(registry, so, key))
    return _mirror(session, registry, so, new, keystore=keystore)


def keys_of(session: Session, org_id: int) -> list[SigningKey]:
    return list(session.exec(select(SigningKey).where(SigningKey.org_id == org_id).order_by(SigningKey.id)))  # type: ignore[arg-type]
