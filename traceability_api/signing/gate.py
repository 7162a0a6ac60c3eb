"""The capture gate: an event is stored only with a signature that verifies and whose signer is a
current key of the organisation recording it; events of organisations with a custodial key are
signed here on their behalf.  Capture reads the registry's mirror (``signing_key``), refreshed
every ``AGRITRACE_SIGNING_CACHE_S``; verifiers ask the chain itself (``verifier/signatures.py``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.consensus.signatures import (
    SIGNATURE_FIELD,
    Domain,
    Envelope,
    SignatureInvalid,
    parse_envelope,
    signing_digest,
    verify_envelope,
)
from traceability_api.errors import Invalid
from traceability_api.parties.service import Principal
from traceability_api.signing.custody import Unlocked
from traceability_api.signing.models import SigningKey, SigningOrg


@dataclass(frozen=True)
class _View:
    refs: dict[int, str]  # org id -> registry ref
    keys: dict[str, SigningKey]  # lower-case address -> key
    custodial: dict[int, list[SigningKey]]  # org id -> its custodial keys
    loaded: float


class SignatureGate:
    """A capture check (a no-op as such) whose ``envelope_for`` capture calls with each new
    event's hash ID (see ``events/signature_hook.py``)."""

    def __init__(self, engine: Engine, settings: Settings, chain_id: int, contract: str) -> None:
        self.engine = engine
        self.settings = settings
        self.chain_id = chain_id
        self.contract = contract
        self.unlocked = Unlocked()
        self._view: _View | None = None
        self._lock = threading.Lock()

    def __call__(self, session: Session, p: Principal, event: dict[str, Any], when: datetime, st: Settings) -> None:
        return None

    def invalidate(self) -> None:
        with self._lock:
            self._view = None

    def view(self) -> _View:
        with self._lock:
            v = self._view
            if v is None or time.monotonic() - v.loaded > self.settings.signing_cache_s:
                v = self._view = self._load()
            return v

    def _load(self) -> _View:
        with Session(self.engine) as s:
            refs = {o.org_id: o.ref for o in s.exec(select(SigningOrg))}
            keys = list(s.exec(select(SigningKey)))
        custodial: dict[int, list[SigningKey]] = {}
        for k in keys:
            if k.custodial and k.keystore:
                custodial.setdefault(k.org_id, []).append(k)
        return _View(refs, {k.address.lower(): k for k in keys}, custodial, time.monotonic())

    def domain(self, ref: str) -> Domain:
        return Domain(self.chain_id, self.contract, ref)

    def envelope_for(self, session: Session, p: Principal, hash_id: str, envelope: Any) -> dict[str, Any] | None:
        v = self.view()
        now = int(time.time())
        if envelope is None:
            return self._custodial_or_unsigned(v, p, hash_id, now)
        try:
            env = parse_envelope(envelope)
        except SignatureInvalid as exc:
            raise Invalid(str(exc)) from exc
        ref = v.refs.get(p.org_id)
        if ref is None:
            raise Invalid(f"organisation {p.org_id} has no key in the registry: its events cannot be signed yet")
        if env.org != ref:
            raise Invalid(f"{SIGNATURE_FIELD}.org is {env.org!r}, but the event is recorded by {ref!r}")
        try:
            verify_envelope(env, hash_id, self.chain_id, self.contract)
        except SignatureInvalid as exc:
            raise Invalid(f"{SIGNATURE_FIELD} does not verify: {exc}") from exc
        key = v.keys.get(env.signer.lower())
        if key is None or key.org_id != p.org_id:
            raise Invalid(f"signer {env.signer} is not a registered key of organisation {ref!r}")
        if not key.valid_at(now):
            why = "revoked" if key.revoked_at is not None and now >= key.revoked_at else "outside its validity window"
            raise Invalid(f"signer {env.signer} of {ref!r} is {why} (valid {key.valid_from}..{key.valid_until})")
        return Envelope(key.address, env.sig, ref, key.custodial).as_json()

    def _custodial_or_unsigned(self, v: _View, p: Principal, hash_id: str, now: int) -> dict[str, Any] | None:
        key = next((k for k in v.custodial.get(p.org_id, []) if k.valid_at(now)), None)
        if key is None:
            if self.settings.require_signatures:
                raise Invalid(
                    f"events must be signed ({SIGNATURE_FIELD}): organisation {p.org_id} has no current custodial"
                    " key, so sign with `agritrace sign` or the workspace"
                )
            return None
        assert key.keystore is not None
        signer = self.unlocked.get(key.address, key.keystore, self.settings)
        ref = v.refs[p.org_id]
        sig = signer.sign(signing_digest(self.domain(ref), hash_id))
        return Envelope(key.address, sig, ref, True).as_json()
