"""The composition root: the one place that wires the service together (database, chain,
domain rules, caches, anchoring worker, MQTT ingest, FastAPI app).  Nothing imports it but the
entry points (CLI, ASGI, tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from traceability_api.config import Settings
from traceability_api.consumer.caches import PageCache
from traceability_api.consumer.label_renderer import LabelRenderer
from traceability_api.consumer.scans import ScanBuffer
from traceability_api.db import make_engine, migrate
from traceability_api.epcis import schema
from traceability_api.events.capture import EventCheck
from traceability_api.events.group_commit import GroupCommit
from traceability_api.evidence import diary
from traceability_api.husbandry import withdrawal
from traceability_api.registries import checks as registries
from traceability_api.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import FastAPI

    from traceability_api.evidence.mqtt import MqttIngest

# food safety (diary, withdrawal), then registered codes (harvest on a suspended area, export markets)
CAPTURE_CHECKS: tuple[EventCheck, ...] = (diary.check, withdrawal.check, registries.check)


def build_runtime(settings: Settings, *, with_chain: bool | None = None) -> Runtime:
    """Database (migrated), chain connection (when enabled) and the per-runtime singletons.
    Bad configuration surfaces here as one ConfigError."""
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        chain = None
        if settings.chain_enabled if with_chain is None else with_chain:
            from traceability_api.anchoring.chain_runtime import start_chain  # web3: only commands that need it

            chain = start_chain(settings, engine)
    except BaseException:
        engine.dispose()
        raise
    scans = ScanBuffer(engine)
    renderer = LabelRenderer()
    runtime = Runtime(settings=settings, engine=engine, chain=chain, capture_checks=CAPTURE_CHECKS,
                      page_cache=PageCache(), scan_buffer=scans, label_renderer=renderer)  # fmt: skip
    runtime.on_close.extend([scans.close, renderer.close])
    if chain is not None:  # signatures name the chain and contract (EIP-712 domain): no chain, no gate
        from traceability_api.signing.gate import SignatureGate  # eth_account: only with a chain

        runtime.signature_gate = SignatureGate(engine, settings, chain.chain_id, chain.contract.address)
        runtime.capture_checks = (*CAPTURE_CHECKS, runtime.signature_gate)
    if settings.capture_group_commit_ms > 0:  # after the gate: the group applies the same checks
        delay_s = settings.capture_group_commit_ms / 1000
        runtime.capture_group = GroupCommit(engine, settings, runtime.capture_checks, delay_s)
    return runtime


def attach_worker(runtime: Runtime) -> None:
    """Run the anchoring worker in this process (its thread starts with the app)."""
    if runtime.chain is None or not runtime.settings.anchor_worker:
        return
    from traceability_api.anchoring.worker import WorkerLoop, make_worker

    worker = make_worker(runtime.engine, runtime.chain, runtime.settings)
    thread = WorkerLoop(worker)
    runtime.on_start.append(thread.start)
    runtime.on_stop.append(thread.stop)
    runtime.worker = worker


def attach_mqtt(runtime: Runtime) -> MqttIngest | None:
    """Ingest sensor readings from the MQTT broker, when one is configured; ``/healthz`` reports
    the subscriber (``runtime.mqtt``)."""
    if not runtime.settings.mqtt_url:
        return None
    from traceability_api.evidence.mqtt import MqttIngest

    mq = MqttIngest(runtime.engine, runtime.settings)
    runtime.mqtt = mq
    runtime.on_start.append(mq.start)
    runtime.on_stop.append(mq.stop)
    return mq


def attach_alerts(runtime: Runtime) -> None:
    """Watch sensor readings against thresholds: alerts, notifications, sustained-breach events."""
    from traceability_api.husbandry.alerts import AlertWatcher

    watcher = AlertWatcher(runtime.engine, runtime.settings, runtime.capture_checks)
    runtime.alerts = watcher
    runtime.on_start.append(watcher.start)
    runtime.on_stop.append(watcher.stop)


def attach_recall_notices(runtime: Runtime) -> None:
    """Deliver recall notices to the holders of recalled lots after each recall commits (retried)."""
    from traceability_api.authority.recall_notify import RecallNotifier

    notifier = RecallNotifier(runtime.engine, runtime.settings)
    runtime.recall_notices = notifier
    runtime.on_start.append(notifier.start)
    runtime.on_stop.append(notifier.stop)


def attach_opendata(runtime: Runtime) -> None:
    """Rebuild the open-data files on their schedule (``AGRITRACE_OPENDATA_INTERVAL_H``; 0: on demand only)."""
    if runtime.settings.opendata_interval_h <= 0:
        return
    from traceability_api.opendata.schedule import OpenDataSchedule

    schedule = OpenDataSchedule(runtime.engine, runtime.settings)
    runtime.on_start.append(schedule.start)
    runtime.on_stop.append(schedule.stop)


def attach_fsma_refresh(runtime: Runtime) -> None:
    """Keep the FSMA 204 rows up to date in the background (``AGRITRACE_FSMA_REFRESH_S``; 0: on export only)."""
    if runtime.settings.fsma_refresh_s <= 0:
        return
    from traceability_api.fsma.refresher import FsmaRefresher

    loop = FsmaRefresher(runtime.engine, runtime.settings.fsma_refresh_s)
    runtime.on_start.append(loop.start)
    runtime.on_stop.append(loop.stop)


def build_service(settings: Settings) -> tuple[FastAPI, Runtime]:
    """The whole service: runtime, anchoring worker, MQTT ingest, alerts, open data, FSMA rows and the app."""
    from traceability_api.main import create_app

    runtime = build_runtime(settings)
    try:
        attach_worker(runtime)
        attach_mqtt(runtime)
        attach_alerts(runtime)
        attach_recall_notices(runtime)
        attach_opendata(runtime)
        attach_fsma_refresh(runtime)
        runtime.on_start.append(schema.warm)  # the first capture a worker serves does not compile it
        # uvicorn re-raises SIGTERM/SIGINT after shutdown, so stop the chain in the lifespan
        runtime.on_stop.append(runtime.close)
        app = create_app(runtime)
    except BaseException:
        runtime.close()
        raise
    return app, runtime
