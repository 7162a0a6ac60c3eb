"""Read EPCIS 1.2 / 2.0 XML documents into the neutral event tree of :mod:`event_hash`.

Part of the consensus-critical event hash: an XML document and its JSON-LD twin must give the
same tree.  Elements become nodes (namespaced ones as ``{ns}local``); attributes become child
nodes; ``extension`` / ``baseExtension`` wrappers of EPCIS 1.x are dissolved into their parent;
``bizTransaction`` / ``source`` / ``destination`` become typed entries (type first).
"""

from __future__ import annotations

from lxml import etree

from traceability_api.consensus.event_hash import (
    HASH_RULE,
    WELL_KNOWN_PREFIXES,
    Node,
    _expand_value,
    hash_id_of_prehash,
    prehash,
)

_EVENT_TYPES = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
_WRAPPERS = {"extension", "baseExtension"}
_TYPED = {"bizTransaction", "source", "destination"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)


class XMLDocumentError(ValueError):
    pass


def _name(qname: str) -> str:
    # lxml gives "{ns}local" already; unqualified names stay as they are
    return qname


def _prefixes(el: etree._Element) -> dict[str, str]:
    """Prefixes expanded in values: only the well-known ones (an ``xmlns`` prefix names elements;
    XML values are URIs as written), with the namespace the document binds them to."""
    return {k: el.nsmap.get(k) or v for k, v in WELL_KNOWN_PREFIXES.items()}


def _children(el: etree._Element) -> list[etree._Element]:
    out: list[etree._Element] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _WRAPPERS:
            out.extend(_children(child))
        else:
            out.append(child)
    return out


def _node(el: etree._Element, parent: str) -> Node:
    name = _name(el.tag)
    prefixes = _prefixes(el)
    kids = _children(el)
    text = (el.text or "").strip() if not kids else ""
    if name in _TYPED:
        entry = []
        if "type" in el.attrib:
            entry.append(Node("type", _expand_value(el.attrib["type"], f"{name}@type", prefixes, HASH_RULE)))
        entry.append(Node(name, _expand_value(text, name, prefixes, HASH_RULE)))
        return Node("", "", entry)
    children = [
        Node(_name(str(k)), _expand_value(str(v), f"{name}@{k}", prefixes, HASH_RULE)) for k, v in el.attrib.items()
    ]
    children.extend(_node(k, name) for k in kids)
    return Node(name, _expand_value(text, name, prefixes, HASH_RULE), children)


def _event_elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str) and el.tag in _EVENT_TYPES]


def _ignored(root: etree._Element) -> frozenset[str]:
    names: set[str] = set()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.endswith("}ignoreFields"):
            names.update(_name(c.tag) for c in el if isinstance(c.tag, str))
    return frozenset(names)


def parse(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLDocumentError(f"malformed XML: {exc}") from exc


def prehashes_of_xml_document(data: bytes) -> list[str]:
    root = parse(data)
    ignore = _ignored(root)
    events = []
    for el in _event_elements(root):
        node = Node(el.tag, "", [_node(k, el.tag) for k in _children(el)])
        # attributes on the event element itself are not event fields
        events.append(prehash(node, ignore))
    return events


def hash_ids_of_xml_document(data: bytes) -> list[str]:
    return [hash_id_of_prehash(p) for p in prehashes_of_xml_document(data)]
