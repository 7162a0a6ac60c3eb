"""The GS1 CBV 2.0 event hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``).

CONSENSUS-CRITICAL: any party must be able to recompute the hash of an event from its content,
so every rule here is fixed by CBV 2.0 section 8.9 and checked against the 89 third-party
vectors in ``consensus/vectors/epcis-event-hash`` (tests/test_event_hash.py).

An event (from JSON-LD or XML) is first read into a neutral tree of ``Node(name, value,
children)`` following the XML data model; the pre-hash string is then

    "eventType=" T  +  the standard fields in the fixed order of ``FIELD_ORDER``
                    +  every other field (user extensions, ilmd), sorted

where repeated elements are each rendered and sorted, values are canonicalised (timestamps to
UTC at millisecond precision, numbers without padding, GS1 keys as canonical Digital Link URIs,
CBV bare words and URNs as web vocabulary), and ``recordTime``, ``eventID``,
``errorDeclaration`` and comments are left out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from traceability_api.consensus.gs1_uri import normalise_gs1_uri

HASH_PREFIX = "ni:///sha-256;"
HASH_SUFFIX = "?ver=CBV2.0"


@dataclass
class Node:
    name: str
    value: str = ""
    children: list[Node] = field(default_factory=list)


Order = list[tuple[str, "Order | None"]]

_QTY: Order = [("epcClass", None), ("quantity", None), ("uom", None)]
_SENSOR_METADATA: Order = [
    (n, None)
    for n in (
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    )
]
_SENSOR_REPORT: Order = [
    (n, None)
    for n in (
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
        "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
        "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
        "percValue", "uom", "coordinateReferenceSystem",
    )
]  # fmt: skip

FIELD_ORDER: Order = [
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", [("epc", None)]),
    ("inputEPCList", [("epc", None)]),
    ("childEPCs", [("epc", None)]),
    ("quantityList", [("quantityElement", _QTY)]),
    ("childQuantityList", [("quantityElement", _QTY)]),
    ("inputQuantityList", [("quantityElement", _QTY)]),
    ("outputEPCList", [("epc", None)]),
    ("outputQuantityList", [("quantityElement", _QTY)]),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", [("set", None), ("unset", None)]),
    ("readPoint", [("id", None)]),
    ("bizLocation", [("id", None)]),
    (
        "sensorElementList",
        [("sensorElement", [("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)])],
    ),
]
# bizTransactionList, sourceList, destinationList and ilmd fall into the sorted remainder.
IGNORED = frozenset({"recordTime", "eventID", "errorDeclaration"})

# ---- value canonicalisation --------------------------------------------------------------------

_CBV = "https://ref.gs1.org/cbv/"
_URN_VOCAB = {
    "urn:epcglobal:cbv:bizstep:": _CBV + "BizStep-",
    "urn:epcglobal:cbv:disp:": _CBV + "Disp-",
    "urn:epcglobal:cbv:btt:": _CBV + "BTT-",
    "urn:epcglobal:cbv:sdt:": _CBV + "SDT-",
    "urn:epcglobal:cbv:er:": _CBV + "ER-",
}
# bare CBV words, by the element (or attribute) whose value they are
BARE_WORD_PREFIX = {
    "bizStep": _CBV + "BizStep-",
    "disposition": _CBV + "Disp-",
    "set": _CBV + "Disp-",
    "unset": _CBV + "Disp-",
    "bizTransaction@type": _CBV + "BTT-",
    "source@type": _CBV + "SDT-",
    "destination@type": _CBV + "SDT-",
    "reason": _CBV + "ER-",
    "sensorReport@type": "https://gs1.org/voc/",
    "sensorReport@exception": "https://gs1.org/voc/",
}
_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def canonical_time(text: str) -> str:
    """UTC, rounded half-up to the millisecond, with a trailing Z."""
    m = _TIME_RE.match(text.strip())
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


def canonical_number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return str(int(number)) if number == int(number) else str(number)


def canonical_value(text: str) -> str:
    for urn, web in _URN_VOCAB.items():
        text = text.replace(urn, web)
    text = canonical_number(text)
    return normalise_gs1_uri(text) or text


def _is_time_field(name: str) -> bool:
    lower = name.lower()
    return "time" in lower and "offset" not in lower


# ---- pre-hash ------------------------------------------------------------------------------------


def _render(node: Node, sub_order: Order | None, residue: list[Node]) -> str:
    """Render one node.  With a ``sub_order``, children outside it that carry a namespace (user
    extensions) are rendered inline after the ordered ones; other stray children are handed back
    in ``residue`` (under their ancestors' names) for the event's sorted remainder."""
    if not node.name:  # a typed list entry: "type=<t>" then "<item>=<v>", in that order
        return "".join(_render(c, None, residue) for c in node.children)
    text = node.value.strip()
    if text:
        text = canonical_time(text) if _is_time_field(node.name) else canonical_value(text)
        text = "=" + text
    inner = ""
    if sub_order is not None:
        rest = list(node.children)
        stray: list[Node] = []
        inner = _ordered(rest, sub_order, stray)
        inner += _generic([c for c in rest if c.name.startswith("{")])
        stray.extend(c for c in rest if not c.name.startswith("{"))
        if stray:
            residue.append(Node(node.name, "", stray))
    elif node.children:
        inner = _generic(list(node.children))
    if text or inner:
        return node.name + text + inner
    return ""


def _ordered(children: list[Node], order: Order, residue: list[Node]) -> str:
    """Render children named in ``order`` (removing them from ``children``)."""
    out = []
    for name, sub_order in order:
        matching = [c for c in children if c.name == name]
        for c in matching:
            children.remove(c)
        rendered = sorted(r for r in (_render(c, sub_order, residue) for c in matching) if r)
        out.append("".join(rendered))
    return "".join(out)


def _generic(children: list[Node]) -> str:
    scratch: list[Node] = []
    return "".join(sorted(r for r in (_render(c, None, scratch) for c in children) if r))


def prehash(event: Node, ignore: frozenset[str] = frozenset()) -> str:
    children = [c for c in event.children if c.name not in IGNORED and c.name not in ignore]
    residue: list[Node] = []
    ordered = _ordered(children, FIELD_ORDER, residue)
    return "eventType=" + event.name + ordered + _generic(children + residue)


def hash_id_of_prehash(pre: str) -> str:
    return HASH_PREFIX + hashlib.sha256(pre.encode("utf-8")).hexdigest() + HASH_SUFFIX


def event_hash_id(event: Node) -> str:
    return hash_id_of_prehash(prehash(event))


# ---- JSON-LD reading -----------------------------------------------------------------------------

WELL_KNOWN_PREFIXES = {
    "gs1": "https://gs1.org/voc/",
    "cbv": "https://ref.gs1.org/cbv/",
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
}
# JSON arrays whose XML form wraps each item in an element of this name
_LIST_ITEM = {
    "epcList": "epc", "inputEPCList": "epc", "outputEPCList": "epc", "childEPCs": "epc",
    "quantityList": "quantityElement", "childQuantityList": "quantityElement",
    "inputQuantityList": "quantityElement", "outputQuantityList": "quantityElement",
    "bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination",
    "sensorElementList": "sensorElement", "correctiveEventIDs": "correctiveEventID",
}  # fmt: skip
# typed list items: {"type": t, "<item>": v}  ->  <item type="t">v</item>
_TYPED_ITEMS = {"bizTransaction", "source", "destination"}
_SKIP_KEYS = {"#text", "rdfs:comment", "comment", "@context", "@id", "@type"}


def prefixes_of_context(context: Any) -> dict[str, str]:
    prefixes = dict(WELL_KNOWN_PREFIXES)
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            prefixes.update({k: v for k, v in item.items() if isinstance(v, str)})
    return prefixes


def _expand_key(key: str, prefixes: dict[str, str]) -> str:
    if ":" in key and not key.startswith(("http:", "https:", "urn:")):
        pfx, local = key.split(":", 1)
        if pfx in prefixes:
            return "{" + prefixes[pfx] + "}" + local
    return key


def _expand_value(value: str, context_key: str, prefixes: dict[str, str]) -> str:
    if ":" in value:
        pfx, local = value.split(":", 1)
        ns = prefixes.get(pfx)
        if ns and pfx in WELL_KNOWN_PREFIXES and not local.startswith("//"):
            return ns + local
        return value
    prefix = BARE_WORD_PREFIX.get(context_key)
    return prefix + value if prefix and value else value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _json_children(name: str, value: Any, parent: str, prefixes: dict[str, str]) -> list[Node]:
    key = _expand_key(name, prefixes)
    if isinstance(value, list):
        item = _LIST_ITEM.get(name)
        if item is not None:
            return [Node(key, "", [n for v in value for n in _json_children(item, v, name, prefixes)])]
        return [n for v in value for n in _json_children(name, v, parent, prefixes)]
    if isinstance(value, dict):
        if name in _TYPED_ITEMS:
            children = []
            if "type" in value:
                t = _expand_value(_scalar(value["type"]), f"{name}@type", prefixes)
                children.append(Node("type", t))
            children.append(Node(key, _expand_value(_scalar(value.get(name, "")), name, prefixes)))
            return [Node("", "", children)]
        return [Node(key, _scalar(value.get("#text", "")), _json_object_children(value, name, prefixes))]
    ctx = f"{parent}@{name}" if parent in ("sensorReport",) else name
    return [Node(key, _expand_value(_scalar(value), ctx, prefixes))]


def _json_object_children(obj: dict[str, Any], name: str, prefixes: dict[str, str]) -> list[Node]:
    out: list[Node] = []
    for k, v in obj.items():
        if k in _SKIP_KEYS or k.startswith("@xmlns"):
            continue
        out.extend(_json_children(k, v, name, prefixes))
    return out


def node_of_json_event(event: dict[str, Any], prefixes: dict[str, str] | None = None) -> Node:
    prefixes = prefixes or prefixes_of_context(event.get("@context", []))
    body = {k: v for k, v in event.items() if k != "type"}
    return Node(str(event.get("type", "")), "", _json_object_children(body, "event", prefixes))


def events_of_json_document(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc.get("epcisBody", {})
    if "eventList" in body:
        events: list[dict[str, Any]] = body["eventList"]
    elif "queryResults" in body:
        events = body["queryResults"]["resultsBody"]["eventList"]
    elif "event" in body:
        events = [body["event"]]
    else:
        events = []
    return events


def ignored_fields_of_json_document(doc: dict[str, Any], prefixes: dict[str, str]) -> frozenset[str]:
    """Fields a document declares as not part of the event (``<prefix>:ignoreFields``)."""
    names: set[str] = set()
    body = doc.get("epcisBody", {})
    for level in (doc, body, body.get("queryResults", {})):
        for key, value in level.items():
            if key == "ignoreFields" or key.endswith(":ignoreFields"):
                values = value if isinstance(value, list) else [value]
                names.update(_expand_key(str(v), prefixes) for v in values)
    return frozenset(names)


def prehashes_of_json_document(doc: dict[str, Any]) -> list[str]:
    prefixes = prefixes_of_context(doc.get("@context", []))
    ignore = ignored_fields_of_json_document(doc, prefixes)
    return [prehash(node_of_json_event(e, prefixes), ignore) for e in events_of_json_document(doc)]


def hash_ids_of_json_document(doc: dict[str, Any]) -> list[str]:
    return [hash_id_of_prehash(p) for p in prehashes_of_json_document(doc)]
