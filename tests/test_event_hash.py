"""CBV 2.0 event hash IDs: all 89 third-party vectors, from JSON-LD and from XML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import VECTORS
from traceability_api.consensus.event_hash import canonical_time, hash_ids_of_json_document
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
