#!/usr/bin/env python
"""Benchmark: the cost of event signatures at capture, and of verifying a signed lot's bundle.

    .venv/bin/python scripts/bench/signatures.py [--db postgresql|sqlite] [--events 2000] [--batch 50] [--reps 3]

1. Capture (in process, the service's capture_events with its checks, one transaction per
   document of --batch events, --events events of each kind per repetition, the kinds interleaved
   document by document so that other processes' load weighs on each alike):
   - reference: unsigned events, no signature gate;
   - signed: every event carries an own-key agri:signature that the gate verifies (EIP-712
     recovery + registry mirror), signatures made beforehand as the organisation's machine would;
   - custodial: unsigned events signed at capture by the organisation's custodial key.
   Prints events/s (min / median of --reps) and the ratio to the reference.  Goal: signed >= 1,000 ev/s.
   Also: the server's side of signing in the browser (workspace ``prepare``: hash ID + EIP-712
   digest of the event the form will post) in us/event.
2. Bundle verification (anvil + anchoring worker): a 50-event lot, all events signed, verified
   with `verify_bundle` (hash, proof, root on chain, signature, signer's window on chain), against
   the same bundle without signatures (reference), and against the bare cryptography of the same
   bundle in the same run (reference: 50 ecrecovers + 50 Merkle proofs checked locally), with the
   other parts timed alone (50 hash recomputations; the contract's verify() of the 50 proofs over
   RPC one call at a time, and in one JSON-RPC batch as the verifier now asks).
3. Gas of the key registry on the same anvil: one organisation registered, a signer added,
   rotated and revoked (``keys.one_run``; ``keys.py`` alone repeats it on fresh contracts).
"""

from __future__ import annotations

import copy
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import arguments, cooperative, migrated, scratch_database
from eth_account import Account
from keys import OPS, one_run
from sqlmodel import Session, select

from chain.client import AnchorContract, connect, ensure_dev_balance
from chain.node import AnvilNode
from chain.registry import KeyRegistry
from chain.signing import encrypt_key
from traceability_api.anchoring.proofs import lot_bundle
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.consensus.proofs import hash_of_serialised, proof_leads_to, recompute_hash
from traceability_api.consensus.signatures import Domain, parse_envelope, recover_signer, signing_digest
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.service import Principal, party_uri
from traceability_api.signing.document import sign_event
from traceability_api.signing.gate import SignatureGate
from traceability_api.signing.models import SigningKey, SigningOrg
from traceability_api.verifier import verify_bundle
from traceability_api.workspace import signing as browser_signing

GTIN = "08930000000019"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def observe(lot: str, minute: int) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}",
            "eventTime": f"2025-01-02T08:{minute % 60:02d}:00+07:00", "eventTimeZoneOffset": "+07:00",
            "action": "OBSERVE", "bizStep": "inspecting",
            "quantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}]}  # fmt: skip


def setup(url: str, settings: Settings) -> tuple[Any, Principal, str]:
    engine = migrated(url)
    with Session(engine) as s:
        org, issued, p = cooperative(s, "HTX bench", GTIN)
        lot = f"https://id.gs1.org/01/{GTIN}/10/B1"
        commission = {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00", "eventTimeZoneOffset": "+07:00",
                      "action": "ADD", "bizStep": "commissioning",
                      "quantityList": [{"epcClass": lot, "quantity": 1e9, "uom": "KGM"}]}  # fmt: skip
        capture_events(s, p, [commission], DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        s.commit()
        return engine, p, party_uri(org)


def timed_capture(
    engine: Any, p: Principal, settings: Settings, kinds: dict[str, tuple[list[list[dict[str, Any]]], Any]]
) -> dict[str, float]:
    """Events/s of each kind of capture, interleaved document by document (the order turning), so
    that the load of the machine (other processes) weighs on every kind alike."""
    spent = dict.fromkeys(kinds, 0.0)
    names = list(kinds)
    for i in range(len(next(iter(kinds.values()))[0])):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            docs, checks = kinds[name]
            t0 = time.perf_counter()
            with Session(engine) as s:
                capture_events(s, p, docs[i], DEFAULT_CONTEXT, settings, checks=checks)
                s.commit()
            spent[name] += time.perf_counter() - t0
    return {name: sum(len(d) for d in kinds[name][0]) / spent[name] for name in names}


def capture_bench(kind: str, n: int, batch: int, reps: int) -> None:
    settings = Settings(chain_enabled=False, signing_key_password="bench")  # type: ignore[arg-type]
    own, custodial = Account.create(), Account.create()
    results: dict[str, list[float]] = {
        "unsigned (reference)": [],
        "signed, own key": [],
        "custodial, signed at capture": [],
    }
    for _ in range(reps):
        with scratch_database(kind) as (tmp, url):
            engine, p, ref = setup(url, settings)
            with Session(engine) as s:  # the registry mirror as the service keeps it (no chain needed to capture)
                s.add(SigningOrg(org_id=p.org_id, ref=ref))
                s.add(SigningKey(org_id=p.org_id, address=own.address, valid_from=0, valid_until=2**40 - 1))
                s.add(SigningKey(org_id=p.org_id, address=custodial.address, valid_from=0, valid_until=2**40 - 1,
                                 custodial=True, keystore=encrypt_key(custodial, "bench")))  # fmt: skip
                s.commit()
            gate = SignatureGate(engine, settings, 31337, CONTRACT)
            dom = gate.domain(ref)
            lot = f"https://id.gs1.org/01/{GTIN}/10/B1"

            def docs(sign: bool, count: int = n, lot: str = lot, dom: Any = dom) -> list[list[dict[str, Any]]]:
                evs = [observe(lot, i) for i in range(count)]
                if sign:
                    evs = [sign_event(e, DEFAULT_CONTEXT, own, dom) for e in evs]
                return [evs[i : i + batch] for i in range(0, count, batch)]

            signed = (*CAPTURE_CHECKS, gate)  # own-key envelopes verified; unsigned events signed by the custodial key
            warm = 2 * batch  # caches, connections, the custodial key's scrypt
            warm_up = {"u": (docs(False, warm), CAPTURE_CHECKS), "s": (docs(True, warm), signed),
                       "c": (docs(False, warm), signed)}  # fmt: skip
            timed_capture(engine, p, settings, warm_up)
            rates = timed_capture(engine, p, settings, {
                "unsigned (reference)": (docs(False), CAPTURE_CHECKS),
                "signed, own key": (docs(True), signed),
                "custodial, signed at capture": (docs(False), signed),
            })  # fmt: skip
            for name, rate in rates.items():
                results[name].append(rate)
            engine.dispose()
    gate_us = gate_cost(own)
    ref_med = statistics.median(results["unsigned (reference)"])
    print(f"capture[{kind}] {n} events per repetition in documents of {batch}, {reps} repetitions:")  # noqa: T201
    for name, values in results.items():
        med = statistics.median(values)
        print(f"  {name:<30} min {min(values):>7,.0f} median {med:>7,.0f} events/s  = {med / ref_med:.2f} x reference")  # noqa: T201
    print(f"  the gate alone (verify an own-key signature, registry mirror cached): {gate_us:.0f} us/event"  # noqa: T201
          f" = {1e6 / gate_us:,.0f} events/s on one core")  # fmt: skip
    prep_us = prepare_cost(own)
    print(f"  browser signing, the server's prepare (hash ID + digest): {prep_us:.0f} us/event")  # noqa: T201


def gate_cost(own: Any, n: int = 2000) -> float:
    """Microseconds per event spent in the gate's envelope check (signature recovery, lookups)."""
    from traceability_api.consensus.signatures import SIGNATURE_FIELD, Envelope, signing_digest, verify_envelope
    from traceability_api.signing.document import capture_hash_id

    dom_ = SignatureGate(None, Settings(chain_enabled=False), 31337, CONTRACT).domain("urn:agritrace:party:1")  # type: ignore[arg-type]
    lot = f"https://id.gs1.org/01/{GTIN}/10/B1"
    signed = [sign_event(observe(lot, i), DEFAULT_CONTEXT, own, dom_) for i in range(n)]
    hashes = [capture_hash_id(e, DEFAULT_CONTEXT) for e in signed]
    envs = [Envelope(**e[SIGNATURE_FIELD]) for e in signed]
    assert signing_digest(dom_, hashes[0])
    t0 = time.perf_counter()
    for env, h in zip(envs, hashes, strict=True):
        verify_envelope(env, h, 31337, CONTRACT)
    return (time.perf_counter() - t0) / n * 1e6


def prepare_cost(own: Any, n: int = 2000) -> float:
    """Microseconds per event of the workspace's ``prepare`` (what a phone signs), with the registry
    mirror as the gate caches it (set directly: no database in this measurement)."""
    from types import SimpleNamespace

    from traceability_api.signing.gate import _View
    from traceability_api.signing.models import SigningKey as Key

    gate = SignatureGate(None, Settings(chain_enabled=False), 31337, CONTRACT)  # type: ignore[arg-type]
    key = Key(org_id=1, address=own.address, valid_from=0, valid_until=2**40 - 1)
    gate._view = _View({1: "urn:agritrace:party:1"}, {own.address.lower(): key}, {}, float("inf"))
    runtime = SimpleNamespace(signature_gate=gate)
    p = Principal(1, "a", "admin", 1, "cooperative")  # type: ignore[arg-type]
    lot = f"https://id.gs1.org/01/{GTIN}/10/B1"
    events = [observe(lot, i) for i in range(n)]
    t0 = time.perf_counter()
    for e in events:
        browser_signing.prepare(runtime, p, e, own.address)  # type: ignore[arg-type]
    return (time.perf_counter() - t0) / n * 1e6


def bare_crypto(bundle: dict[str, Any], chain_id: int, contract: str) -> float:
    """Seconds for the reference: each signed event's ecrecover and each Merkle proof, locally."""
    batches = bundle["batches"]
    t0 = time.perf_counter()
    for e in bundle["events"]:
        assert proof_leads_to(bytes.fromhex(e["leaf"][2:]), e["proof"], batches[str(e["batch"])]["root"])
        if e.get("signature"):
            env = parse_envelope(e["signature"])
            assert (
                recover_signer(signing_digest(Domain(chain_id, contract, env.org), e["hashId"]), env.sig) == env.signer
            )
    return time.perf_counter() - t0


def parts(bundle: dict[str, Any], contract: AnchorContract) -> tuple[float, float, float]:
    """Seconds to recompute every event's hash, to ask the contract's verify() for each proof one
    call at a time (as the verifier did), and in one JSON-RPC batch (``verify_many``, as it does)."""
    hash_of_serialised.cache_clear()
    t0 = time.perf_counter()
    for e in bundle["events"]:
        assert recompute_hash(e["event"], int(e.get("hashRule", 1))) == e["hashId"]
    t1 = time.perf_counter()
    items = [([bytes.fromhex(x[2:]) for x in e["proof"]], bytes.fromhex(bundle["batches"][str(e["batch"])]["root"][2:]),
              bytes.fromhex(e["leaf"][2:])) for e in bundle["events"]]  # fmt: skip
    for proof, root, leaf in items:
        assert contract.verify(proof, root, leaf)
    t2 = time.perf_counter()
    assert all(contract.verify_many(items))
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def bundle_bench(reps: int) -> None:
    with AnvilNode() as node, scratch_database("sqlite") as (tmp, url):
        w3 = connect(node.url)
        acct = Account.create()
        ensure_dev_balance(w3, acct.address, 10**22)
        contract = AnchorContract.deploy(w3, acct, admin=acct.address, anchorer=acct.address)
        settings = Settings(chain_enabled=False, data_dir=Path(tmp))
        engine, p, ref = setup(url, settings)
        key = Account.create()
        reg = KeyRegistry(contract)
        reg.register_organisation(ref)
        reg.add_signer(ref, key.address)
        with Session(engine) as s:
            s.add(SigningOrg(org_id=p.org_id, ref=ref))
            s.add(SigningKey(org_id=p.org_id, address=key.address, valid_from=0, valid_until=2**40 - 1))
            s.commit()
        gate = SignatureGate(engine, settings, contract.chain_id(), contract.address)
        lot = f"https://id.gs1.org/01/{GTIN}/10/B1"
        evs = [sign_event(observe(lot, i), DEFAULT_CONTEXT, key, gate.domain(ref)) for i in range(49)]
        with Session(engine) as s:
            capture_events(s, p, evs, DEFAULT_CONTEXT, settings, checks=(*CAPTURE_CHECKS, gate))
            s.commit()
        AnchoringWorker(engine, contract, settings).run_once()
        with Session(engine) as s:
            lot_row = s.exec(select(Lot)).one()
            bundle = lot_bundle(s, lot_row, s.get(Product, lot_row.product_id), contract)  # type: ignore[arg-type]
        unsigned = copy.deepcopy(bundle)
        for e in unsigned["events"]:
            e.pop("signature", None)
        n = len(bundle["events"])

        def timed(b: dict[str, Any]) -> Callable[[], float]:
            def run() -> float:
                hash_of_serialised.cache_clear()  # as in a fresh `agritrace verify` process
                t0 = time.perf_counter()
                rep = verify_bundle(b, AnchorContract(connect(node.url), contract.address))
                assert rep.failed == 0, rep.lines
                return time.perf_counter() - t0

            return run

        signed_t, plain_t = [], []
        for r in range(reps):  # alternate which goes first: the machine's load weighs on both alike
            for b, out in ((bundle, signed_t), (unsigned, plain_t))[:: 1 if r % 2 else -1]:
                out.append(timed(b)())
        bare_t = [bare_crypto(bundle, contract.chain_id(), contract.address) for _ in range(reps)]
        split = [parts(bundle, AnchorContract(connect(node.url), contract.address)) for _ in range(reps)]
        print(f"bundle verification, {n}-event lot ({n - 1} signed + commissioning), {reps} repetitions:")  # noqa: T201
        rows = (("without signatures (reference)", plain_t), ("with signatures", signed_t),
                (f"bare: {n - 1} ecrecover + {n} Merkle proofs", bare_t),
                (f"part: {n} hash recomputations", [x[0] for x in split]),
                (f"part: {n} contract verify(), one by one", [x[1] for x in split]),
                (f"part: {n} contract verify(), one batch", [x[2] for x in split]))  # fmt: skip
        for name, values in rows:
            print(f"  {name:<38} min {min(values) * 1000:>8.1f} median {statistics.median(values) * 1000:>8.1f} ms")  # noqa: T201
        med = statistics.median(signed_t)
        print(f"  ratio {med / statistics.median(plain_t):.2f} x without signatures,"  # noqa: T201
              f" {med / statistics.median(bare_t):,.0f} x the bare cryptography")  # fmt: skip
        gas = one_run(node.url)
        print("key registry gas on the same anvil (one run):")  # noqa: T201
        for op in OPS:
            print(f"  {op:<22} {gas[op]:>9,} gas")  # noqa: T201
        engine.dispose()


def main() -> None:
    ap = arguments(__doc__, db="postgresql")
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    capture_bench(a.db, a.events, a.batch, a.reps)
    bundle_bench(a.reps)


if __name__ == "__main__":
    main()
