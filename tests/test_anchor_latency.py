"""Anchoring as soon as events wait (``anchor_max_delay_s``), not on a fixed interval; the
worker lease renewed by its holder and left alone by others.  Real anvil, real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.test_anchoring import assert_anchored_exactly_once, capture_some, unanchored
from tests.test_chain_durability import wait_for
from tests.world import make_world, obj_event, setup_rice
from traceability_api.anchoring.models import WorkerLease
from traceability_api.anchoring.worker import LEASE, AnchoringWorker
from traceability_api.config import Settings
from traceability_api.epcis import schema
from traceability_api.events.models import Event
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

pytestmark = pytest.mark.chain


def test_default_settings_anchor_without_an_interval(settings: Settings, chain_snapshot: None) -> None:
    """With the failure interval at an hour, only the short default delay can anchor the events:
    the service's own worker thread makes a captured event provable."""
    from traceability_api.compose import build_service

    assert Settings().anchor_max_delay_s < 1 and Settings().anchor_poll_s < 1  # the defaults in use below
    cfg = settings.model_copy(update={"anchor_worker": True, "anchor_interval_s": 3600.0})
    schema._fast_event.cache_clear()
    schema._fast_document.cache_clear()
    service, rt = build_service(cfg)
    try:
        with TestClient(service) as client:
            # the service compiled its EPCIS validators at start, not in the first capture it serves
            assert schema._fast_event.cache_info().currsize == schema._fast_document.cache_info().currsize == 1
            w = make_world(rt, client)
            rice = setup_rice(w)
            r = w.post(w.coop, "/api/v1/events", obj_event(rice["uri"], 1, "storing", time="2025-03-02T08:00:00+07:00"))
            assert r.status_code == 201, r.text
            with Session(rt.engine) as s:
                event_id = max(e.id or 0 for e in s.exec(select(Event)).all())

            def provable() -> bool:
                return bool(w.get(w.coop, f"/api/v1/events/{event_id}/proof").json().get("status") == "anchored")

            wait_for("the captured event anchored by the service's worker", provable, 60)
            proof = w.get(w.coop, f"/api/v1/events/{event_id}/proof").json()
            assert proof["txHash"] and proof["proof"] is not None
            wait_for("everything anchored", lambda: unanchored(rt) == 0, 60)
            assert_anchored_exactly_once(rt)
    finally:
        rt.close()


def _lease(rt: Runtime) -> WorkerLease:
    with Session(rt.engine) as s:
        row = s.exec(select(WorkerLease).where(WorkerLease.name == LEASE)).one()
        s.expunge(row)
        return row


def _worker(rt: Runtime, **update: Any) -> AnchoringWorker:
    assert rt.chain is not None
    return AnchoringWorker(rt.engine, rt.chain.contract, rt.settings.model_copy(update=update))


def test_lease_renewed_by_its_holder_not_on_every_pass(runtime: Runtime) -> None:
    wk = _worker(runtime)
    wk.run_once()
    first = _lease(runtime)
    assert first.holder == wk.holder
    assert first.expires_at > utcnow() + timedelta(seconds=wk.lease_ttl_s / 2)
    wk.run_once()  # within a third of the lease: no write
    assert _lease(runtime).expires_at == first.expires_at
    wk._renew_at = 0.0  # a third of the lease has passed
    wk.run_once()
    assert _lease(runtime).expires_at > first.expires_at


def test_worker_without_the_lease_anchors_nothing(runtime: Runtime, app_client: TestClient) -> None:
    capture_some(make_world(runtime, app_client), 2)
    with Session(runtime.engine) as s:
        s.add(WorkerLease(name=LEASE, holder="elsewhere:1", expires_at=utcnow() + timedelta(minutes=5)))
        s.commit()
    setup_events = unanchored(runtime)
    assert setup_events > 0
    wk = _worker(runtime)
    assert wk.run_once() == 0
    assert unanchored(runtime) == setup_events
    assert wk.run_once() == 0  # asks again only after LEASE_RETRY_S
