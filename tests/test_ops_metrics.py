"""Operations: /metrics (Prometheus text, loopback or token), request ids echoed and carried by
JSON log lines, /healthz naming the anchoring lease holder."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.world import World, make_world, setup_rice
from traceability_api.anchoring.worker import AnchoringWorker, make_worker
from traceability_api.main import create_app
from traceability_api.ops.logs import JsonFormatter, configure_logging, request_id
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}  # fmt: skip


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_report_capture_consumer_anchoring_and_errors(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    page = f"/01/{rice['gtin']}/10/L1"
    runtime.settings.consumer_page_cache_s = 30
    start = w.client.get("/metrics").text  # the request histograms are process-wide: earlier tests count too
    for _ in range(3):
        assert w.client.get(page).status_code == 200
    assert w.client.get("/api/v1/lots/999999999", headers=w.coop.h()).status_code == 404
    before = w.client.get("/metrics").text
    assert value(before, "agritrace_anchoring_pending_records") >= 2  # the lot's commissioning and more
    assert value(before, "agritrace_anchoring_lag_seconds") > 0
    assert value(before, "agritrace_fsma_stale_lots") >= 1  # the lot's FSMA rows wait for the refresh loop
    assert value(before, "agritrace_request_group_duration_seconds_count", group="capture") >= 1
    pages = "agritrace_request_group_duration_seconds_count"
    assert value(before, pages, group="consumer_page") - value(start, pages, group="consumer_page") == 3
    assert value(before, "agritrace_consumer_page_cache_total", result="hit") == 2
    assert value(before, "agritrace_consumer_page_cache_total", result="miss") == 1
    errors, route = "agritrace_http_errors_total", {"route": "/api/v1/lots/{lot_id}", "status_class": "4xx"}
    assert value(before, errors, **route) - value(start, errors, **route) == 1
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()
    after = w.client.get("/metrics").text
    assert value(after, "agritrace_anchoring_pending_records") == 0
    assert value(after, "agritrace_anchoring_lag_seconds") == 0
    from traceability_api.fsma.cache import refresh

    refresh(runtime.engine)
    assert value(w.client.get("/metrics").text, "agritrace_fsma_stale_lots") == 0
    assert value(after, "agritrace_anchor_batches_total") == 1
    assert value(after, "agritrace_anchor_gas_total") > 40_000
    assert value(after, "agritrace_anchor_last_batch_leaves") == value(after, "agritrace_anchor_leaves_total") > 0


def test_metrics_need_loopback_or_the_token(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), client=("203.0.113.9", 5555)) as remote:
        assert remote.get("/metrics").status_code == 403
    runtime.settings.metrics_token = SecretStr("s3cret-token")
    with TestClient(create_app(runtime), client=("203.0.113.9", 5555)) as remote:
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        ok = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "agritrace_anchoring_lag_seconds" in ok.text
    with TestClient(create_app(runtime)) as local:  # with a token set, loopback needs it too
        assert local.get("/metrics").status_code == 403


def test_request_id_is_echoed_or_made_and_logged_as_json(app_client: TestClient) -> None:
    given = app_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = app_client.get("/healthz", headers={"X-Request-ID": 'bad id "with quotes"'})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert app_client.get("/nope").headers["x-request-id"]
    timing = re.fullmatch(r"app;dur=(\d+\.\d)", given.headers["server-timing"])  # W3C Server Timing, in ms
    assert timing and 0 <= float(timing.group(1)) < 60_000
    token = request_id.set("rid-7")
    try:
        record = logging.LogRecord("agritrace.test", logging.WARNING, __file__, 1, "lot %s", ("L1",), None)
        record.lot_id = 5
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["msg"] == "lot L1" and line["request_id"] == "rid-7" and line["level"] == "WARNING"
    assert line["lot_id"] == 5 and line["logger"] == "agritrace.test"


@pytest.mark.parametrize("json_logs", [True, False])
def test_an_invitation_token_never_reaches_the_log(json_logs: bool, capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn's access line names the request's path: every invitation link opened put its token
    (a password until used; the database keeps only its SHA-256) in the service's log in clear."""
    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    kept = root.handlers[:], root.level, access.level, access.disabled
    access.setLevel(logging.INFO)  # an earlier test's uvicorn server (log_level="warning") may have raised it
    access.disabled = False
    try:
        configure_logging(json_logs=json_logs)
        # as uvicorn's h11 and httptools protocols log a request
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:51234", "GET", "/app/invite/Zk3-secret_TOKEN", "1.1", 200)
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:51234", "POST", "/app/invite/Zk3-secret_TOKEN?x=1", "1.1", 303)
        logging.getLogger("agritrace.test").warning("opened /app/invite/Zk3-secret_TOKEN")
    finally:
        root.handlers[:], root.level = kept[0], kept[1]
        access.setLevel(kept[2])
        access.disabled = kept[3]
    err = capsys.readouterr().err
    assert "Zk3-secret_TOKEN" not in err and err.count("/app/invite/…") == 3, err
    assert "GET /app/invite/… HTTP/1.1" in err and "POST /app/invite/…?x=1 HTTP/1.1" in err


def test_healthz_names_the_lease_holder(runtime: Runtime) -> None:
    assert runtime.chain is not None
    worker = make_worker(runtime.engine, runtime.chain, runtime.settings)
    runtime.worker = worker
    with TestClient(create_app(runtime)) as client:
        assert client.get("/healthz").json()["worker"]["lease_holder"] is None
        worker.run_once()
        body = client.get("/healthz").json()
    assert body["worker"]["lease_holder"] == worker.holder and body["worker"]["holder_is_this_process"] is True
