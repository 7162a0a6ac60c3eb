"""The XML binding of ``agritrace-national-record/1`` (XSD: schema/national-record-1.xsd).

The record's JSON is written element by element in its own order: an object is an element of the
same name; a list is an element holding one child per item, named by ``ITEM``; ``null`` is left
out; true/false and numbers are written as XML Schema writes them.  The proof bundle is attached
as its JSON text (``mediaType="application/json"`` with its SHA-256), so it verifies byte for byte
with ``agritrace verify``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from lxml import etree

from traceability_api.sheet_cells import NOT_XML

NS = "https://ns.agritrace.vn/national-record/1"
ITEM = {
    "standards": "standard",
    "certifications": "certification",
    "certificates": "certificate",
    "items": "serial",
    "upstreamLots": "lot",
    "stages": "stage",
    "productTraceCodes": "code",
    "missing": "item",
    "records": "nationalRecord",
}


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(value: Any) -> str:
    """A value as XML Schema writes it; a character XML cannot hold (typed into a name) becomes U+FFFD."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _write(parent: etree._Element, name: str, value: Any) -> None:
    if value is None:
        return
    el = etree.SubElement(parent, _q(name))
    if name == "proofBundle":
        text = json.dumps(value, ensure_ascii=True, sort_keys=True)  # escapes keep the text XML-safe
        el.set("mediaType", "application/json")
        el.set("sha256", hashlib.sha256(text.encode()).hexdigest())
        el.text = text
    elif isinstance(value, dict):
        for k, v in value.items():
            _write(el, k, v)
    elif isinstance(value, list):
        for item in value:
            _write(el, ITEM[name], item)
    else:
        el.text = _text(value)


def to_xml(document: dict[str, Any]) -> bytes:
    """A record (root ``nationalRecord``) or a set of records (root ``nationalRecordSet``)."""
    root_name = "nationalRecordSet" if "records" in document else "nationalRecord"
    root = etree.Element(_q(root_name), nsmap={None: NS})
    for k, v in document.items():
        _write(root, k, v)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def bundle_of(xml_record: etree._Element) -> dict[str, Any] | None:
    """The proof bundle attached to a parsed ``nationalRecord`` element (for readers and tests)."""
    el = xml_record.find(_q("proofBundle"))
    return None if el is None or el.text is None else dict(json.loads(el.text))
