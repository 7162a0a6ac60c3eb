"""Prometheus metrics (prometheus-client, the Prometheus project's own Python client).

Two kinds:

* per process, updated as requests are served: request counts, durations and errors by route
  template; capture, sensor and consumer-page latency histograms (their ``_count`` gives the rate);
* read at scrape time, so every instance reports the same truth without the domains calling us:
  anchoring lag (age of the oldest event not yet anchored) and backlog from the outbox, batch
  sizes and gas from the anchored batches, MQTT messages accepted / refused / failed from this
  process's subscriber, consumer page-cache hits and misses.

With ``uvicorn --workers N`` set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess
mode) so that the per-process figures of all workers are summed at each scrape."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, or_
from sqlmodel import Session, select

from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, WorkerLease
from traceability_api.fsma import cache as fsma_cache
from traceability_api.timeutil import utcnow

if TYPE_CHECKING:
    from traceability_api.runtime import Runtime

REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("agritrace_http_requests", "HTTP requests by route template, method and status",
                   ("route", "method", "status"), registry=REGISTRY)  # fmt: skip
DURATION = Histogram("agritrace_http_request_duration_seconds", "HTTP request duration by route template",
                     ("route", "method"), buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip
ERRORS = Counter("agritrace_http_errors", "HTTP answers >= 400 by route template and status class",
                 ("route", "status_class"), registry=REGISTRY)  # fmt: skip
GROUP_DURATION = Histogram("agritrace_request_group_duration_seconds",
                           "Duration of capture, sensor and consumer-page requests (rate: _count)",
                           ("group",), buckets=LATENCY_BUCKETS, registry=REGISTRY)  # fmt: skip

CAPTURE_ROUTES = frozenset({"/api/v1/events", "/api/v1/capture", "/epcis/capture", "/epcis/events",
                            "/api/v1/lots", "/api/v1/places/{place_id}/diary"})  # fmt: skip
SENSOR_ROUTES = frozenset({"/api/v1/devices/{device_id}/readings"})


def route_group(method: str, route: str) -> str | None:
    if method == "POST" and route in CAPTURE_ROUTES:
        return "capture"
    if method == "POST" and route in SENSOR_ROUTES:
        return "sensor_http"
    if method in ("GET", "HEAD") and route.startswith("/01/"):
        return "consumer_page"
    return None


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    DURATION.labels(route, method).observe(seconds)
    if status >= 400:
        ERRORS.labels(route, f"{status // 100}xx").inc()
    group = route_group(method, route)
    if group is not None and status < 400:
        GROUP_DURATION.labels(group).observe(seconds)


class RuntimeCollector(Collector):
    """Figures read when Prometheus scrapes: from the database (shared by all instances) and
    from this process's MQTT subscriber and page cache."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        yield from self._anchoring()
        yield from self._mqtt()
        yield GaugeMetricFamily("agritrace_fsma_stale_lots", "Lots whose FSMA 204 spreadsheet rows wait to be rebuilt",
                                value=fsma_cache.backlog(self.runtime.engine))  # fmt: skip
        cache = self.runtime.page_cache
        if cache is not None:
            c = CounterMetricFamily("agritrace_consumer_page_cache", "Consumer page micro-cache lookups",
                                    labels=("result",))  # fmt: skip
            c.add_metric(("hit",), cache.hits)
            c.add_metric(("miss",), cache.misses)
            yield c

    def _anchoring(self) -> Iterator[Metric]:
        now = utcnow()
        with Session(self.runtime.engine) as s:
            waiting = (
                select(func.count(), func.min(AnchorItem.created_at))
                .select_from(AnchorItem)
                .outerjoin(AnchorBatch, AnchorItem.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
                .where(or_(AnchorItem.batch_id.is_(None), AnchorBatch.status != BatchStatus.anchored))  # type: ignore[union-attr,arg-type]
            )
            n_waiting, oldest = s.exec(waiting).one()
            n_batches, leaves, gas = s.exec(
                select(func.count(), func.coalesce(func.sum(AnchorBatch.leaf_count), 0),
                       func.coalesce(func.sum(AnchorBatch.gas_used), 0))
                .where(AnchorBatch.status == BatchStatus.anchored)
            ).one()  # fmt: skip
            n_items = s.exec(
                select(func.count()).select_from(AnchorItem).join(AnchorBatch, AnchorItem.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
                .where(AnchorBatch.status == BatchStatus.anchored)
            ).one()  # fmt: skip
            last = s.exec(
                select(AnchorBatch.leaf_count, AnchorBatch.gas_used).where(AnchorBatch.status == BatchStatus.anchored)
                .order_by(AnchorBatch.id.desc()).limit(1)  # type: ignore[union-attr]
            ).first()  # fmt: skip
            holder = s.exec(select(WorkerLease).where(WorkerLease.name == "anchoring")).first()
        lag = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("agritrace_anchoring_lag_seconds", "Age of the oldest record not yet anchored",
                                value=max(0.0, lag))  # fmt: skip
        yield GaugeMetricFamily("agritrace_anchoring_pending_records", "Records waiting to be anchored",
                                value=n_waiting)  # fmt: skip
        yield CounterMetricFamily("agritrace_anchor_batches", "Anchored batches", value=n_batches)
        yield CounterMetricFamily("agritrace_anchored_records", "Records anchored", value=n_items)
        yield CounterMetricFamily("agritrace_anchor_leaves", "Merkle leaves anchored (sum of batch sizes)",
                                  value=leaves)  # fmt: skip
        yield CounterMetricFamily("agritrace_anchor_gas", "Gas used by anchoring transactions", value=gas)
        yield GaugeMetricFamily("agritrace_anchor_last_batch_leaves", "Leaves of the newest anchored batch",
                                value=last[0] if last else 0)  # fmt: skip
        yield GaugeMetricFamily("agritrace_anchor_last_batch_gas", "Gas of the newest anchored batch",
                                value=(last[1] or 0) if last else 0)  # fmt: skip
        lease = GaugeMetricFamily("agritrace_anchoring_lease_held", "1 when this process holds the anchoring lease")
        worker = self.runtime.worker
        lease.add_metric((), 1 if holder is not None and worker is not None and holder.holder == worker.holder
                         and holder.expires_at > now else 0)  # fmt: skip
        yield lease

    def _mqtt(self) -> Iterator[Metric]:
        mq = self.runtime.mqtt
        if mq is None:
            return
        fam = CounterMetricFamily("agritrace_mqtt_messages", "MQTT sensor messages handled by this process",
                                  labels=("outcome",))  # fmt: skip
        for outcome in ("received", "ingested", "refused", "failed"):
            fam.add_metric((outcome,), mq.counts.get(outcome, 0))
        yield fam
        up = GaugeMetricFamily("agritrace_mqtt_connected", "1 when the MQTT subscriber is connected")
        up.add_metric((), 1 if mq.connected.is_set() else 0)
        yield up


def exposition(runtime: Runtime) -> bytes:
    """The text exposition: this process's (or, in multiprocess mode, all workers') request
    figures plus the runtime collector."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Proxy(REGISTRY))
    registry.register(RuntimeCollector(runtime))
    return generate_latest(registry)


class _Proxy(Collector):
    def __init__(self, inner: CollectorRegistry) -> None:
        self.inner = inner

    def collect(self) -> Iterator[Metric]:
        yield from self.inner.collect()
