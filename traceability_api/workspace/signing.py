"""Signing in the browser (non-custodial): the member's key lives encrypted on the phone
(``static/sign.js``); the server never sees it.  Two steps per signed form:

1. ``prepare``: the form is posted to ``<form>/prepare`` with the device's address; the server
   builds the event exactly as the form's own POST will (same code), and answers its CBV 2.0 hash
   ID, the EIP-712 domain (organisation, chain, contract) and digest (``consensus/signatures.py``),
   or refuses (409) if the address is not a current key of the member's organisation.  The phone
   recomputes the digest from the hash ID and the domain it pinned when the key was made, and
   signs nothing else (no blind signing of 32 bytes the server chose).
2. ``attach``: the form is posted with ``sig`` and ``signer``; the envelope goes on the event and
   capture's signature gate verifies it exactly as for ``agritrace sign`` (422 with the reason).

Events whose time the server chooses (a shipment "now") carry the time answered by ``prepare``
back in ``signed_time`` so both steps hash the same event (``signed_time``).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, tzinfo
from typing import Any

from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.datastructures import FormData

from traceability_api.consensus.signatures import SIGNATURE_FIELD, Envelope, signing_digest
from traceability_api.errors import Invalid
from traceability_api.events.capture import DEFAULT_CONTEXT
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal, party_uri
from traceability_api.runtime import Runtime
from traceability_api.signing.document import capture_hash_id
from traceability_api.signing.gate import SignatureGate
from traceability_api.signing.models import SigningOrg
from traceability_api.timeutil import utcnow

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_SIG = re.compile(r"0x[0-9a-fA-F]{130}")
SIGNED_TIME_MAX_AGE = timedelta(minutes=10)  # prepare → sign → post, on a slow phone


class NotSignable(Exception):
    """This member cannot sign here (no registry, or the device's key is not a current key)."""


def _gate(runtime: Runtime) -> SignatureGate:
    if runtime.signature_gate is None:
        raise NotSignable("no-registry")
    return runtime.signature_gate


def prepare(runtime: Runtime, p: Principal, event: dict[str, Any], signer: str) -> dict[str, Any]:
    """The hash ID and digest the device signs for ``event`` (as capture will hash it)."""
    gate = _gate(runtime)
    if not _ADDRESS.fullmatch(signer):
        raise NotSignable("no-device-key")
    view = gate.view()
    ref = view.refs.get(p.org_id)
    key = view.keys.get(signer.lower())
    if ref is None or key is None or key.org_id != p.org_id:
        raise NotSignable("not-registered")
    if not key.valid_at(int(time.time())):
        raise NotSignable("not-current")
    hash_id = capture_hash_id(event, DEFAULT_CONTEXT)
    digest = signing_digest(gate.domain(ref), hash_id)
    return {"hashId": hash_id, "digest": "0x" + digest.hex(), "org": ref, "chainId": gate.chain_id,
            "contract": gate.contract, "signer": key.address, "eventTime": event.get("eventTime")}  # fmt: skip


def domain_of(runtime: Runtime, session: Session, org: Organisation) -> dict[str, Any] | None:
    """The EIP-712 domain the organisation's keys sign in (pinned on the phone with a new key);
    None without a key registry.  The reference is the registry's, or the one registration will use."""
    gate = runtime.signature_gate
    if gate is None or org.id is None:
        return None
    so = session.get(SigningOrg, org.id)
    return {"chainId": gate.chain_id, "contract": gate.contract, "org": so.ref if so else party_uri(org)}


def prepared(runtime: Runtime, p: Principal, event: dict[str, Any], form: FormData, words: dict[str, str]) -> Any:
    """The JSON answer of a ``/prepare`` route."""
    try:
        return JSONResponse(prepare(runtime, p, event, str(form.get("signer") or "")))
    except NotSignable as exc:
        return JSONResponse({"error": str(exc), "message": words["sign_" + str(exc).replace("-", "_")]}, 409)


def refused(errors: dict[str, str]) -> JSONResponse:
    """A prepare whose form does not validate: the browser then posts the form to show the errors."""
    return JSONResponse({"error": "invalid", "fields": sorted(errors)}, 422)


def attach(runtime: Runtime, p: Principal, event: dict[str, Any], form: FormData) -> dict[str, Any]:
    """``event`` with the browser's signature envelope when the form carries one (else unchanged:
    a custodial key, if any, signs at capture)."""
    env = envelope(runtime, p, form)
    return event if env is None else event | {SIGNATURE_FIELD: env}


def envelope(runtime: Runtime, p: Principal, form: FormData) -> dict[str, Any] | None:
    """The envelope of the form's browser signature (None when unsigned); capture verifies it."""
    sig, signer = str(form.get("sig") or ""), str(form.get("signer") or "")
    if not sig and not signer:
        return None
    if not _SIG.fullmatch(sig) or not _ADDRESS.fullmatch(signer):
        raise Invalid("the browser's signature is malformed (sig: 0x + 130 hex digits, signer: an address)")
    gate = runtime.signature_gate
    ref = gate.view().refs.get(p.org_id) if gate is not None else None
    if ref is None:
        raise Invalid(f"{SIGNATURE_FIELD} cannot be checked: your organisation has no key in the registry")
    return Envelope(signer, sig, ref, False).as_json()


def event_time(form: FormData, zone: tzinfo) -> str:
    """The time of an event the server dates itself: the one ``prepare`` answered, when the form
    brings it back signed, else now (in the service's zone)."""
    return signed_time(form) or datetime.now(zone).isoformat(timespec="milliseconds")


def signed_time(form: FormData) -> str | None:
    """The event time ``prepare`` answered (posted back with the signature), if recent and sane;
    else None (the server takes now, and an attached signature will not verify)."""
    raw = str(form.get("signed_time") or "")
    if not raw or len(raw) > 40 or not form.get("sig"):  # only a signed form chooses its (recent) time
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if when.tzinfo is None or not utcnow() - SIGNED_TIME_MAX_AGE <= when <= utcnow() + timedelta(seconds=5):
        return None
    return raw
