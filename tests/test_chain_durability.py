"""Chain durability of the embedded default: the same chain and contract after any restart, lost
or reorganised anchors anchored again, a dead anvil restarted by the service, and read-only
audit / chain status beside a running service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import REPO
from tests.test_anchoring import AGRITRACE, assert_anchored_exactly_once, capture_some, unanchored
from tests.world import World, make_world, obj_event, setup_rice
from traceability_api.anchoring.chain_runtime import attach_read_only
from traceability_api.anchoring.models import AnchorBatch, ChainDeployment
from traceability_api.anchoring.worker import make_worker
from traceability_api.audit.service import audit
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.events.models import Event
from traceability_api.main import create_app
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.chain


def wait_for(what: str, check: Callable[[], bool], deadline_s: float = 90.0) -> None:
    end = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline_s:.0f} s: {what}")
        time.sleep(0.1)


def embedded_settings(tmp_path: Path, database_url: str, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=database_url, anchor_worker=False,
                    anchor_interval_s=0.2, public_base_url="https://trace.example.vn",
                    anchor_private_key="0x" + "5a" * 32, **kw)  # fmt: skip


@pytest.fixture
def embedded(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    yield embedded_settings(tmp_path, database_url)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": settings.effective_database_url,
            "AGRITRACE_DATA_DIR": str(settings.data_dir)} | extra  # fmt: skip
    return env


def verify_cli(w: World, rice: dict[str, Any], rpc_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    bundle = w.client.get(f"/api/v1/proofs/lots/{rice['gtin']}/{rice['lot']['lot_code']}").json()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    return subprocess.run([*AGRITRACE, "verify", str(path), "--rpc", rpc_url], env=cli_env(Settings()),
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def batches(rt: Runtime) -> list[AnchorBatch]:
    with Session(rt.engine) as s:
        return list(s.exec(select(AnchorBatch).order_by(AnchorBatch.id)).all())  # type: ignore[arg-type]


def deployments(rt: Runtime) -> list[ChainDeployment]:
    with Session(rt.engine) as s:
        return list(s.exec(select(ChainDeployment)).all())


def test_killed_node_keeps_chain_and_contract_and_lost_state_is_anchored_again(
    embedded: Settings, tmp_path: Path
) -> None:
    rt = build_runtime(embedded)
    try:
        with TestClient(create_app(rt)) as client:
            w = make_world(rt, client)
            rice = capture_some(w, 3)
            assert make_worker(rt.engine, rt.chain, rt.settings).run_once() >= 4 and unanchored(rt) == 0
            assert rt.chain is not None and rt.chain.node is not None
            genesis, address = rt.chain.contract.genesis_hash(), rt.chain.contract.address
            rt.chain.node.kill()  # kill -9: no dump at exit; the dumps before each anchor must suffice
    finally:
        rt.close()

    rt = build_runtime(embedded)  # restart: the same chain, the same contract, nothing to redo
    try:
        assert rt.chain is not None
        assert (rt.chain.contract.genesis_hash(), rt.chain.contract.address) == (genesis, address)
        assert len(deployments(rt)) == 1
        assert make_worker(rt.engine, rt.chain, rt.settings).reconcile() == []
        assert audit(rt.engine, rt.chain.contract).ok
    finally:
        rt.close()

    state = embedded.data_dir / "chain" / "anvil-state.json"
    state.unlink()  # the chain state is lost altogether
    state.with_suffix(".bak").unlink()
    rt = build_runtime(embedded)
    try:
        assert rt.chain is not None
        assert rt.chain.contract.genesis_hash() == genesis, "a fresh node has the same genesis"
        before = {b.id: b.block_number for b in batches(rt)}
        rep = audit(rt.engine, rt.chain.contract)
        assert not rep.ok and all("not on chain" in p for p in rep.problems)
        wk = make_worker(rt.engine, rt.chain, rt.settings)
        assert wk.run_once() >= 4  # at start the worker checks every anchored root and anchors again
        assert sorted(before) == sorted(b.id for b in batches(rt)) and unanchored(rt) == 0
        assert all(b.contract_address == rt.chain.contract.address for b in batches(rt))
        assert audit(rt.engine, rt.chain.contract).ok
        assert_anchored_exactly_once(rt)
        with TestClient(create_app(rt)) as client:
            w.client = client
            ok = verify_cli(w, rice, rt.chain.rpc_url, tmp_path)
            assert ok.returncode == 0 and "VERIFIED: 4 verified" in ok.stdout, ok.stdout + ok.stderr
    finally:
        rt.close()


def test_reorganised_anchor_is_noticed_and_anchored_again(tmp_path: Path, database_url: str) -> None:
    """An external chain (anvil with full history, so it can reorganise) drops the anchoring block."""
    from eth_account import Account

    from chain.client import connect
    from chain.node import AnvilNode
    from tests.conftest import fund

    acct = Account.create()
    with AnvilNode() as node:
        fund(connect(node.url), acct.address)
        settings = Settings(data_dir=tmp_path / "var", database_url=database_url, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
        runtime = build_runtime(settings)
        try:
            with TestClient(create_app(runtime)) as client:
                _reorganise_and_recover(make_world(runtime, client), runtime, tmp_path)
        finally:
            runtime.close()


def _reorganise_and_recover(w: World, runtime: Runtime, tmp_path: Path) -> None:
    rice = capture_some(w, 2)
    wk = make_worker(runtime.engine, runtime.chain, runtime.settings)
    assert wk.run_once() >= 3
    with Session(runtime.engine) as s:
        event_id = max(e.id or 0 for e in s.exec(select(Event)).all())
    first = w.get(w.coop, f"/api/v1/events/{event_id}/proof").json()
    assert first["status"] == "anchored"
    assert runtime.chain is not None
    contract = runtime.chain.contract
    depth = contract.block_number() - first["blockNumber"] + 1
    answer = contract.w3.provider.make_request("anvil_reorg", [depth, []])  # type: ignore[arg-type]
    assert "error" not in answer, answer
    assert contract.anchor_of(bytes.fromhex(first["root"][2:])) is None, "the reorganisation dropped the root"
    assert not audit(runtime.engine, contract).ok

    wk.settings = runtime.settings.model_copy(update={"anchor_reconcile_s": 0.001})
    wk.run_once()  # a periodic pass notices and anchors the batch again
    again = w.get(w.coop, f"/api/v1/events/{event_id}/proof").json()
    assert again["status"] == "anchored" and again["root"] == first["root"]
    assert again["txHash"] != first["txHash"], "the proof follows the new anchor"
    assert contract.anchor_of(bytes.fromhex(again["root"][2:])) is not None
    assert audit(runtime.engine, contract).ok
    assert_anchored_exactly_once(runtime)
    ok = verify_cli(w, rice, runtime.chain.rpc_url, tmp_path)
    assert ok.returncode == 0 and "0 failed" in ok.stdout, ok.stdout + ok.stderr


def test_dead_anvil_is_restarted_and_anchoring_resumes(tmp_path: Path, database_url: str) -> None:
    from traceability_api.compose import build_service

    settings = embedded_settings(tmp_path, database_url).model_copy(update={"anchor_worker": True})
    service, rt = build_service(settings)
    try:
        with TestClient(service) as client:
            w = make_world(rt, client)
            rice = setup_rice(w)
            wait_for("set-up anchored", lambda: unanchored(rt) == 0)
            assert rt.chain is not None and rt.chain.node is not None and rt.chain.supervisor is not None
            node = rt.chain.node
            assert node.proc is not None
            old_pid = node.proc.pid
            os.kill(old_pid, signal.SIGKILL)  # only anvil dies
            ev = obj_event(rice["uri"], 1, "storing", time="2025-03-02T08:00:00+07:00")
            assert w.post(w.coop, "/api/v1/events", ev).status_code == 201  # capture keeps working
            supervisor = rt.chain.supervisor
            wait_for("anvil restarted", lambda: supervisor.restarts >= 1 and node.running)
            assert node.proc is not None and node.proc.pid != old_pid
            wait_for("events anchored after the restart", lambda: unanchored(rt) == 0)
            chain = client.get("/healthz").json()["chain"]
            assert chain["ok"] is True and chain["node_restarts"] >= 1
            assert audit(rt.engine, rt.chain.contract).ok
            assert_anchored_exactly_once(rt)
    finally:
        rt.close()


@pytest.mark.sqlite_only
def test_audit_and_chain_status_work_while_the_service_runs(tmp_path: Path) -> None:
    from chain.node import free_port

    port = free_port()
    env = cli_env(Settings(), AGRITRACE_DATA_DIR=str(tmp_path / "var"), AGRITRACE_PORT=str(port),
                  AGRITRACE_ANCHOR_INTERVAL_S="0.2")  # fmt: skip
    env.pop("DATABASE_URL")
    proc = subprocess.Popen([*AGRITRACE, "serve", "--demo"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        health: dict[str, Any] = {}

        def up() -> bool:
            try:
                health.update(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json())
            except httpx.HTTPError:
                return False
            return True

        wait_for("service up", up, 120)
        (tmp_path / "var" / "keys" / "anchor-keystore.password").unlink()  # reading needs no key password
        status = subprocess.run([*AGRITRACE, "chain", "status"], env=env, capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        assert body["contract_address"] == health["chain"]["contract_address"]
        assert body["block_number"] >= health["chain"]["block_number"] >= 1
        assert body["anchorer_has_role"] is True
        done = subprocess.run([*AGRITRACE, "audit"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and " 0 problems" in done.stdout, done.stdout + done.stderr
        assert proc.poll() is None, "the service still runs"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_crash_trials_anchor_every_acknowledged_event_exactly_once(tmp_path: Path, database_url: str) -> None:
    """20+ kills of the anchoring process (with its embedded anvil, which then loses whatever was
    not dumped) at every step of anchoring, at random points and random moments."""
    import random

    from traceability_api.anchoring.worker import FAULT_POINTS

    seed = int(os.environ.get("AGRITRACE_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    settings = embedded_settings(tmp_path, database_url)
    assert settings.anchor_private_key is not None
    env = cli_env(settings, AGRITRACE_ANCHOR_PRIVATE_KEY=settings.anchor_private_key.get_secret_value())
    rt = build_runtime(settings, with_chain=False)  # capture in this process; anchoring in killed children
    outcomes: list[str] = []
    try:
        with TestClient(create_app(rt)) as client:
            w = make_world(rt, client)
            rice = setup_rice(w)
            acked = 1
            for trial in range(21):
                for _ in range(rng.randint(1, 3)):
                    ev = obj_event(rice["uri"], 1, "storing", time=f"2025-04-01T00:00:{acked:02d}+07:00")
                    assert w.post(w.coop, "/api/v1/events", ev).status_code == 201
                    acked += 1
                outcomes.append(_crash_once(env, rng, trial, FAULT_POINTS))
            killed = [o for o in outcomes if o.endswith(":-9")]
            assert len(killed) >= 12, f"seed {seed}: too few kills landed: {outcomes}"
            for _ in range(3):  # recovery: plain passes until nothing waits
                if unanchored(rt) == 0:
                    break
                done = subprocess.run([*AGRITRACE, "anchor", "--once"], env=env, capture_output=True, text=True,
                                      timeout=120)  # fmt: skip
                assert done.returncode == 0, f"seed {seed} {outcomes}: {done.stderr[-3000:]}"
            assert unanchored(rt) == 0, f"seed {seed} {outcomes}"
            with Session(rt.engine) as s:
                assert len(s.exec(select(Event)).all()) == acked, "every acknowledged event stored once"
            _assert_recovered(rt, w, rice, env, tmp_path, f"seed {seed} {outcomes}")
    finally:
        rt.close()


def _crash_once(env: dict[str, str], rng: Any, trial: int, points: tuple[str, ...]) -> str:
    if trial % 3 == 2:  # a random moment rather than a named step
        delay = rng.uniform(0.5, 4.0)
        proc = subprocess.Popen([*AGRITRACE, "anchor", "--once"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return f"t={delay:.2f}:{proc.returncode}"
    point = rng.choice(points)
    done = subprocess.run([*AGRITRACE, "anchor", "--once"], env=env | {"AGRITRACE_FAULT": point},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode in (0, -9), done.stderr[-3000:]
    return f"{point}:{done.returncode}"


def _assert_recovered(rt: Runtime, w: World, rice: dict[str, Any], env: dict[str, str], tmp: Path, why: str) -> None:
    reader = build_runtime(rt.settings, with_chain=False)
    reader.chain = attach_read_only(rt.settings, reader.engine)  # a node of its own on the state left behind
    try:
        assert reader.chain is not None
        assert_anchored_exactly_once(reader)
        deps = deployments(reader)
        assert len(deps) == 1, f"{why}: one contract, not {len(deps)}"
        assert {b.contract_address for b in batches(reader)} == {deps[0].address}
        cli = subprocess.run([*AGRITRACE, "audit"], env=env, capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0 and " 0 problems, 0 not anchored" in cli.stdout, f"{why}: {cli.stdout}{cli.stderr}"
        ok = verify_cli(w, rice, reader.chain.rpc_url, tmp)
        assert ok.returncode == 0 and " 0 pending, 0 failed" in ok.stdout, f"{why}: {ok.stdout}{ok.stderr}"
    finally:
        reader.close()
