"""Anchoring on a real anvil: proofs verify in the contract, crash safety, chain outages,
independent bundle verification and the tamper audit."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlmodel import Session, select

from chain import merkle
from chain.client import AnchorContract
from chain.errors import ChainUnavailable
from tests.conftest import REPO
from tests.world import World, make_world, obj_event, setup_rice
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, AnchorTree, BatchStatus
from traceability_api.anchoring.proofs import tree_proofs
from traceability_api.anchoring.worker import AnchoringWorker, pending_count
from traceability_api.audit.service import audit
from traceability_api.config import Settings
from traceability_api.runtime import Runtime
from traceability_api.verifier import verify_bundle

AGRITRACE = [sys.executable, "-m", "traceability_api.cli"]


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def worker(runtime: Runtime, **kw: Any) -> AnchoringWorker:
    assert runtime.chain is not None
    return AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings, **kw)


def unanchored(runtime: Runtime) -> int:
    """Outbox rows (events, corrections, audit-log entries) not anchored yet."""
    with Session(runtime.engine) as s:
        rows = s.exec(select(AnchorItem, AnchorBatch).join(AnchorBatch, isouter=True)).all()
    return sum(1 for _, b in rows if b is None or b.status != BatchStatus.anchored)


def capture_some(w: World, n: int) -> dict[str, Any]:
    rice = setup_rice(w)
    for i in range(n):
        ev = obj_event(rice["uri"], 1, "inspecting", time=f"2025-03-01T{8 + i % 10:02d}:{i % 60:02d}:00+07:00")
        assert w.post(w.coop, "/api/v1/events", ev).status_code == 201
    return rice


def assert_anchored_exactly_once(runtime: Runtime) -> None:
    assert runtime.chain is not None
    contract = runtime.chain.contract
    with Session(runtime.engine) as s:
        items = s.exec(select(AnchorItem)).all()
        batches = s.exec(select(AnchorBatch)).all()
    assert items and all(i.batch_id is not None for i in items), "every outbox row is in a batch"
    assert all(b.status == BatchStatus.anchored for b in batches)
    logs = contract.contract.events.RootAnchored().get_logs(from_block=0)
    on_chain = ["0x" + bytes(lg["args"]["root"]).hex() for lg in logs]
    ours = ["0x" + b.root for b in batches]
    assert sorted(set(on_chain) & set(ours)) == sorted(ours), "every batch root is on chain"
    assert len(on_chain) == len(set(on_chain)), "no root anchored twice"
    by_batch = {b.id: b for b in batches}
    with Session(runtime.engine) as s:
        in_trees = tree_proofs(s, [(it.batch_id, it.node) for it in items if it.batch_id and it.node is not None])
    for it in items:
        leaf = merkle.leaf_of_digest(bytes.fromhex(it.digest))
        root = bytes.fromhex(by_batch[it.batch_id].root)
        proof = it.proof if it.node is None else in_trees[it.batch_id, it.node]  # type: ignore[index]
        assert contract.verify([bytes.fromhex(p) for p in proof or []], root, leaf)


def test_python_proofs_verify_in_the_contract(w: World, runtime: Runtime) -> None:
    capture_some(w, 7)
    n = pending_count(runtime.engine)
    assert n >= 8  # 8 events, and the audit-log entries of the writes
    assert worker(runtime).run_once() == n
    assert pending_count(runtime.engine) == 0
    assert_anchored_exactly_once(runtime)
    events = w.get(w.coop, "/api/v1/events", params={"perPage": 100}).json()
    first_id = 1
    proof = w.get(w.coop, f"/api/v1/events/{first_id}/proof").json()
    assert proof["status"] == "anchored" and proof["txHash"] and proof["blockNumber"] >= 1
    assert proof["leaf"] == "0x" + merkle.leaf_of_hash_id(proof["hashId"]).hex()
    assert runtime.chain is not None
    assert runtime.chain.contract.verify(
        [bytes.fromhex(x[2:]) for x in proof["proof"]],
        bytes.fromhex(proof["root"][2:]),
        bytes.fromhex(proof["leaf"][2:]),
    )
    assert len(events["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 8
    # a second pass with nothing pending anchors nothing
    assert worker(runtime).run_once() == 0


def test_every_outbox_row_is_queued_with_its_leaf_and_the_worker_anchors_rows_queued_without(
    w: World, runtime: Runtime
) -> None:
    """The leaf is computed at capture (the worker only builds the tree); rows queued by a version
    before that have none, and the worker computes theirs from the digest."""
    capture_some(w, 4)
    with Session(runtime.engine) as s:
        items = s.exec(select(AnchorItem)).all()
        assert items and all(it.leaf == merkle.leaf_of_digest(bytes.fromhex(it.digest)).hex() for it in items)
        s.execute(text("UPDATE anchor_item SET leaf = NULL WHERE id % 2 = 0"))
        s.commit()
    assert worker(runtime).run_once() == len(items)
    with Session(runtime.engine) as s:
        again = s.exec(select(AnchorItem)).all()
    assert all(it.leaf == merkle.leaf_of_digest(bytes.fromhex(it.digest)).hex() for it in again)
    assert_anchored_exactly_once(runtime)


def test_identical_events_of_two_organisations_share_a_leaf(w: World, runtime: Runtime) -> None:
    from traceability_api.compose import CAPTURE_CHECKS
    from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
    from traceability_api.parties.service import authenticate

    # an event with no lots: the same content captured by two organisations hashes the same
    sscc = "https://id.gs1.org/00/089300000000000017"
    ev = {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
          "action": "OBSERVE", "bizStep": "inspecting", "epcList": [sscc]}  # fmt: skip
    worker(runtime).run_once()  # anchor the set-up writes first
    for org in (w.coop, w.mill):
        with Session(runtime.engine) as s:
            capture_events(
                s, authenticate(s, org.keys["admin"]), [ev], DEFAULT_CONTEXT, runtime.settings, checks=CAPTURE_CHECKS
            )
            s.commit()
        # the second time, a batch of that one leaf has the same root as before: found, not re-sent
        assert worker(runtime).run_once() == 1
    assert_anchored_exactly_once(runtime)


def _cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    assert settings.anchor_private_key is not None
    env.update({
        "PYTHONPATH": str(REPO), "DATABASE_URL": settings.effective_database_url,
        "CHAIN_RPC_URL": settings.chain_rpc_url or "", "AGRITRACE_DATA_DIR": str(settings.data_dir),
        "AGRITRACE_ANCHOR_PRIVATE_KEY": settings.anchor_private_key.get_secret_value(),
    }, **extra)  # fmt: skip
    return env


@pytest.mark.parametrize("point", ["after_prepare", "before_send", "after_send", "after_receipt", "after_dump"])
def test_worker_killed_at_each_step_resumes_exactly_once(w: World, runtime: Runtime, point: str) -> None:
    capture_some(w, 5)
    proc = subprocess.run([*AGRITRACE, "anchor", "--once"], env=_cli_env(runtime.settings, AGRITRACE_FAULT=point),
                          capture_output=True, timeout=120)  # fmt: skip
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]  # really killed
    with Session(runtime.engine) as s:
        states = [b.status for b in s.exec(select(AnchorBatch)).all()]
    assert states == [BatchStatus.prepared if point in ("after_prepare", "before_send") else BatchStatus.sent]
    capture_some_more = obj_event(w.client.get("/api/v1/lots", headers=w.coop.h()).json()[0]["uri"], 1, "storing")
    assert w.post(w.coop, "/api/v1/events", capture_some_more).status_code == 201
    expected = unanchored(runtime)  # the killed batch's items and the new ones
    assert worker(runtime).run_once() == expected
    assert_anchored_exactly_once(runtime)


def test_chain_outage_events_wait_then_anchor(w: World, tmp_path: Path, database_url: str) -> None:
    """A service on its own anvil (with state on disk): stop the node, keep capturing, restart it."""
    from eth_account import Account

    from chain.client import connect
    from chain.node import AnvilNode, free_port
    from tests.conftest import fund
    from traceability_api.compose import build_runtime

    port = free_port()
    state = tmp_path / "own-chain" / "state.json"
    node = AnvilNode(state_path=state, port=port).start()
    acct = Account.create()
    fund(connect(node.url), acct.address)
    settings = Settings(data_dir=tmp_path / "own", database_url=database_url.replace("agritrace.db", "own.db"),
                        chain_rpc_url=node.url, anchor_private_key=acct.key.hex(), anchor_worker=False,
                        anchor_rpc_timeout_s=5)  # fmt: skip
    rt = build_runtime(settings)
    try:
        with TestClient(__import__("traceability_api.main", fromlist=["create_app"]).create_app(rt)) as client:
            w2 = make_world(rt, client)
            rice = setup_rice(w2)
            wk = worker(rt)
            expected = unanchored(rt)
            assert expected >= 1 and wk.run_once() == expected
            assert unanchored(rt) == 0
            node.stop()
            for i in range(3):  # capture keeps working while the chain is down
                r = w2.post(
                    w2.coop,
                    "/api/v1/events",
                    obj_event(rice["uri"], 1, "storing", time=f"2025-03-0{i + 2}T08:00:00+07:00"),
                )
                assert r.status_code == 201
            assert client.get("/healthz").json()["chain"]["ok"] is False
            with pytest.raises(ChainUnavailable, match="unreachable"):  # translated, not web3's own
                wk.run_once()
            waiting = pending_count(rt.engine)
            assert waiting >= 3
            node = AnvilNode(state_path=state, port=port).start()
            assert wk.run_once() == waiting
            assert_anchored_exactly_once(rt)
            assert client.get("/healthz").json()["chain"]["ok"] is True
    finally:
        rt.close()
        node.stop()


def test_database_connections_dropped_mid_batch(w: World, runtime: Runtime) -> None:
    capture_some(w, 4)
    wk = worker(runtime)
    ours: set[int] = set()  # backends of this engine only: the PostgreSQL server is shared with other runs
    runtime.engine.dispose()
    event.listen(runtime.engine, "connect", lambda dbapi, _rec: ours.add(getattr(dbapi, "info", dbapi).backend_pid)
                 if runtime.engine.dialect.name == "postgresql" else None)  # fmt: skip

    def drop(point: str) -> None:
        if point != "after_send":
            return
        if runtime.engine.dialect.name == "postgresql":  # from outside the pool, kill the pool's connections
            with psycopg.connect(runtime.settings.effective_database_url, autocommit=True) as c:
                killed = c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(%s)",
                                   [sorted(ours)]).fetchall()  # fmt: skip
            assert any(k for (k,) in killed), f"the worker's own connections {ours} were terminated"
        runtime.engine.dispose()
        raise ConnectionError("database went away")

    wk.fault = drop
    with pytest.raises(ConnectionError):
        wk.run_once()
    wk.fault = None
    expected = unanchored(runtime)
    assert expected >= 5
    assert wk.run_once() == expected
    assert_anchored_exactly_once(runtime)


def test_bundle_verifies_independently_and_tampering_is_caught(w: World, runtime: Runtime, tmp_path: Path) -> None:
    rice = capture_some(w, 3)
    expected = unanchored(runtime)
    assert expected >= 4 and worker(runtime).run_once() == expected
    assert unanchored(runtime) == 0
    gtin, lot = rice["gtin"], rice["lot"]["lot_code"]
    status = w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}/status").json()
    assert status["status"] == "verified" and status["checked"] == 4
    bundle = w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}").json()  # public: no key
    assert bundle["format"] == "agritrace-proof-bundle" and len(bundle["events"]) == 4
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    assert runtime.settings.chain_rpc_url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}  # no database needed
    ok = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url],
                        env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED: 4 verified, 0 pending, 0 failed" in ok.stdout
    assert audit(runtime.engine, runtime.chain.contract if runtime.chain else None).ok

    # someone edits a stored event behind the service's back
    with runtime.engine.begin() as c:
        row = c.execute(text("SELECT id, document FROM event ORDER BY id DESC LIMIT 1")).one()
        doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
        doc["quantityList"][0]["quantity"] = 999
        c.execute(text("UPDATE event SET document = :d WHERE id = :i"), {"d": json.dumps(doc), "i": row.id})
    rep = audit(runtime.engine, runtime.chain.contract if runtime.chain else None)
    assert not rep.ok and any(f"event {row.id}" in p for p in rep.problems)
    cli = subprocess.run([*AGRITRACE, "audit"], env=_cli_env(runtime.settings), capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert cli.returncode == 1 and f"TAMPERED  event {row.id}" in cli.stdout, cli.stdout + cli.stderr
    assert "audit FAILED" in cli.stdout and "problems" in cli.stdout  # the closing summary table
    assert w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}/status").json()["status"] == "not_verified"
    path.write_text(json.dumps(w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}").json()))
    bad = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "changed after capture" in bad.stdout
    # editing the bundle by hand to match is caught too: the proof no longer reaches the root
    forged = json.loads(path.read_text())
    for e in forged["events"]:
        from traceability_api.consensus.proofs import recompute_hash

        e["hashId"] = recompute_hash(e["event"], e["hashRule"])
        e["leaf"] = "0x" + merkle.leaf_of_hash_id(e["hashId"]).hex()
    path.write_text(json.dumps(forged))
    bad = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "does not lead to root" in bad.stdout


def _hidden(entry: dict[str, Any], disclosure: Any) -> None:
    entry.pop("event")
    entry["disclosure"] = disclosure


ZERO32 = "0x" + "00" * 32
MALFORMED_BUNDLES: list[tuple[str, Any, str]] = [  # (what, change of the bundle, the report's line)
    ("chain a string", lambda b: b.__setitem__("chain", "31337"), "chain is not a JSON object"),
    ("chainId a string", lambda b: b["chain"].__setitem__("chainId", "abc"), "chain.chainId is not an integer"),
    ("batches a list", lambda b: b.__setitem__("batches", []), "batches is not a JSON object"),
    ("events an object", lambda b: b.__setitem__("events", {"a": 1}), "events is not a list"),
    ("an event null", lambda b: b["events"].__setitem__(0, None), "events[0] is not a JSON object"),
    ("event a string", lambda b: b["events"][0].__setitem__("event", "x"), "events[0].event is not a JSON object"),
    ("proof a string", lambda b: b["events"][0].__setitem__("proof", "0xab"), "events[0].proof is not a list"),
    ("proof of numbers", lambda b: b["events"][0].__setitem__("proof", [1]), "events[0].proof[0] is not a string"),
    ("proof not hex", lambda b: b["events"][0].__setitem__("proof", ["0xzz"]),
     "events[0].proof[0] is not a 0x-prefixed 32-byte hex string"),
    ("batch a list", lambda b: b["events"][0].__setitem__("batch", [1]),
     "events[0].batch is neither an integer nor a string"),
    ("root a number", lambda b: b["batches"]["1"].__setitem__("root", 5), "batches.1.root is not a string"),
    ("root missing", lambda b: b["batches"]["1"].pop("root"), "batches.1.root is missing"),
    ("corrections of numbers", lambda b: b.__setitem__("corrections", [1]), "corrections[0] is not a JSON object"),
    ("revealed path a list", lambda b: _hidden(b["events"][0], {
        "root": ZERO32, "digest": "x", "revealed": [{"salt": "s", "path": [1], "value": 1, "proof": []}]}),
     "events[0].disclosure.revealed[0].path is not a string"),
]  # fmt: skip


def test_a_malformed_bundle_is_reported_where_it_is_wrong_not_a_traceback(
    w: World, runtime: Runtime, tmp_path: Path
) -> None:
    """The verifier looked members up without checking what they were: a bundle whose chain was a
    string, whose events held a null, whose proof held numbers or non-hex (and a dozen more) ended
    ``agritrace verify`` with a Python traceback.  The bundle's shape is now checked first and each
    problem named by where it is; the command's JSON that is no object says so."""
    rice = capture_some(w, 1)
    worker(runtime).run_once()
    assert runtime.chain is not None
    bundle = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/{rice['lot']['lot_code']}").json()
    assert list(bundle["batches"]) == ["1"] and verify_bundle(bundle, runtime.chain.contract).exit_code == 0
    # a bundle emptied of its records was VERIFIED ("0 verified, 0 pending, 0 failed")
    rep = verify_bundle(bundle | {"events": [], "corrections": []}, runtime.chain.contract)
    assert rep.exit_code == 1 and rep.lines == [
        "FAIL      the bundle holds no events: there is nothing to verify (a lot's bundle starts at its harvest)"
    ]
    for what, change, line in MALFORMED_BUNDLES:
        b = copy.deepcopy(bundle)
        change(b)
        rep = verify_bundle(b, runtime.chain.contract)
        assert rep.exit_code == 1 and rep.lines == [f"FAIL      malformed bundle: {line}"], (what, rep.lines)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(REPO)}
    path = tmp_path / "bundle.json"
    for content, exit_code, said in (
        ([bundle], 2, "is not a proof bundle: it holds a JSON array, not an object"),
        (bundle | {"lot": "L1", "events": [None]}, 1, "malformed bundle: lot is not a JSON object"),
    ):
        path.write_text(json.dumps(content))
        r = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url or ""],
                           env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == exit_code and said in r.stdout + r.stderr, r.stdout + r.stderr
        assert "Traceback" not in r.stderr


def test_verify_says_when_the_contract_is_malformed_or_not_there(w: World, runtime: Runtime, tmp_path: Path) -> None:
    """A bundle (or --contract) naming 'abc' ended in web3's ValueError traceback; an address where
    the chain has no contract (another chain's, a typo) in 'BadFunctionCallOutput: Could not decode
    contract function call to verify(...)'.  Now: the address's form is refused (exit 2), and a
    contract that is not there is the verification's one failure, saying so (exit 1)."""
    rice = capture_some(w, 1)
    worker(runtime).run_once()
    assert runtime.chain is not None
    bundle = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/{rice['lot']['lot_code']}").json()
    elsewhere = AnchorContract(runtime.chain.contract.w3, "0x" + "12" * 20)
    rep = verify_bundle(bundle, elsewhere)
    assert rep.exit_code == 1 and len(rep.lines) == 1, rep.lines
    assert rep.lines[0].startswith(f"FAIL      there is no contract at {elsewhere.address} on chain 31337")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(REPO)}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle | {"chain": {"chainId": 31337, "contractAddress": "abc"}}))
    r = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url or ""],
                       env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert "contract address 'abc' is not 0x followed by 40 hex digits" in r.stderr and "Traceback" not in r.stderr


def test_pending_events_are_reported_pending(w: World) -> None:
    rice = setup_rice(w)
    st = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/{rice['lot']['lot_code']}/status").json()
    assert st["status"] == "pending"
    assert w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/NOPE").status_code == 404


def test_a_restored_database_older_than_its_chain_records_the_anchored_root(w: World, runtime: Runtime) -> None:
    """A backup's database copied before a batch was recorded, its chain state after the batch was
    anchored (seen once in CI's backup-under-load test): the restored worker finds the same items
    pending, builds the same root and the chain refuses it as already anchored.  The worker records
    the batch from the chain's own record instead of failing every pass (which left every later
    item unanchored)."""
    capture_some(w, 3)
    wk = worker(runtime)
    assert wk.run_once() > 0
    with Session(runtime.engine) as s:
        (batch,) = s.exec(select(AnchorBatch)).all()
        root, block = batch.root, batch.block_number
        s.execute(text("UPDATE anchor_item SET batch_id = NULL, leaf = NULL, proof = NULL, node = NULL"))
        s.execute(text("DELETE FROM anchor_tree"))
        s.execute(text("DELETE FROM anchor_batch"))
        s.commit()
    assert pending_count(runtime.engine) > 0
    assert worker(runtime).run_once() > 0  # raised RootAlreadyAnchored in prepare, pass after pass
    with Session(runtime.engine) as s:
        (again,) = s.exec(select(AnchorBatch)).all()
    assert (again.root, again.block_number, again.status) == (root, block, BatchStatus.anchored)
    assert pending_count(runtime.engine) == 0
    assert_anchored_exactly_once(runtime)
    assert runtime.chain is not None
    assert audit(runtime.engine, runtime.chain.contract).ok


def test_the_tree_is_stored_once_per_batch_and_proofs_read_from_it_equal_the_built_ones(
    w: World, runtime: Runtime
) -> None:
    """Issue 13: a batch stores its node array, each item its leaf's index; no proof per item."""
    capture_some(w, 5)
    assert worker(runtime).run_once() > 0
    with Session(runtime.engine) as s:
        (batch,) = s.exec(select(AnchorBatch)).all()
        items = s.exec(select(AnchorItem).where(AnchorItem.batch_id == batch.id)).all()
        stored = s.get(AnchorTree, batch.id)
        assert stored is not None
        built = merkle.build(list({merkle.leaf_of_digest(bytes.fromhex(it.digest)) for it in items}))
        assert stored.nodes == b"".join(built.nodes) and batch.root == built.root.hex()
        assert batch.leaf_count == built.leaf_count
        assert all(it.proof is None and it.node == built.positions[bytes.fromhex(it.leaf or "")] for it in items)
        read = tree_proofs(s, [(batch.id, it.node) for it in items])  # type: ignore[misc]
    for it in items:
        assert read[batch.id, it.node] == [p.hex() for p in built.proof(bytes.fromhex(it.leaf or ""))]  # type: ignore[index]
    proof = w.get(w.coop, "/api/v1/events/1/proof").json()
    leaf = merkle.leaf_of_hash_id(proof["hashId"])
    assert proof["proof"] == ["0x" + p.hex() for p in built.proof(leaf)]


def test_batches_with_a_proof_per_item_are_still_served(w: World, runtime: Runtime, tmp_path: Path) -> None:
    """Batches anchored before migration 0023 have no stored tree, a proof per item instead: the
    API, the proof bundle, its independent verification and the audit read them as before."""
    rice = capture_some(w, 3)
    assert worker(runtime).run_once() > 0
    gtin, lot = rice["gtin"], rice["lot"]["lot_code"]
    before = w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}").json()
    one = w.get(w.coop, "/api/v1/events/2/proof").json()
    with Session(runtime.engine) as s:  # back to the old form
        items = s.exec(select(AnchorItem)).all()
        proofs = tree_proofs(s, [(it.batch_id, it.node) for it in items])  # type: ignore[misc]
        for it in items:
            it.proof, it.node = proofs[it.batch_id, it.node], None  # type: ignore[index]
            s.add(it)
        s.execute(text("DELETE FROM anchor_tree"))
        s.commit()
    after = w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}").json()
    assert [e["proof"] for e in after["events"]] == [e["proof"] for e in before["events"]]
    assert all(e["proof"] for e in after["events"])
    assert w.get(w.coop, "/api/v1/events/2/proof").json()["proof"] == one["proof"]
    assert w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}/status").json()["status"] == "verified"
    assert audit(runtime.engine, runtime.chain.contract if runtime.chain else None).ok
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(after))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    ok = subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", runtime.settings.chain_rpc_url],
                        env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0 and "VERIFIED: 4 verified" in ok.stdout, ok.stdout + ok.stderr


def test_downgrading_0023_writes_each_proof_back_to_its_item(database_url: str) -> None:
    from alembic import command

    from traceability_api.db import alembic_config, make_engine

    leaves = merkle.leaves_of_digests([bytes([i]) * 32 for i in range(5)])
    tree = merkle.build(leaves)
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        with Session(engine) as s:
            s.add(AnchorBatch(id=1, root=tree.root.hex(), leaf_count=5, chain_id=1, contract_address="0x" + "0" * 40))
            s.flush()
            s.add(AnchorTree(batch_id=1, nodes=b"".join(tree.nodes)))
            for i, leaf in enumerate(leaves):
                s.add(AnchorItem(kind="event", ref_id=i, digest=(bytes([i]) * 32).hex(), leaf=leaf.hex(), batch_id=1,
                                 node=tree.positions[leaf]))  # fmt: skip
            s.commit()
        command.downgrade(alembic_config(engine), "0022_wsperf")
        with engine.connect() as c:
            rows = c.execute(text("SELECT leaf, proof FROM anchor_item ORDER BY ref_id")).all()
        for leaf, proof in rows:
            assert (json.loads(proof) if isinstance(proof, str) else proof) == [
                p.hex() for p in tree.proof(bytes.fromhex(leaf))
            ]
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
