"""What the service holds at run time: settings, database engine, chain connection and the
per-process singletons (worker, caches), as typed fields.  Built by ``traceability_api.compose``;
this module imports nothing of the domains (only their types), so every layer may depend on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from traceability_api.config import Settings

if TYPE_CHECKING:
    from traceability_api.anchoring.chain_runtime import ChainRuntime
    from traceability_api.anchoring.worker import AnchoringWorker
    from traceability_api.authority.recall_notify import RecallNotifier
    from traceability_api.consumer.caches import PageCache
    from traceability_api.consumer.label_renderer import LabelRenderer
    from traceability_api.consumer.scans import ScanBuffer
    from traceability_api.epcis_rest.notify import Dispatcher
    from traceability_api.events.capture import EventCheck
    from traceability_api.events.group_commit import GroupCommit
    from traceability_api.evidence.mqtt import MqttIngest
    from traceability_api.husbandry.alerts import AlertWatcher
    from traceability_api.signing.gate import SignatureGate


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    chain: ChainRuntime | None = None
    capture_checks: tuple[EventCheck, ...] = ()  # domain rules every captured event must pass
    capture_group: GroupCommit | None = None  # single-event capture's group commit, when enabled
    signature_gate: SignatureGate | None = None  # event signatures at capture (also in capture_checks)
    worker: AnchoringWorker | None = None  # the anchoring worker, when this process runs one
    mqtt: MqttIngest | None = None  # the MQTT subscriber, when a broker is configured
    epcis_dispatcher: Dispatcher | None = None  # EPCIS subscriptions: webhook and WebSocket deliveries
    alerts: AlertWatcher | None = None  # sensor thresholds -> alerts, notifications, sustained-breach events
    recall_notices: RecallNotifier | None = None  # delivers recall notices to holders after commit, with retries
    demo_lots: list[tuple[str, str]] = field(default_factory=list)  # (GTIN, lot code) seeded by the demo
    page_cache: PageCache | None = None  # rendered consumer pages, kept until a write changes them
    label_renderer: LabelRenderer | None = None  # label sheets: big ones in one shared worker process
    scan_buffer: ScanBuffer | None = None  # consumer scans, written in batches
    on_start: list[Callable[[], None]] = field(default_factory=list)  # run by the app's lifespan
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # run by the app's lifespan
    on_close: list[Callable[[], None]] = field(default_factory=list)  # run by close()

    def close(self) -> None:
        closers, self.on_close = self.on_close, []
        for close in closers:
            close()
        if self.chain is not None:
            self.chain.close()
            self.chain = None
        self.engine.dispose()
