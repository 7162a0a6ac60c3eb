"""EPCIS 2.0 (and 1.2) XML capture documents converted to the JSON-LD form the capture service takes.

Standard fields map to their JSON-LD names (lists of ``epc``, quantity elements, typed
bizTransaction / source / destination entries, sensor elements, errorDeclaration); extension
elements become ``prefix:local`` keys with their namespace added to ``@context``.  Parsing uses the
consensus core's hardened parser (no entities, no network)."""

from __future__ import annotations

import math
from typing import Any

from lxml import etree

from traceability_api.consensus.xml_reader import XMLDocumentError, parse
from traceability_api.errors import Invalid

EVENT_TYPES = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
_EPC_LISTS = {"epcList", "childEPCs", "inputEPCList", "outputEPCList"}
_QTY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_NUMERIC = {"quantity", "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
_MAX_EVENTS_SCAN = 100_000


class _Converter:
    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}

    def key(self, el: etree._Element) -> str | None:
        """JSON key of an element: its local name if standard, ``prefix:local`` if an extension."""
        q = etree.QName(el)
        if q.namespace is None or q.namespace.startswith("urn:epcglobal:epcis:"):
            return str(q.localname)
        prefix = el.prefix or next((p for p, ns in self.prefixes.items() if ns == q.namespace), None)
        if not prefix:
            prefix = f"ext{len(self.prefixes) + 1}"
        if self.prefixes.setdefault(prefix, str(q.namespace)) != q.namespace:
            raise Invalid(f"XML prefix {prefix!r} is bound to two namespaces")
        return f"{prefix}:{q.localname}"

    def children(self, el: etree._Element) -> list[etree._Element]:
        out: list[etree._Element] = []
        for c in el:
            if not isinstance(c.tag, str):
                continue
            if etree.QName(c).localname in ("extension", "baseExtension") and etree.QName(c).namespace is None:
                out.extend(self.children(c))
            else:
                out.append(c)
        return out

    def event(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {"type": etree.QName(el).localname}
        for c in self.children(el):
            k = self.key(c)
            assert k is not None
            out[k] = self.field(k, c)
        return out

    def field(self, k: str, el: etree._Element) -> Any:  # noqa: PLR0911 - one branch per field shape
        kids = self.children(el)
        if k in _EPC_LISTS:
            return [(c.text or "").strip() for c in kids]
        if k in _QTY_LISTS:
            return [self.obj(c) for c in kids]
        if k in _TYPED_LISTS:
            name = _TYPED_LISTS[k]
            return [{**({"type": c.get("type")} if c.get("type") else {}), name: (c.text or "").strip()} for c in kids]
        if k == "sensorElementList":
            return [self.sensor(c) for c in kids]
        if k == "persistentDisposition":
            return {s: [(c.text or "").strip() for c in kids if etree.QName(c).localname == s] for s in ("set", "unset")
                    if any(etree.QName(c).localname == s for c in kids)}  # fmt: skip
        if k == "errorDeclaration":
            out = self.obj(el)
            if "correctiveEventIDs" in out:
                ids = [c for c in self.children(el) if etree.QName(c).localname == "correctiveEventIDs"][0]
                out["correctiveEventIDs"] = [(c.text or "").strip() for c in self.children(ids)]
            return out
        if kids:
            return self.obj(el)
        return self.scalar(k, el.text)

    def obj(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.children(el):
            k = self.key(c)
            assert k is not None
            v = self.field(k, c)
            if k in out:  # repeated element: a list
                out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
            else:
                out[k] = v
        return out

    def sensor(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in self.children(el):
            name = etree.QName(c).localname
            attrs = {self.attr_key(c, a): self.scalar(str(etree.QName(a).localname), v) for a, v in c.attrib.items()}
            if name == "sensorMetadata":
                out["sensorMetadata"] = attrs
            elif name == "sensorReport":
                out.setdefault("sensorReport", []).append(attrs)
            else:
                k = self.key(c)
                assert k is not None
                out[k] = self.field(k, c)
        return out

    def attr_key(self, el: etree._Element, attr: str) -> str:
        q = etree.QName(attr)
        if q.namespace is None:
            return str(q.localname)
        prefix = next((p for p, ns in (el.nsmap or {}).items() if ns == q.namespace and p), None) or "ext"
        self.prefixes.setdefault(prefix, str(q.namespace))
        return f"{prefix}:{q.localname}"

    @staticmethod
    def scalar(k: str, text: str | None) -> Any:
        t = (text or "").strip()
        if k in _NUMERIC:
            shown = repr(t) if len(t) <= 40 else repr(t[:40] + "...")
            try:
                if not t.isascii():  # int() and float() take other scripts' digits; xsd:double does not
                    raise ValueError(t)
                n = int(t) if t.lstrip("-").isdigit() else float(t)
            except ValueError as exc:
                raise Invalid(f"{k} {shown} is not a number") from exc
            if isinstance(n, float) and not math.isfinite(n):  # xsd:double's NaN and INF: JSON has neither
                raise Invalid(f"{k} {shown} is not a finite number")
            return n
        if k == "booleanValue":
            return t == "true"
        return t


def xml_to_jsonld(data: bytes, default_context: list[Any]) -> dict[str, Any]:
    try:
        root = parse(data)
    except XMLDocumentError as exc:
        raise Invalid(str(exc)) from exc
    local = etree.QName(root).localname
    if local not in ("EPCISDocument", "EPCISQueryDocument"):
        raise Invalid("expected an EPCISDocument (or EPCISQueryDocument) XML root element")
    conv = _Converter()
    events = []
    for n, el in enumerate(root.iter()):
        if n > _MAX_EVENTS_SCAN * 50:
            raise Invalid("the XML document is too large")
        if isinstance(el.tag, str) and etree.QName(el).localname in EVENT_TYPES and etree.QName(el).namespace is None:
            events.append(conv.event(el))
    context: list[Any] = [c if isinstance(c, str) else {**c, **conv.prefixes} for c in default_context]
    doc: dict[str, Any] = {"@context": context, "type": "EPCISDocument",
                           "schemaVersion": "2.0",
                           "creationDate": root.get("creationDate"), "epcisBody": {"eventList": events}}  # fmt: skip
    if doc["creationDate"] is None:
        raise Invalid("the EPCISDocument element needs a creationDate attribute")
    return doc
