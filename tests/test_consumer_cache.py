"""Kept consumer pages: served until a write changes what they show (not recomputed per request),
and sent compressed (brotli or gzip, Vary: Accept-Encoding)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.world import World, make_world, setup_rice, ship
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.consumer import encoding
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    runtime.settings.consumer_view_cache = True  # conftest turns it off so that other tests see live data
    yield make_world(runtime, app_client)


def anchor(runtime: Runtime) -> None:
    assert runtime.chain is not None
    AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once()


def test_kept_page_follows_writes_not_requests(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    anchor(runtime)
    path = f"/01/{rice['gtin']}/10/L1"
    first = w.client.get(path)
    assert 'data-status="verified"' in first.text and "Xuất hàng" not in first.text
    with runtime.engine.begin() as c:  # an edit behind the service's back is no write the page sees...
        row = c.execute(text("SELECT id, document FROM event ORDER BY id LIMIT 1")).one()
        doc = row.document if isinstance(row.document, dict) else json.loads(row.document)  # JSONB on PostgreSQL
        forged = {"d": json.dumps(doc | {"forged": 1}), "i": row.id}
        c.execute(text("UPDATE event SET document = :d WHERE id = :i"), forged)
    assert w.client.get(path).text == first.text  # ...so the kept page is served, not recomputed
    ship(w, w.coop, w.mill, rice["uri"])  # a write through the service
    after = w.client.get(path).text
    assert "Xuất hàng" in after  # the new step shows at once, without waiting for any cache time
    assert 'data-status="not_verified"' in after  # and the recomputed page checked every record again
    assert 'data-status="not_verified"' in w.client.get(path + "?lang=en").text


def test_pending_page_turns_verified_when_its_batch_is_anchored(w: World, runtime: Runtime) -> None:
    rice = setup_rice(w)
    path = f"/01/{rice['gtin']}/10/L1"
    assert 'data-status="pending"' in w.client.get(path).text
    assert 'data-status="pending"' in w.client.get(path).text
    anchor(runtime)  # the worker writes no API request: the anchored batch is part of the stamp
    assert 'data-status="verified"' in w.client.get(path).text


@pytest.mark.parametrize(
    ("accept", "coding"),
    [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip;q=0.5", "gzip"), ("identity", None)],
)
def test_pages_are_compressed_on_the_wire(w: World, accept: str, coding: str | None) -> None:
    rice = setup_rice(w)
    plain = w.client.get(f"/01/{rice['gtin']}/10/L1", headers={"Accept-Encoding": "identity"})
    for path in (f"/01/{rice['gtin']}/10/L1", f"/01/{rice['gtin']}"):
        r = w.client.get(path, headers={"Accept-Encoding": accept})
        assert r.status_code == 200 and r.headers.get("content-encoding") == coding
        assert "accept-encoding" in r.headers["vary"].lower()
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    r = w.client.get(f"/01/{rice['gtin']}/10/L1", headers={"Accept-Encoding": accept})
    assert r.text == plain.text  # the client decoded it back to the very same page


def test_content_coding_choice() -> None:
    assert encoding.choose(None) == "identity"
    assert encoding.choose("gzip, deflate, br, zstd") == "br"
    assert encoding.choose("BR;q=0.1") == "br"
    assert encoding.choose("br;q=0, *") == "gzip"
    assert encoding.choose("br;q=zero, gzip;q=0") == "identity"
    assert encoding.choose("*;q=0") == "identity"
    page = "<p>Gạo ST25</p>".encode() * 100
    assert len(encoding.encode(page, "br")) < len(encoding.encode(page, "gzip")) < len(page)
