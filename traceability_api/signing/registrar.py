"""The authority's registry operations as both the JSON API (``signing/router.py``) and the console
(``console/routes/keys.py``) run them: who may, the runtime's registry, the address check, the
custodial refusal, and the finishing step (commit, then the capture gate forgets its keys).  The
rules themselves are ``signing/service.py``'s; this module only gives both doors one way in."""

from __future__ import annotations

from sqlmodel import Session

from chain.registry import KeyRegistry
from traceability_api.consensus.signatures import SignatureInvalid, checksum_address
from traceability_api.errors import ConfigError, Forbidden, Invalid
from traceability_api.parties.models import Organisation, Role
from traceability_api.parties.service import Principal, party_uri
from traceability_api.runtime import Runtime
from traceability_api.signing import attestation, service
from traceability_api.signing.attestation import AttestationIn
from traceability_api.signing.models import SigningKey, SigningOrg
from traceability_api.timeutil import utcnow

NO_CHAIN = "this service runs without a chain: there is no key registry"


def may_register(p: Principal) -> bool:
    """A market authority's admin registers, rotates and revokes signing keys."""
    return p.is_authority and p.role == Role.admin


def require_registrar(p: Principal) -> None:
    if not p.is_authority:
        raise Forbidden("only a market authority registers, rotates and revokes signing keys")
    p.require_admin()


def registry_of(runtime: Runtime) -> KeyRegistry:
    if runtime.chain is None:
        raise Invalid(NO_CHAIN)
    return KeyRegistry(runtime.chain.contract)


def address(raw: str) -> str:
    """An EIP-55 checksummed address, or the refusal saying what is wrong with ``raw``."""
    try:
        return checksum_address(raw)
    except SignatureInvalid as exc:
        raise Invalid(str(exc)) from exc


def attest(session: Session, runtime: Runtime, org: Organisation, raw_address: str, att: AttestationIn) -> str:
    """The stored form of an X.509 attestation of ``raw_address`` for ``org``, checked against the
    authority's trust anchors (before any transaction); Invalid says what is wrong."""
    ref = statement_ref(session, org)
    return attestation.check(att, address(raw_address), ref, runtime.settings.signing_trust_anchors, utcnow())


def register_own_key(
    session: Session, runtime: Runtime, org: Organisation, raw_address: str, valid_from: int, valid_until: int,
    attested: str | None = None,
) -> SigningKey:  # fmt: skip
    """An organisation's own signer address into the registry (``attested``: from ``attest``)."""
    return service.add_key(session, registry_of(runtime), org, address(raw_address), valid_from, valid_until, attested)


def statement_ref(session: Session, org: Organisation) -> str:
    """The reference an attestation's statement names the organisation by (its registry reference)."""
    return party_uri(org) if (so := session.get(SigningOrg, org.id)) is None else so.ref


def add_custodial_key(session: Session, runtime: Runtime, org: Organisation) -> SigningKey:
    try:
        return service.add_custodial_key(session, registry_of(runtime), org, runtime.settings)
    except ConfigError as exc:  # no password configured: the service cannot hold keys
        raise Invalid(f"custodial keys are not available: {exc}") from exc


def revoke_key(session: Session, runtime: Runtime, org_id: int, raw_address: str) -> SigningKey:
    return service.revoke_key(session, registry_of(runtime), org_id, address(raw_address))


def rotate_key(session: Session, runtime: Runtime, org_id: int, old: str, new: str | None) -> SigningKey:
    """``old`` ends now; ``new`` (an own address) or, when None, a fresh custodial key starts."""
    new = address(new) if new else None
    try:
        return service.rotate_key(session, registry_of(runtime), org_id, address(old), new, runtime.settings)
    except ConfigError as exc:
        raise Invalid(f"custodial keys are not available: {exc}") from exc


def done(runtime: Runtime, session: Session) -> None:
    """Commit the mirror rows, then make the capture gate read the keys again."""
    session.commit()
    if runtime.signature_gate is not None:
        runtime.signature_gate.invalidate()
