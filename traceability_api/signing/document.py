"""Signing an EPCIS document on the organisation's own machine (``agritrace sign``): each event
gets its ``agri:signature`` envelope over the hash ID capture will compute for it."""

from __future__ import annotations

import copy
from typing import Any

from chain.keys import LocalAccount
from chain.signing import sign_digest
from traceability_api.consensus.event_hash import HASH_RULE, hash_id_of_event
from traceability_api.consensus.signatures import (
    SIGNATURE_FIELD,
    Domain,
    Envelope,
    SignatureInvalid,
    checksum_address,
    signing_digest,
)
from traceability_api.errors import Invalid
from traceability_api.events.capture import DEFAULT_CONTEXT, extended_context


def domain_of(data: Any) -> Domain:
    """The Domain of a ``GET /api/v1/signing/domain`` answer; Invalid says what is wrong with it (a
    contract that is no address, a chain id out of uint256 ended ``agritrace sign`` in a traceback)."""
    try:
        chain_id, contract, org = int(data["chainId"]), data["contract"], data["org"]
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid("the domain file must hold org, chainId and contract (GET /api/v1/signing/domain)") from exc
    if not 0 < chain_id < 2**256:
        raise Invalid(f"the domain's chainId {chain_id} is not a chain id (a positive 256-bit number)")
    if not isinstance(org, str) or not 0 < len(org) <= 200:
        raise Invalid("the domain's org must be the organisation's registry reference (1-200 characters)")
    try:
        return Domain(chain_id, checksum_address(contract), org)
    except SignatureInvalid as exc:
        raise Invalid(f"the domain's contract: {exc}") from exc


def capture_hash_id(event: dict[str, Any], document_context: Any) -> str:
    """The hash ID capture computes for ``event`` inside a document with ``document_context``."""
    full = copy.deepcopy(event)
    full.pop(SIGNATURE_FIELD, None)
    full["@context"] = extended_context(document_context, event.get("@context"))
    return hash_id_of_event(full, HASH_RULE)


def sign_event(event: dict[str, Any], document_context: Any, account: LocalAccount, domain: Domain) -> dict[str, Any]:
    hash_id = capture_hash_id(event, document_context)
    sig = sign_digest(account, signing_digest(domain, hash_id))
    return event | {SIGNATURE_FIELD: Envelope(account.address, sig, domain.org_ref, False).as_json()}


def sign_document(doc: Any, account: LocalAccount, domain: Domain) -> dict[str, Any]:
    """A copy of the EPCIS document with every event signed (a single event is signed alone)."""
    if not isinstance(doc, dict):
        raise Invalid("expected an EPCIS document or event (a JSON object)")
    if doc.get("type") != "EPCISDocument":
        return sign_event(doc, DEFAULT_CONTEXT, account, domain)
    events = doc.get("epcisBody", {}).get("eventList") if isinstance(doc.get("epcisBody"), dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise Invalid("epcisBody.eventList must be a list of events")
    context = doc.get("@context", DEFAULT_CONTEXT)
    out = copy.deepcopy(doc)
    out["epcisBody"]["eventList"] = [sign_event(e, context, account, domain) for e in events]
    return out
