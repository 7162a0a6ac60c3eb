"""CBV 2.0 event hash IDs: all 89 third-party vectors, from JSON-LD and from XML."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.conftest import VECTORS
from traceability_api.consensus.event_hash import (
    canonical_time,
    hash_id_of_event,
    hash_ids_of_json_document,
    prehashes_of_json_document,
)
from traceability_api.consensus.gs1_uri import normalise_gs1_uri, valid_gtin
from traceability_api.consensus.xml_reader import XMLDocumentError, hash_ids_of_xml_document

VECTORS = VECTORS / "epcis-event-hash"
DOCS = sorted(p for p in VECTORS.iterdir() if p.suffix in (".jsonld", ".xml") and p.with_suffix(".hashes").exists())


def expected(doc: Path) -> list[str]:
    return doc.with_suffix(".hashes").read_text().split()


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_document_hashes(doc: Path) -> None:
    if doc.suffix == ".xml":
        got = hash_ids_of_xml_document(doc.read_bytes())
    else:
        got = hash_ids_of_json_document(json.loads(doc.read_text()))
    assert got == expected(doc)


def test_all_89_vectors_are_covered() -> None:
    hashes_files = sorted(VECTORS.glob("*.hashes"))
    # XML/JSON-LD twins share one .hashes file: 89 expected hashes over all documents
    assert sum(len(expected(doc)) for doc in DOCS) == 89
    covered = {p.with_suffix(".hashes") for p in DOCS}
    assert covered == set(hashes_files), "every .hashes file is checked from at least one document"


def test_a_changed_field_changes_the_hash() -> None:
    doc = json.loads((VECTORS / "epcisDocWithSingleEvent.jsonld").read_text())
    before = hash_ids_of_json_document(doc)[0]
    doc["epcisBody"]["eventList"][0]["bizStep"] = "receiving"
    assert hash_ids_of_json_document(doc)[0] != before


def test_recordtime_and_eventid_do_not_change_the_hash() -> None:
    doc = json.loads((VECTORS / "epcisDocWithSingleEvent.jsonld").read_text())
    before = hash_ids_of_json_document(doc)[0]
    doc["epcisBody"]["eventList"][0]["recordTime"] = "2030-01-01T00:00:00Z"
    doc["epcisBody"]["eventList"][0]["eventID"] = "urn:uuid:1"
    assert hash_ids_of_json_document(doc)[0] == before


def test_time_rounding_and_zone() -> None:
    assert canonical_time("2023-02-02T11:04:03.1415Z") == "2023-02-02T11:04:03.142Z"
    assert canonical_time("2020-03-04T11:00:30+01:00") == "2020-03-04T10:00:30.000Z"
    assert canonical_time("2020-12-31T23:59:59.9996Z") == "2021-01-01T00:00:00.000Z"


def _decimal_time(text: str) -> str:
    """The rule as first written (Decimal half-up, datetime arithmetic, strftime): the oracle the
    integer arithmetic of ``canonical_time`` must agree with, since stored hashes were made by it."""
    import re
    from datetime import UTC, datetime, timedelta
    from decimal import ROUND_HALF_UP, Decimal

    m = re.match(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$", text.strip(), re.I)
    if not m:
        return text
    date, hh, mm, ss, frac, tz = m.groups()
    base = datetime.fromisoformat(f"{date}T{hh}:{mm}:{ss}+00:00")
    millis = Decimal("0." + (frac or "0")).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    moment = base + timedelta(milliseconds=int(millis * 1000))
    if tz.upper() != "Z":
        sign = 1 if tz[0] == "+" else -1
        moment -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_time_canonicalisation_agrees_with_the_decimal_rule_on_every_kind_of_timestamp() -> None:
    import random

    rnd = random.Random(7)
    edges = [
        "2020-12-31T23:59:59.9995Z", "2020-12-31T23:59:59.99949999Z", "2025-03-01T00:00:00.0005+07:00",
        "0999-01-01T00:00:00Z", "0005-01-01T06:59:59.9999+07:00", "9999-12-31T23:59:59.999-00:00",
        "2024-02-29T23:30:00-00:30", "2023-02-29T00:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T08:00:00.1z",
        " 2025-03-01T08:00:00Z\n", "2025-03-01T08:00:00", "2025-03-01T08:00:00.\u0663\u0665Z",
        "\u0662025-03-01T08:00:00Z",
    ]  # fmt: skip
    digits = "0123456789" * 4 + "\u0663\u0669"
    samples = edges + [
        f"{rnd.choice([1, 999, 1000, 2025, 9999, rnd.randint(1, 9999)]):04d}-{rnd.randint(1, 12):02d}-"
        f"{rnd.randint(1, 31):02d}T{rnd.randint(0, 24):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 60):02d}"
        + ("." + "".join(rnd.choice(digits) for _ in range(rnd.randint(1, 9))) if rnd.random() < 0.7 else "")
        + rnd.choice(["Z", "z", "+07:00", "-12:30", "+00:00", "+14:00", "+23:59"])
        for _ in range(20_000)
    ]

    def outcome(f: object, text: str) -> str:
        try:
            return f(text)  # type: ignore[operator,no-any-return]
        except (ValueError, OverflowError) as e:
            return type(e).__name__

    differ = [t for t in samples if outcome(canonical_time, t) != outcome(_decimal_time, t)]
    assert differ == []
    assert canonical_time("2020-12-31T23:59:59.9995Z") == "2021-01-01T00:00:00.000Z"
    assert canonical_time("0999-06-01T12:00:00+07:00") == "999-06-01T05:00:00.000Z"


def test_identifier_normalisation() -> None:
    assert normalise_gs1_uri("urn:epc:id:sgtin:4012345.011111.9876") == "https://id.gs1.org/01/04012345111118/21/9876"
    assert normalise_gs1_uri("urn:epc:class:lgtin:4012345.012345.998877") == (
        "https://id.gs1.org/01/04012345123456/10/998877"
    )
    assert normalise_gs1_uri("https://example.com/gtin/4012345111118/lot/A1/ser/7?x=1") == (
        "https://id.gs1.org/01/04012345111118/21/7"
    )
    assert normalise_gs1_uri("urn:example:thing") is None
    assert valid_gtin("04012345111118") and not valid_gtin("04012345111119")


def test_malformed_xml_is_reported() -> None:
    with pytest.raises(XMLDocumentError):
        hash_ids_of_xml_document(b"<epcis:EPCISDocument")


# ---- hash rule 2: CBV 2.0 section 8.9 rules 15 and 16 over the JSON-LD context ---------------

EX = "https://ns.example.com/epcis/"


def _sensor_doc(report: dict[str, object], context: list[object] | None = None) -> dict[str, object]:
    event = {
        "type": "ObjectEvent", "eventTime": "2024-05-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "epcList": ["https://id.gs1.org/01/09506000134352/21/1"], "action": "OBSERVE",
        "sensorElementList": [{"sensorReport": [report]}],
    }  # fmt: skip
    ctx = context if context is not None else ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
    return {"@context": ctx, "type": "EPCISDocument", "epcisBody": {"eventList": [event]}}


def test_user_curies_in_values_are_expanded_with_the_documents_prefixes() -> None:
    ctx: list[object] = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"example": EX}]
    curie = _sensor_doc({"type": "example:someSensorProperty", "exception": "example:tooHot"}, ctx)
    full = _sensor_doc({"type": EX + "someSensorProperty", "exception": EX + "tooHot"}, ctx)
    assert hash_ids_of_json_document(curie) == hash_ids_of_json_document(full)
    assert EX + "someSensorProperty" in prehashes_of_json_document(curie)[0]
    # an undefined prefix is not a CURIE: hashed as written
    undefined = _sensor_doc({"type": "example:someSensorProperty"})
    assert "type=example:someSensorProperty" in prehashes_of_json_document(undefined)[0]


def test_bare_sensor_component_is_the_cbv_web_uri() -> None:
    bare = prehashes_of_json_document(_sensor_doc({"type": "gs1:Angle", "value": 10.5, "component": "latitude"}))
    curie = prehashes_of_json_document(_sensor_doc({"type": "Angle", "value": 10.5, "component": "cbv:Comp-latitude"}))
    assert bare == curie
    assert "component=https://ref.gs1.org/cbv/Comp-latitude" in bare[0]


@pytest.mark.parametrize(
    ("field", "bare", "uri"),
    [
        ("bizStep", "receiving", "https://ref.gs1.org/cbv/BizStep-receiving"),
        ("disposition", "in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
    ],
)
def test_bare_cbv_words_of_every_vocabulary(field: str, bare: str, uri: str) -> None:
    doc = _sensor_doc({"type": "Temperature", "value": 1, "exception": "ALARM_CONDITION"})
    event = doc["epcisBody"]["eventList"][0]  # type: ignore[index]
    event.update({field: bare, "persistentDisposition": {"set": ["completeness_verified"], "unset": ["active"]},
                  "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:1:2"}],
                  "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/9506000000007"}],
                  "destinationList": [{"type": "location", "destination": "https://id.gs1.org/414/9506000000014"}],
                  })  # fmt: skip
    pre = prehashes_of_json_document(doc)[0]
    expected = [uri, "Disp-completeness_verified", "Disp-active", "BTT-po", "SDT-owning_party", "SDT-location",
                "https://gs1.org/voc/Temperature", "https://gs1.org/voc/ALARM_CONDITION"]  # fmt: skip
    for expanded in expected:
        assert expanded in pre


def test_an_events_own_context_extends_the_documents() -> None:
    ex2 = "https://ns.example2.com/"
    inner = _sensor_doc({"type": "example:p", "value": 1}, [{"example": EX}])
    event = inner["epcisBody"]["eventList"][0]  # type: ignore[index]
    event["@context"] = [{"example2": ex2}]
    event["example2:note"] = "Lúa ST25 – thu hoạch"
    merged = copy.deepcopy(inner)
    merged["@context"] = [{"example": EX}, {"example2": ex2}]
    del merged["epcisBody"]["eventList"][0]["@context"]  # type: ignore[index]
    pre = prehashes_of_json_document(inner)[0]
    assert pre == prehashes_of_json_document(merged)[0]
    assert "{" + ex2 + "}note=Lúa ST25 – thu hoạch" in pre and "type=" + EX + "p" in pre


def test_rule_1_is_kept_for_events_hashed_before_rule_2() -> None:
    doc = _sensor_doc({"type": "agri:summary", "component": "latitude", "value": 1}, [{"agri": EX}])
    old = prehashes_of_json_document(doc, rule=1)[0]
    assert "type=agri:summary" in old and "component=latitude" in old
    assert hash_ids_of_json_document(doc, rule=1) != hash_ids_of_json_document(doc, rule=2)
    event = doc["epcisBody"]["eventList"][0]  # type: ignore[index]
    event["@context"] = [{"agri": EX}]
    assert hash_id_of_event(event, rule=1) == hash_ids_of_json_document(doc, rule=1)[0]
    with pytest.raises(ValueError, match="unknown event hash rule"):
        hash_id_of_event(event, rule=3)


def test_xml_values_are_uris_as_written() -> None:
    """In XML only the well-known prefixes are expanded (reference vector SensorDataExamples.xml);
    the JSON-LD twin of a CURIE value is its full IRI in XML."""
    xml = f"""<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:example="{EX}"><EPCISBody><EventList>
      <ObjectEvent><eventTime>2024-05-01T08:00:00+07:00</eventTime><eventTimeZoneOffset>+07:00</eventTimeZoneOffset>
      <epcList><epc>https://id.gs1.org/01/09506000134352/21/1</epc></epcList><action>OBSERVE</action>
      <sensorElementList><sensorElement><sensorReport type="{EX}someSensorProperty" component="latitude"/>
      </sensorElement></sensorElementList></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"""
    ctx: list[object] = [{"example": EX}]
    json_doc = _sensor_doc({"type": "example:someSensorProperty", "component": "latitude"}, ctx)
    assert hash_ids_of_xml_document(xml.encode()) == hash_ids_of_json_document(json_doc)
