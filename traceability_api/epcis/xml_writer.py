"""Write EPCIS 2.0 JSON-LD events as an EPCIS 2.0 XML document (the XML binding of the standard).

The XML twin of an event hashes to the same CBV 2.0 event hash ID (see consensus/xml_reader.py and
tests/test_hash_property.py): JSON-LD CURIE values are written as the IRIs they stand for, since
XML values are URIs as written; extension fields become elements in their namespace; sensor
metadata and report fields are attributes; ``bizTransaction``/``source``/``destination`` carry
their type as an attribute.  Bare CBV words are kept (both bindings read them alike).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from traceability_api.consensus.event_hash import LIST_ITEM, TYPED_ITEMS, prefixes_of_context

EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
_ORDER = (
    "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo",
    "parentID", "inputEPCList", "inputQuantityList", "epcList", "childEPCs", "quantityList", "childQuantityList",
    "outputEPCList", "outputQuantityList", "action", "transformationID", "bizStep", "disposition",
    "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
    "sensorElementList", "ilmd",
)  # fmt: skip
_ATTRIBUTES = {"sensorMetadata", "sensorReport"}  # their fields are XML attributes
_SKIP = {"@context", "type"}


class XMLWriteError(ValueError):
    """An event that has no EPCIS XML form (a field name XML cannot carry)."""


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class _Writer:
    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes

    def tag(self, key: str) -> str:
        tag = key
        if ":" in key and not key.startswith(("http:", "https:", "urn:")):
            pfx, local = key.split(":", 1)
            if pfx in self.prefixes:
                tag = "{" + self.prefixes[pfx] + "}" + local
        try:
            etree.QName(tag)
        except ValueError as exc:
            raise XMLWriteError(
                f"field {key!r} has no XML name (its prefix is not defined, or its name is invalid)"
            ) from exc
        return tag

    def value(self, value: Any) -> str:
        """A JSON-LD value as written in XML: a CURIE of a defined prefix as its IRI."""
        text = _scalar(value)
        if ":" in text:
            pfx, local = text.split(":", 1)
            if pfx in self.prefixes and not local.startswith("//"):
                return self.prefixes[pfx] + local
        return text

    def field(self, parent: etree._Element, key: str, value: Any) -> None:
        if isinstance(value, list):
            item = LIST_ITEM.get(key)
            if item is None:  # a repeated element
                for v in value:
                    self.field(parent, key, v)
                return
            wrapper = etree.SubElement(parent, self.tag(key))
            for v in value:
                self.field(wrapper, item, v)
            return
        el = etree.SubElement(parent, self.tag(key))
        if isinstance(value, dict):
            self.fill(el, key, value)
        else:
            el.text = self.value(value)

    def fill(self, el: etree._Element, key: str, obj: dict[str, Any]) -> None:
        if key in TYPED_ITEMS:
            if "type" in obj:
                el.set("type", self.value(obj["type"]))
            el.text = self.value(obj.get(key, ""))
            return
        if "#text" in obj:
            el.text = self.value(obj["#text"])
        for k, v in obj.items():
            if k in ("#text", "@context") or k.startswith("@xmlns"):
                continue
            if key in _ATTRIBUTES and not isinstance(v, dict | list):
                el.set(self.tag(k), self.value(v))
            else:
                self.field(el, k, v)


def event_element(event: dict[str, Any], prefixes: dict[str, str]) -> etree._Element:
    """The XML element of one JSON-LD event; ``prefixes`` are its document's (its own
    ``@context`` extends them)."""
    w = _Writer(prefixes_of_context(event.get("@context", []), prefixes))
    el = etree.Element(str(event.get("type", "ObjectEvent")))
    order = list(_ORDER)
    if event.get("type") == "TransactionEvent":  # the XSD puts its bizTransactionList first
        order.remove("bizTransactionList")
        order.insert(order.index("parentID"), "bizTransactionList")
    known = [k for k in order if k in event]
    rest = sorted(k for k in event if k not in _ORDER and k not in _SKIP)
    for k in known + rest:
        w.field(el, k, event[k])
    return el


def xml_document(events: list[dict[str, Any]], context: Any = None, creation_date: str = "") -> bytes:
    """An ``EPCISDocument`` holding ``events``; ``context`` is the JSON-LD document's ``@context``."""
    prefixes = prefixes_of_context(context or [])
    nsmap: dict[str | None, str] = {
        p: ns for p, ns in prefixes.items() if p.isidentifier() and ns.startswith(("http", "urn:"))
    }
    nsmap["epcis"] = EPCIS_NS  # the XML binding's namespace (not the JSON-LD vocabulary's)
    root = etree.Element(f"{{{EPCIS_NS}}}EPCISDocument", nsmap=nsmap)
    root.set("schemaVersion", "2.0")
    if creation_date:
        root.set("creationDate", creation_date)
    event_list = etree.SubElement(etree.SubElement(root, "EPCISBody"), "EventList")
    for event in events:
        event_list.append(event_element(event, prefixes))
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result
