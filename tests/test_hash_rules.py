"""Event hash rules in the service: exports re-hash to the stored hash IDs, an event's own
@context extends its document's, and events hashed under rule 1 keep verifying after rule 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import REPO
from tests.world import CTX, World, make_world, obj_event, setup_rice
from traceability_api.anchoring.worker import AnchoringWorker
from traceability_api.audit.service import audit
from traceability_api.consensus.event_hash import HASH_RULE, hash_id_of_event, hash_ids_of_json_document
from traceability_api.runtime import Runtime

EX = "https://ns.example.com/epcis/"
EX2 = "https://ns.example2.vn/"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def custom_event(lot: str) -> dict[str, Any]:
    """An event with its own @context, using prefixes of the document and of its own."""
    return obj_event(
        lot, 2, "inspecting", time="2025-03-01T09:30:00.1234+07:00",
        **{"@context": [{"ex2": EX2}], "ex:grade": "A", "ex2:ghiChu": "Độ ẩm đạt – lô tốt",
           "sensorElementList": [{"sensorReport": [
               {"type": "ex:moisture", "value": 14.5, "uom": "P1"},
               {"type": "Angle", "component": "latitude", "value": 10.12, "uom": "DD"}]}]},
    )  # fmt: skip


def test_exports_rehash_to_the_stored_hash_ids(w: World) -> None:
    rice = setup_rice(w)
    doc = {"@context": [*CTX, {"ex": EX}], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2025-03-01T10:00:00+07:00",
           "epcisBody": {"eventList": [custom_event(rice["uri"])]}}  # fmt: skip
    r = w.post(w.coop, "/api/v1/capture", doc)
    assert r.status_code == 201, r.text
    stored = r.json()["events"][0]
    # the captured document hashes to the stored ID by any CBV 2.0 implementation
    assert hash_ids_of_json_document(doc) == [stored["hashId"]]

    everything = w.get(w.coop, "/api/v1/events", params={"perPage": 1000}).json()
    exported = w.get(w.authority, "/api/v1/exports/epcis").json()
    single = w.get(w.coop, f"/api/v1/events/{stored['id']}").json()
    ids = {e["eventID"]: e for e in everything["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}
    assert ids, "the query returned events"
    for document in (everything, exported):
        events = (
            document["epcisBody"].get("eventList") or document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        )
        hashes = hash_ids_of_json_document(document)
        assert len(hashes) == len(events) >= 2
        for event, h in zip(events, hashes, strict=True):
            assert hash_id_of_event(event) == h
    got = dict(zip([e["eventID"] for e in ids.values()], hash_ids_of_json_document(everything), strict=True))
    assert got[stored["eventID"]] == stored["hashId"]
    assert hash_id_of_event(single["event"]) == stored["hashId"] and single["hashRule"] == HASH_RULE


def legacy_bundle_setup(w: World, runtime: Runtime) -> tuple[dict[str, Any], int, str]:
    """One event stored as if captured before rule 2: hash ID and anchored digest of rule 1 (its
    outbox row without a leaf, as rows were queued before leaves were computed at capture)."""
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 1, "inspecting", sensorElementList=[
        {"sensorMetadata": {"dataProcessingMethod": "agri:sensorSummary-v1"},
         "sensorReport": [{"type": "Temperature", "component": "x", "value": 5, "uom": "CEL"}]}])  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", ev)
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    with runtime.engine.begin() as c:
        doc = c.execute(text("SELECT document FROM event WHERE id = :i"), {"i": event_id}).scalar_one()
        doc = doc if isinstance(doc, dict) else json.loads(doc)
        old = hash_id_of_event(doc, 1)
        assert old != r.json()["hashId"], "rule 2 hashes this event differently"
        c.execute(text("UPDATE event SET hash_rule = 1, hash_id = :h WHERE id = :i"), {"h": old, "i": event_id})
        digest = old.split(";", 1)[1].split("?", 1)[0]
        c.execute(text("UPDATE anchor_item SET digest = :d, leaf = NULL WHERE kind = 'event' AND ref_id = :i"),
                  {"d": digest, "i": event_id})  # fmt: skip
    return rice, event_id, old


def test_events_hashed_under_rule_1_still_verify(w: World, runtime: Runtime, tmp_path: Path) -> None:
    assert HASH_RULE == 2
    rice, event_id, old = legacy_bundle_setup(w, runtime)
    assert runtime.chain is not None
    assert AnchoringWorker(runtime.engine, runtime.chain.contract, runtime.settings).run_once() >= 2
    assert audit(runtime.engine, runtime.chain.contract).ok
    gtin, lot = rice["gtin"], rice["lot"]["lot_code"]
    assert w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}/status").json()["status"] == "verified"
    bundle = w.client.get(f"/api/v1/proofs/lots/{gtin}/{lot}").json()
    assert {e["hashId"]: e["hashRule"] for e in bundle["events"]}[old] == 1
    # a bundle written before hash rules existed has no hashRule: read as rule 1
    for e in bundle["events"]:
        if e["hashRule"] == 1:
            del e["hashRule"]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL"))}
    env |= {"PYTHONPATH": str(REPO), "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    cmd = [
        sys.executable,
        "-m",
        "traceability_api.cli",
        "verify",
        str(path),
        "--rpc",
        str(runtime.settings.chain_rpc_url),
    ]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "0 failed" in ok.stdout, ok.stdout + ok.stderr
    # re-sending the legacy event with its eventID is a duplicate, not a conflict
    with runtime.engine.begin() as c:
        row = c.execute(text("SELECT client_event_id, document FROM event WHERE id = :i"), {"i": event_id}).one()
    doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
    again = w.post(w.coop, "/api/v1/events", doc | {"eventID": row.client_event_id})
    assert again.status_code == 200 and again.json()["duplicate"], again.text
