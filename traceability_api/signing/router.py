"""Signing keys: the EIP-712 domain an organisation signs in, its keys, and the authority's
registry operations (register a key, a custodial key, revoke, rotate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import Forbidden, Invalid
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.service import get_org
from traceability_api.runtime import Runtime
from traceability_api.signing import attestation, registrar, service
from traceability_api.signing.attestation import AttestationIn
from traceability_api.signing.models import SigningKey, SigningKeyPublic, SigningOrg
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1/signing", tags=["signing"])
UINT40 = 2**40 - 1


class KeyIn(BaseModel):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    valid_from: int = Field(default=0, ge=0, le=UINT40, description="block time (Unix s); 0: now")
    valid_until: int = Field(default=0, ge=0, le=UINT40, description="block time (Unix s), exclusive; 0: no end")
    attestation: AttestationIn | None = Field(default=None, description="X.509 certificate vouching for the key")


class RotateIn(BaseModel):
    new_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$", description="none: custodial")


def _public(k: SigningKey) -> SigningKeyPublic:
    return SigningKeyPublic.model_validate(k.model_dump() | {"attested_by": attestation.subject_of(k.attestation)})


def _done(runtime: Runtime, session: SessionDep, key: SigningKey) -> SigningKeyPublic:
    registrar.done(runtime, session)
    return _public(key)


@router.get("/domain")
def domain(p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    """What the caller's organisation signs with (the input of ``agritrace sign --domain``): its
    registry reference, the chain and contract, and the EIP-712 typed data with ``hashId`` to fill in."""
    gate = runtime.signature_gate
    so = session.get(SigningOrg, p.org_id)
    if gate is None or so is None:
        raise Invalid("your organisation has no key in the registry yet: ask the authority to register one")
    return {"org": so.ref, "chainId": gate.chain_id, "contract": gate.contract,
            "typedData": gate.domain(so.ref).typed_data("")}  # fmt: skip


@router.get("/organisations/{org_id}/keys", response_model=list[SigningKeyPublic])
def list_keys(org_id: DbId, p: PrincipalDep, session: SessionDep) -> list[SigningKeyPublic]:
    if org_id != p.org_id and not p.is_authority:
        raise Forbidden("an organisation sees its own signing keys only")
    return [_public(k) for k in service.keys_of(session, org_id)]


@router.post("/organisations/{org_id}/keys", status_code=status.HTTP_201_CREATED, response_model=SigningKeyPublic)
def register_key(org_id: DbId, data: KeyIn, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Any:
    """The authority registers an organisation's own signer address (non-custodial)."""
    registrar.require_registrar(p)
    org = get_org(session, org_id)
    attested = None if data.attestation is None else registrar.attest(session, runtime, org, data.address,
                                                                      data.attestation)  # fmt: skip
    key = registrar.register_own_key(session, runtime, org, data.address, data.valid_from, data.valid_until, attested)
    return _done(runtime, session, key)


@router.post("/organisations/{org_id}/custodial", status_code=status.HTTP_201_CREATED, response_model=SigningKeyPublic)
def custodial_key(org_id: DbId, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Any:
    """The authority gives an organisation that manages no keys a key held by AgriTrace."""
    registrar.require_registrar(p)
    return _done(runtime, session, registrar.add_custodial_key(session, runtime, get_org(session, org_id)))


@router.post("/organisations/{org_id}/keys/{address}/revoke", response_model=SigningKeyPublic)
def revoke(org_id: DbId, address: str, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Any:
    registrar.require_registrar(p)
    key = registrar.revoke_key(session, runtime, org_id, address)
    return _done(runtime, session, key)


@router.post("/organisations/{org_id}/keys/{address}/rotate", response_model=SigningKeyPublic)
def rotate(
    org_id: DbId, address: str, data: RotateIn, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> Any:
    """End ``address`` now and start the new key (an own address, or a fresh custodial key)."""
    registrar.require_registrar(p)
    return _done(runtime, session, registrar.rotate_key(session, runtime, org_id, address, data.new_address))
