"""EIP-712 event signatures (consensus core): committed vectors made with eth-account, the
digest and recovery rules, malleability and the envelope's validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from chain.signing import sign_digest, sign_typed_data
from traceability_api.consensus.signatures import (
    Domain,
    Envelope,
    SignatureInvalid,
    checksum_address,
    parse_envelope,
    recover_signer,
    signing_digest,
    verify_envelope,
)

VECTORS = Path(__file__).resolve().parent.parent / "traceability_api/consensus/vectors/signatures"
CASES = json.loads((VECTORS / "eip712-event-vectors.json").read_text())["vectors"]
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.mark.parametrize("case", CASES, ids=[c["org"] for c in CASES])
def test_committed_vectors(case: dict[str, object]) -> None:
    domain = Domain(int(case["chainId"]), str(case["contract"]), str(case["org"]))  # type: ignore[call-overload]
    digest = signing_digest(domain, str(case["hashId"]))
    assert "0x" + digest.hex() == case["digest"]
    assert recover_signer(digest, str(case["sig"])) == case["address"]
    # eth-account (an independent EIP-712 encoder) agrees today too
    msg = encode_typed_data(full_message=domain.typed_data(str(case["hashId"])))
    assert keccak(b"\x19" + msg.version + msg.header + msg.body) == digest
    acct = Account.from_key(str(case["privateKey"]))
    assert sign_typed_data(acct, domain.typed_data(str(case["hashId"]))) == case["sig"]
    assert sign_digest(acct, digest) == case["sig"]


def _case() -> tuple[Domain, str, str, str]:
    c = CASES[0]
    return Domain(c["chainId"], c["contract"], c["org"]), c["hashId"], c["sig"], c["address"]


def test_a_signature_binds_organisation_chain_contract_and_hash() -> None:
    domain, hid, sig, signer = _case()
    env = Envelope(signer, sig, domain.org_ref, False)
    verify_envelope(env, hid, domain.chain_id, domain.contract)
    for hid2, chain, contract, org in [
        (hid.replace("ab", "ac", 1), domain.chain_id, domain.contract, domain.org_ref),
        (hid, domain.chain_id + 1, domain.contract, domain.org_ref),
        (hid, domain.chain_id, "0x" + "11" * 20, domain.org_ref),
        (hid, domain.chain_id, domain.contract, "urn:agritrace:party:3"),
    ]:
        with pytest.raises(SignatureInvalid, match="not by the stated signer"):
            verify_envelope(Envelope(signer, sig, org, False), hid2, chain, contract)


def test_high_s_and_malformed_signatures_are_refused() -> None:
    domain, hid, sig, _ = _case()
    raw = bytes.fromhex(sig[2:])
    s = int.from_bytes(raw[32:64], "big")
    flipped = raw[:32] + (N - s).to_bytes(32, "big") + bytes([raw[64] ^ 1])
    with pytest.raises(SignatureInvalid, match="canonical"):
        recover_signer(signing_digest(domain, hid), "0x" + flipped.hex())
    for bad in ["", "0x12", sig[:-2] + "1f", "0x" + "00" * 65]:
        with pytest.raises(SignatureInvalid):
            recover_signer(signing_digest(domain, hid), bad)


@pytest.mark.parametrize(
    "value",
    [None, [], {"signer": "0x12", "sig": "0x", "org": "x"}, {"signer": "0x" + "11" * 20, "sig": "0x" + "11" * 65},
     {"signer": "0x" + "11" * 20, "sig": "0x" + "11" * 65, "org": "x", "custodial": "yes"},
     {"signer": "0x" + "11" * 20, "sig": "0x" + "11" * 65, "org": "x", "extra": 1}],
)  # fmt: skip
def test_malformed_envelopes(value: object) -> None:
    with pytest.raises(SignatureInvalid):
        parse_envelope(value)


def test_a_final_newline_is_not_part_of_an_address_or_a_signature() -> None:
    """The address and signature patterns ended in "$" and were used with ``match``, which lets a
    final newline through: "0x<40 hex>\\n" came back from checksum_address with its newline, and
    a signature with one verified (bytes.fromhex skips whitespace) -- a second encoding of one
    signature, which docs/trust-model.md says there is not."""
    domain, hid, sig, signer = _case()
    with pytest.raises(SignatureInvalid):
        checksum_address(signer + "\n")
    with pytest.raises(SignatureInvalid):
        recover_signer(signing_digest(domain, hid), sig + "\n")
    for env in ({"signer": signer + "\n", "sig": sig, "org": "x"}, {"signer": signer, "sig": sig + "\n", "org": "x"}):
        with pytest.raises(SignatureInvalid):
            parse_envelope(env)
    assert recover_signer(signing_digest(domain, hid), sig) == signer


def test_checksum_address_is_eip55() -> None:
    acct = Account.create()
    assert checksum_address(acct.address.lower()) == acct.address
