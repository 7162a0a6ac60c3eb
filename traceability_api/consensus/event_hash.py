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

Hash rules (the version an event was hashed with is stored beside it, so anchors made under an
older rule keep verifying; the ``ni:`` suffix stays ``?ver=CBV2.0`` for both):

* rule 2 (``HASH_RULE``, current): CBV 2.0 section 8.9 as written.  Every CURIE value whose prefix
  the JSON-LD ``@context`` defines (document context extended by the event's own) is expanded
  (rule 15), and the bare words of every CBV vocabulary, sensor ``component`` included, become
  web-vocabulary URIs (rule 16).
* rule 1 (events captured before rule 2): only ``gs1:``/``cbv:``/``epcis:``/``cbvmda:`` CURIEs are
  expanded in values, and a bare sensor ``component`` is hashed as written.

EPCIS XML carries no JSON-LD context: its values are URIs as written (an ``xmlns`` prefix names
elements, not values), so only the well-known prefixes are expanded there (as in the reference
vectors, e.g. ``SensorDataExamples.xml``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from traceability_api.consensus.gs1_uri import normalise_gs1_uri

HASH_PREFIX = "ni:///sha-256;"
HASH_SUFFIX = "?ver=CBV2.0"
HASH_RULE = 2  # the rule new events are hashed with (see the module docstring)
HASH_RULES = (1, 2)


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
# rule 2 adds the sensor component vocabulary (x, y, z, latitude, longitude, altitude ...)
BARE_WORD_PREFIX_2 = {**BARE_WORD_PREFIX, "sensorReport@component": _CBV + "Comp-"}
_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)


def canonical_time(text: str) -> str:
    """UTC, rounded half-up to the millisecond, with a trailing Z.  Integer arithmetic: the
    fraction's first three digits, plus one when the fourth is 5 or more (half-up on the digits
    as written; a ``Decimal`` per timestamp was a third of the hash's time)."""
    m = _TIME_RE.match(text.strip())
    if not m:
        return text
    date, hh, mm, ss, frac, tz = m.groups()
    frac = frac or ""
    millis = int((frac + "000")[:3]) + (len(frac) > 3 and int(frac[3]) >= 5)
    moment = datetime.fromisoformat(f"{date}T{hh}:{mm}:{ss}+00:00")  # refuses what is no real time
    if millis < 1000 and tz in ("Z", "z") and date[0] != "0":  # already UTC: the checked fields as written
        return f"{date}T{hh}:{mm}:{ss}.{millis:03d}Z"
    moment += timedelta(milliseconds=millis)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        moment -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    y = moment.year
    # strftime's %Y does not pad years before 1000 on glibc: kept, since hashes were made with it
    year = str(y) if y < 1000 else f"{y:04d}"
    return (
        f"{year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def canonical_number(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return str(int(number)) if number == int(number) else str(number)


@lru_cache(maxsize=16384)  # pure; the same URIs, CBV values and units recur in every event
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
    by_name: dict[str, list[Node]] = {}
    for c in children:
        by_name.setdefault(c.name, []).append(c)
    out = []
    for name, sub_order in order:
        matching = by_name.pop(name, None)
        if matching:
            out.append("".join(sorted(r for r in (_render(c, sub_order, residue) for c in matching) if r)))
    children[:] = [c for c in children if c.name in by_name]  # those not named in ``order`` stay
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
LIST_ITEM = {
    "epcList": "epc", "inputEPCList": "epc", "outputEPCList": "epc", "childEPCs": "epc",
    "quantityList": "quantityElement", "childQuantityList": "quantityElement",
    "inputQuantityList": "quantityElement", "outputQuantityList": "quantityElement",
    "bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination",
    "sensorElementList": "sensorElement", "correctiveEventIDs": "correctiveEventID",
}  # fmt: skip
# typed list items: {"type": t, "<item>": v}  ->  <item type="t">v</item>
TYPED_ITEMS = {"bizTransaction", "source", "destination"}
_SKIP_KEYS = {"#text", "rdfs:comment", "comment", "@context", "@id", "@type"}


def prefixes_of_context(context: Any, base: dict[str, str] | None = None) -> dict[str, str]:
    """Prefixes an ``@context`` defines, layered over ``base`` (the well-known ones by default):
    JSON-LD scoping, so an event's own context extends its document's."""
    prefixes = dict(WELL_KNOWN_PREFIXES if base is None else base)
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


def _expand_value(value: str, context_key: str, prefixes: dict[str, str], rule: int = 1) -> str:
    if ":" in value:
        pfx, local = value.split(":", 1)
        ns = prefixes.get(pfx)
        if ns and (rule >= 2 or pfx in WELL_KNOWN_PREFIXES) and not local.startswith("//"):
            return ns + local
        return value
    prefix = (BARE_WORD_PREFIX_2 if rule >= 2 else BARE_WORD_PREFIX).get(context_key)
    return prefix + value if prefix and value else value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class _Reader:
    prefixes: dict[str, str]
    rule: int

    def children(self, name: str, value: Any, parent: str) -> list[Node]:
        key = _expand_key(name, self.prefixes)
        if isinstance(value, list):
            item = LIST_ITEM.get(name)
            if item is not None:
                return [Node(key, "", [n for v in value for n in self.children(item, v, name)])]
            return [n for v in value for n in self.children(name, v, parent)]
        if isinstance(value, dict):
            if name in TYPED_ITEMS:
                entry = []
                if "type" in value:
                    entry.append(Node("type", self.value(value["type"], f"{name}@type")))
                entry.append(Node(key, self.value(value.get(name, ""), name)))
                return [Node("", "", entry)]
            return [Node(key, _scalar(value.get("#text", "")), self.object_children(value, name))]
        return [Node(key, self.value(value, f"{parent}@{name}" if parent == "sensorReport" else name))]

    def value(self, value: Any, context_key: str) -> str:
        return _expand_value(_scalar(value), context_key, self.prefixes, self.rule)

    def object_children(self, obj: dict[str, Any], name: str) -> list[Node]:
        out: list[Node] = []
        for k, v in obj.items():
            if k in _SKIP_KEYS or k.startswith("@xmlns"):
                continue
            out.extend(self.children(k, v, name))
        return out


def node_of_json_event(event: dict[str, Any], prefixes: dict[str, str] | None = None, rule: int = HASH_RULE) -> Node:
    """The neutral tree of one JSON-LD event.  ``prefixes`` are its document's (default: the
    well-known ones); the event's own ``@context`` extends them."""
    if rule not in HASH_RULES:
        raise ValueError(f"unknown event hash rule {rule}")
    prefixes = prefixes_of_context(event.get("@context", []), prefixes)
    body = {k: v for k, v in event.items() if k != "type"}
    return Node(str(event.get("type", "")), "", _Reader(prefixes, rule).object_children(body, "event"))


def hash_id_of_event(event: dict[str, Any], rule: int = HASH_RULE) -> str:
    """The hash ID of one stand-alone JSON-LD event (its own ``@context`` defines its prefixes)."""
    return event_hash_id(node_of_json_event(event, None, rule))


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


def prehashes_of_json_document(doc: dict[str, Any], rule: int = HASH_RULE) -> list[str]:
    prefixes = prefixes_of_context(doc.get("@context", []))
    ignore = ignored_fields_of_json_document(doc, prefixes)
    return [prehash(node_of_json_event(e, prefixes, rule), ignore) for e in events_of_json_document(doc)]


def hash_ids_of_json_document(doc: dict[str, Any], rule: int = HASH_RULE) -> list[str]:
    return [hash_id_of_prehash(p) for p in prehashes_of_json_document(doc, rule)]
