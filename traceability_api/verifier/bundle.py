"""Independent verification of a proof bundle against the chain: no AgriTrace database or
server involved, only the bundle, a JSON-RPC endpoint and the contract ABI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chain.client import AnchorContract
from chain.registry import SignerWindow
from traceability_api.consensus.proofs import (
    BUNDLE_FORMAT,
    READABLE_VERSIONS,
    leaf_of_digest_hex,
    leaf_of_hash_id,
    proof_leads_to,
    recompute_hash,
)
from traceability_api.consensus.records import correction_digest
from traceability_api.verifier.disclosed import check_hidden
from traceability_api.verifier.shape import shape_problems
from traceability_api.verifier.signatures import check_signature


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: int = 0
    pending: int = 0
    failed: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else (3 if self.pending else 0)

    def add(self, status: str, text: str) -> None:
        self.lines.append(f"{status:<9} {text}")
        if status == "NOTE":
            return
        if status == "OK":
            self.ok += 1
        elif status == "PENDING":
            self.pending += 1
        else:
            self.failed += 1


def _check_proof(
    rep: Report, label: str, leaf: bytes, entry: dict[str, Any], batches: dict[str, Any], contract: AnchorContract,
    roots: dict[str, int | None], verdicts: dict[Verdict, bool],
) -> int | None:  # fmt: skip
    """Adds the record's proof line; returns the on-chain anchoring time if the proof verifies."""
    if entry.get("status") != "anchored":
        rep.add("PENDING", f"{label}: not anchored yet")
        return None
    if entry.get("leaf") != "0x" + leaf.hex():
        rep.add("FAIL", f"{label}: leaf in the bundle is not the leaf of its hash")
        return None
    batch = batches.get(str(entry.get("batch")))
    if batch is None:
        rep.add("FAIL", f"{label}: batch {entry.get('batch')} missing from the bundle")
        return None
    proof = [bytes.fromhex(p[2:]) for p in entry.get("proof", [])]
    root = bytes.fromhex(batch["root"][2:])
    if not proof_leads_to(leaf, entry.get("proof", []), batch["root"]):
        rep.add("FAIL", f"{label}: Merkle proof does not lead to root {batch['root']}")
        return None
    key = batch["root"]
    if key not in roots:
        record = contract.anchor_of(root)
        roots[key] = record.timestamp if record is not None else None
    if roots[key] is None:
        rep.add("FAIL", f"{label}: root {batch['root']} is not anchored on chain")
        return None
    verdict = verdicts.get((entry["leaf"], batch["root"], tuple(entry.get("proof", []))))
    if not (contract.verify(proof, root, leaf) if verdict is None else verdict):
        rep.add("FAIL", f"{label}: the contract's verify() rejects the proof")
        return None
    rep.add("OK", f"{label}: anchored in block {batch['blockNumber']} (tx {batch['txHash']})")
    return roots[key]


Verdict = tuple[str, str, tuple[str, ...]]  # (leaf, root, proof) as the bundle writes them


def _contract_verdicts(records: list[Any], batches: dict[str, Any], contract: AnchorContract) -> dict[Verdict, bool]:
    """The contract's ``verify()`` of every anchored record's proof, asked in JSON-RPC batches
    (``verify_many``) rather than one call per record; a record too malformed to ask about is left
    out (``_check_proof`` fails it, or asks alone)."""
    keys: list[Verdict] = []
    items: list[tuple[list[bytes], bytes, bytes]] = []
    seen: set[Verdict] = set()
    for r in records:
        try:
            batch = batches.get(str(r.get("batch")))
            if r.get("status") != "anchored" or not isinstance(batch, dict):
                continue
            key = (str(r["leaf"]), str(batch["root"]), tuple(str(p) for p in r.get("proof", [])))
            if key in seen or not proof_leads_to(bytes.fromhex(key[0][2:]), list(key[2]), key[1]):
                continue
            items.append(([bytes.fromhex(p[2:]) for p in key[2]], bytes.fromhex(key[1][2:]), bytes.fromhex(key[0][2:])))
            keys.append(key)
            seen.add(key)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    return dict(zip(keys, contract.verify_many(items), strict=True)) if items else {}


def verify_bundle(bundle: dict[str, Any], contract: AnchorContract, *, require_signatures: bool = False) -> Report:
    """Every event's hash, proof, root on chain and (bundle v2) signature and signer registration;
    ``require_signatures``: an unsigned event fails instead of being noted."""
    rep = Report()
    version = bundle.get("version") if isinstance(bundle, dict) else None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT or version not in READABLE_VERSIONS:
        rep.add("FAIL", f"not an {BUNDLE_FORMAT} document of version {' or '.join(map(str, READABLE_VERSIONS))}")
        return rep
    problems = shape_problems(bundle)
    for problem in problems:
        rep.add("FAIL", f"malformed bundle: {problem}")
    if problems:
        return rep
    chain_id = contract.chain_id()
    want = bundle.get("chain", {}).get("chainId")
    if want is not None and int(want) != chain_id:
        rep.add("FAIL", f"bundle is for chain {want}, the RPC serves chain {chain_id}")
        return rep
    if not contract.is_deployed():
        elsewhere = "the bundle (or --contract) names another contract, or the RPC serves another chain"
        rep.add("FAIL", f"there is no contract at {contract.address} on chain {chain_id}: {elsewhere}")
        return rep
    batches = bundle.get("batches", {})
    roots: dict[str, int | None] = {}
    keys: dict[tuple[str, str], SignerWindow | None] = {}
    hashes = set()
    records = [r for r in [*bundle.get("events", []), *bundle.get("corrections", [])] if isinstance(r, dict)]
    verdicts = _contract_verdicts(records, batches, contract)
    for i, entry in enumerate(bundle.get("events", [])):
        if "event" not in entry and "disclosure" in entry:
            at = check_hidden(
                rep, i, entry, lambda lbl, leaf, e: _check_proof(rep, lbl, leaf, e, batches, contract, roots, verdicts)
            )
            if at is not None or entry.get("status") != "anchored":
                check_signature(rep, f"event {i}", entry, at, contract, chain_id, require=require_signatures, seen=keys)
            continue
        ev = entry.get("event", {})
        label = f"event {i} ({ev.get('type', '?')} {ev.get('bizStep', '')} {ev.get('eventTime', '')})".replace(
            "  ", " "
        )
        try:
            recomputed = recompute_hash(ev, int(entry.get("hashRule", 1)))
        except Exception as exc:  # noqa: BLE001 - a malformed event is a failed check, not a crash
            rep.add("FAIL", f"{label}: cannot hash the event ({exc.__class__.__name__})")
            continue
        if recomputed != entry.get("hashId"):
            rep.add("FAIL", f"{label}: content does not match its hash ID (changed after capture)")
            continue
        hashes.add(recomputed)
        at = _check_proof(rep, label, leaf_of_hash_id(recomputed), entry, batches, contract, roots, verdicts)
        # whatever version the bundle states: it is the bundle's word, and must not turn the checks off
        if at is not None or entry.get("status") != "anchored":
            check_signature(rep, label, entry, at, contract, chain_id, require=require_signatures, seen=keys)
    for i, c in enumerate(bundle.get("corrections", [])):
        label = f"errorDeclaration {i} on {c.get('eventHashId', '?')[:30]}..."
        digest = correction_digest(c.get("eventHashId", ""), c.get("errorDeclaration", {}))
        if "0x" + digest != c.get("digest"):
            rep.add("FAIL", f"{label}: declaration does not match its digest")
            continue
        _check_proof(rep, label, leaf_of_digest_hex(digest), c, batches, contract, roots, verdicts)
    if not bundle.get("events") and not bundle.get("corrections"):  # a lot has at least its commissioning
        rep.add("FAIL", "the bundle holds no events: there is nothing to verify (a lot's bundle starts at its harvest)")
    return rep
