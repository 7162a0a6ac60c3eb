"""Property tests of the CBV 2.0 event hash over generated events (tests/epcis_strategies.py):

* the hash does not change under key order, whitespace, or JSON-LD vs XML form (the XML written
  by traceability_api/epcis/xml_writer.py, read back by the consensus XML reader);
* capture -> export (query document, single event, authority EPCIS export) -> re-hash gives the
  stored hash ID, through the real HTTP API."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.epcis_strategies import document_context, epcis_event, shuffled
from tests.world import World, gtin, lot_uri, make_world, setup_rice
from traceability_api.consensus.event_hash import hash_id_of_event, hash_ids_of_json_document
from traceability_api.consensus.xml_reader import hash_ids_of_xml_document
from traceability_api.epcis.xml_writer import XMLWriteError, xml_document
from traceability_api.events.capture import extended_context
from traceability_api.runtime import Runtime


def _instants(value: Any, key: str = "") -> Any:
    """The event with every time (a field named ...time, not an offset) as its UTC instant."""
    if isinstance(value, dict):
        return {k: _instants(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v, key) for v in value]
    if isinstance(value, str) and "time" in key.lower() and "offset" not in key.lower():
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    return value


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": document_context(), "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


@pytest.mark.sqlite_only  # pure: no database
@settings(max_examples=250, deadline=None, database=None)
@given(events=st.lists(epcis_event(), min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_hash_is_independent_of_key_order_whitespace_and_binding(events: list[dict[str, Any]], seed: int) -> None:
    rnd = random.Random(seed)
    doc = document(events)
    hashes = hash_ids_of_json_document(doc)
    # events that differ in content differ in hash; an event's own @context is not hashed (it only
    # expands prefixes), so two events differing in nothing but an unused @context share one hash
    # (and a time is its instant: 07:00+07:00 and 00:00Z are one time, CBV 2.0 8.9 hashes them alike)
    content = {json.dumps(_instants({k: v for k, v in e.items() if k != "@context"}), sort_keys=True) for e in events}
    assert len(content) <= len(set(hashes)) <= len({json.dumps(e, sort_keys=True) for e in events})
    # key order and whitespace
    text = json.dumps(shuffled(doc, rnd), indent=rnd.choice([None, 1, 4]), ensure_ascii=rnd.random() < 0.5)
    assert hash_ids_of_json_document(json.loads(text)) == hashes
    # XML binding, compact and pretty-printed
    xml = xml_document(events, doc["@context"], doc["creationDate"])
    assert hash_ids_of_xml_document(xml) == hashes
    pretty = etree.tostring(etree.fromstring(xml), pretty_print=True, encoding="UTF-8")
    assert hash_ids_of_xml_document(pretty) == hashes
    # one event alone, with its document's context extended by its own
    for event, h in zip(events, hashes, strict=True):
        alone = event | {"@context": extended_context(doc["@context"], event.get("@context"))}
        assert hash_id_of_event(alone) == h


@pytest.mark.sqlite_only
@settings(max_examples=30, deadline=None, database=None)
@given(event=epcis_event())
def test_a_changed_value_changes_the_hash_in_both_bindings(event: dict[str, Any]) -> None:
    doc = document([event])
    before = hash_ids_of_json_document(doc)
    event["eventTime"] = "2019-06-01T00:00:00.001Z"
    assert hash_ids_of_json_document(document([event])) != before
    assert hash_ids_of_xml_document(xml_document([event], document_context())) != before


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


_outputs = itertools.count()


def _with_lots(event: dict[str, Any], rice: str) -> dict[str, Any]:
    """A transformation needs a lot we hold as input and a new lot as output."""
    if event["type"] == "TransformationEvent":
        n = next(_outputs)
        event["inputQuantityList"].append({"epcClass": rice, "quantity": 0.001, "uom": "KGM"})
        event["outputQuantityList"].append({"epcClass": lot_uri(gtin(1), f"P{n}"), "quantity": 1, "uom": "KGM"})
    return event


@pytest.mark.slow
@settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=epcis_event())
def test_capture_export_rehash_gives_the_stored_hash_id(w: World, event: dict[str, Any]) -> None:
    if not hasattr(w, "rice"):  # a lot commissioned before any generated event time
        setup_rice(w)
        w.rice = lot_uri(gtin(1), "BASE")  # type: ignore[attr-defined]
        base = {"type": "ObjectEvent", "eventTime": "2019-12-01T00:00:00+07:00", "eventTimeZoneOffset": "+07:00",
                "action": "ADD", "bizStep": "commissioning",
                "quantityList": [{"epcClass": w.rice, "quantity": 1_000_000, "uom": "KGM"}]}  # type: ignore[attr-defined]  # fmt: skip
        assert w.post(w.coop, "/api/v1/events", base).status_code == 201
    event = _with_lots(event, w.rice)  # type: ignore[attr-defined]
    r = w.post(w.coop, "/api/v1/capture", document([event]))
    assert r.status_code == 201, r.text
    stored = r.json()["events"][0]
    assert hash_ids_of_json_document(document([event])) == [stored["hashId"]]
    one = w.get(w.coop, f"/api/v1/events/{stored['id']}").json()
    assert hash_id_of_event(one["event"]) == stored["hashId"]
    page = w.get(w.coop, "/api/v1/events", params={"nextPageToken": stored["id"] - 1, "perPage": 1}).json()
    assert hash_ids_of_json_document(page) == [stored["hashId"]]
    when = datetime.fromisoformat(event["eventTime"])
    window = {"since": when.isoformat(), "until": (when + timedelta(seconds=1)).isoformat()}
    export = w.get(w.authority, "/api/v1/exports/epcis", params=window).json()
    by_id = dict(zip([e["eventID"] for e in export["epcisBody"]["eventList"]], hash_ids_of_json_document(export),
                     strict=True))  # fmt: skip
    assert by_id[stored["eventID"]] == stored["hashId"]


def test_xml_writer_uses_the_epcis_xml_namespace_and_refuses_names_xml_cannot_carry() -> None:
    root = etree.fromstring(xml_document([{"type": "ObjectEvent", "ex:a": "1"}], document_context()))
    assert root.tag == "{urn:epcglobal:epcis:xsd:2}EPCISDocument"
    assert root.find("EPCISBody/EventList/ObjectEvent/{https://ns.example.com/epcis/}a").text == "1"
    with pytest.raises(XMLWriteError, match="'zz:a'"):
        xml_document([{"type": "ObjectEvent", "zz:a": "1"}], document_context())
