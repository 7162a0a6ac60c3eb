"""The schema check's fast path (jsonschema-rs) never accepts what the compiled validator
(fastjsonschema) refuses: capture takes its "valid" as final, so a difference there would let in an
event the GS1 schema check used to refuse.  (A "not valid" from it only hands the instance to the
compiled validator, which decides and words the refusal as before.)"""

from __future__ import annotations

import copy
import json
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import VECTORS
from tests.epcis_strategies import document_context, epcis_event
from traceability_api.epcis import schema

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=6,
)
ODD_STRINGS = st.sampled_from([
    "", " ", "yesterday", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00+0700", "2025-01-01t00:00:00z",
    "2025-01-01T24:00:00Z", "2025-01-01T00:00:60Z", "2025-01-01 00:00:00Z", "urn:epc:id:sgtin:0614141.107346.2018",
    "https://id.gs1.org/01/08930000000012/10/LÔ-1", "https://id.gs1.org/01/0893 0000000012", "gs1:Temperature",
    "inspecting", "OBSERVE", "ADD", "x:y", "http://", "a:b c", "٣", "\u0000", "+07:00", "+7:00", "-00:00",
    "ObjectEvent", "KGM", "CEL",
])  # fmt: skip


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated_event(draw: st.DrawFn) -> dict[str, Any]:
    """A generated event with a few of its values replaced, keys removed or added."""
    event = copy.deepcopy(draw(epcis_event()))
    for _ in range(draw(st.integers(1, 2))):
        paths = [p for p in _paths(event) if p]
        strings = [p for p in paths if isinstance(_at(event, p), str)]  # where a format or pattern applies
        path = draw(st.sampled_from(strings)) if strings and draw(st.booleans()) else draw(st.sampled_from(paths))
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["replace", "odd", "delete", "add"]))
        if how == "replace":
            parent[path[-1]] = draw(JSON)
        elif how == "odd":
            parent[path[-1]] = draw(ODD_STRINGS)
        elif how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["action", "epcList", "quantity", "uom", "type", "bogus", "ilmd"]))] = draw(
                JSON | ODD_STRINGS
            )
    return event


def _fast_accepts(fast: Any, instance: Any) -> bool:
    try:
        fast(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _agree(rs: Any, fast: Any, instance: Any) -> None:
    if schema._known_valid(rs, instance):
        assert _fast_accepts(fast, instance), json.dumps(instance, ensure_ascii=False, default=str)[:2000]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_event())
def test_what_jsonschema_rs_accepts_fastjsonschema_accepts(event: dict[str, Any]) -> None:
    _agree(schema._rs_event(), schema._fast_event(), event)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(epcis_event(), min_size=1, max_size=3), st.sampled_from(["2.0", 2, None, "1.2"]), st.booleans())
def test_documents_agree_too(events: list[dict[str, Any]], version: Any, with_date: bool) -> None:
    doc: dict[str, Any] = {"@context": document_context(), "type": "EPCISDocument", "epcisBody": {"eventList": events}}
    if version is not None:
        doc["schemaVersion"] = version
    if with_date:
        doc["creationDate"] = "2025-03-01T08:00:00+07:00"
    _agree(schema._rs_document(), schema._fast_document(), doc)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(epcis_event())
def test_generated_events_are_valid_to_both(event: dict[str, Any]) -> None:
    """The fast path is taken for real events (else the tests above would test nothing)."""
    assert schema._known_valid(schema._rs_event(), event) and _fast_accepts(schema._fast_event(), event)


@pytest.mark.parametrize("path", sorted((VECTORS / "epcis-event-hash").glob("*.jsonld")), ids=lambda p: p.name)
def test_gs1_examples_agree(path: Any) -> None:
    doc = json.loads(path.read_text())
    _agree(schema._rs_document(), schema._fast_document(), doc)
    for event in doc.get("epcisBody", {}).get("eventList", []):
        _agree(schema._rs_event(), schema._fast_event(), event)


@pytest.mark.parametrize(
    ("field", "value"),
    [("eventTime", "2025-02-30T00:00:00Z"), ("eventTime", "2025-01-01 00:00:00Z"), ("eventTime", "yesterday"),
     ("readPoint", {"id": "a b"}), ("action", "KEEP")],
)  # fmt: skip
def test_what_fastjsonschema_refuses_is_still_refused_with_its_reason(field: str, value: Any) -> None:
    event = {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00+07:00", "eventTimeZoneOffset": "+07:00",
             "action": "OBSERVE", "epcList": ["urn:epc:id:sscc:0614141.1234567890"], field: value}  # fmt: skip
    errors = schema.event_errors(event)
    assert errors and field in errors[0], errors
    assert not schema._known_valid(schema._rs_event(), event)
