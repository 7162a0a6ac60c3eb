"""Hypothesis strategies for EPCIS 2.0 JSON-LD events: every event type, extensions with custom
prefixes (document- and event-level @context), sensor data, quantities, ILMD, sources and
destinations, Vietnamese text and several time-zone offsets.

Identifiers are SSCCs, GRAIs, GIAIs, product classes and GLNs (none of them a lot), so the events
pass custody rules in any organisation; tests add lots where an event type needs them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from traceability_api.consensus.gs1_uri import with_check_digit

PREFIXES = {"ex": "https://ns.example.com/epcis/", "acme": "https://acme.example.vn/voc#", "vn": "urn:vn:ext:"}
OWN_PREFIX = {"own": "https://own.example.vn/ns/"}
EPCIS_CTX = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵĐƯ -–,.0123456789"
OFFSETS = ["+07:00", "+00:00", "-05:00", "+05:30", "+09:45", "-03:30", "Z"]

vn_text = st.text(alphabet=VIETNAMESE, min_size=1, max_size=24).filter(lambda s: s.strip() != "")
local_name = st.from_regex(r"[a-z][a-zA-Z0-9]{0,7}", fullmatch=True)
digits = st.integers(min_value=0, max_value=10**9 - 1)
decimals = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False).map(lambda f: round(f, 3))


def _gtin(n: int) -> str:
    return with_check_digit(f"0893{n % 10**9:09d}")


sscc = digits.map(lambda n: "https://id.gs1.org/00/" + with_check_digit(f"0893{n:013d}"))
grai = digits.map(lambda n: f"urn:epc:id:grai:8934567.00001.{n}")
giai = digits.map(lambda n: f"https://id.example.vn/8004/893456{n}")
product_class = digits.map(lambda n: f"https://id.gs1.org/01/{_gtin(n)}")
gln = digits.map(lambda n: "https://id.gs1.org/414/" + with_check_digit(f"893{n % 10**9:09d}"))
sgln = digits.map(lambda n: f"urn:epc:id:sgln:8934567.{n % 100000:05d}.0")
pgln = digits.map(lambda n: f"urn:epc:id:pgln:8934567.{n % 100000:05d}")
epc = st.one_of(sscc, grai, giai)
epcs = st.lists(epc, min_size=1, max_size=3, unique=True)


@st.composite
def event_time(draw: st.DrawFn) -> tuple[str, str]:
    base = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 5 * 365 * 86400)))
    millis = draw(st.sampled_from(["", ".5", ".123", ".1234", ".9996"]))
    off = draw(st.sampled_from(OFFSETS))
    if off == "Z":
        return base.strftime("%Y-%m-%dT%H:%M:%S") + millis + "Z", "+00:00"
    sign = 1 if off[0] == "+" else -1
    tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    return base.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S") + millis + off, off


@st.composite
def quantity(draw: st.DrawFn) -> dict[str, Any]:
    q: dict[str, Any] = {"epcClass": draw(product_class)}
    if draw(st.booleans()):
        q |= {"quantity": draw(decimals), "uom": draw(st.sampled_from(["KGM", "TNE", "LTR", "EA"]))}
    return q


quantities = st.lists(quantity(), min_size=1, max_size=3)


def ext_key(prefixes: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(prefixes), local_name).map(lambda t: f"{t[0]}:{t[1]}")


def ext_value(prefixes: list[str]) -> st.SearchStrategy[Any]:
    curie = st.tuples(st.sampled_from(prefixes), local_name).map(lambda t: f"{t[0]}:{t[1]}")
    leaf = st.one_of(vn_text, decimals, st.integers(-1000, 1000), st.booleans(), curie)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.dictionaries(ext_key(prefixes), inner, min_size=1, max_size=3),
            st.lists(st.one_of(vn_text, curie), min_size=2, max_size=3),
        ),
        max_leaves=4,
    )


def extensions(prefixes: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(ext_key(prefixes), ext_value(prefixes), max_size=3)


@st.composite
def sensor_element(draw: st.DrawFn, prefixes: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if draw(st.booleans()):
        meta["time"] = draw(event_time())[0]
    if draw(st.booleans()):
        meta["deviceID"] = draw(giai)
    if draw(st.booleans()):
        meta["dataProcessingMethod"] = draw(st.sampled_from(prefixes)) + ":summary-v1"
    reports = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["Temperature", "gs1:RelativeHumidity", "Angle", "custom"]))
        report: dict[str, Any] = {"type": draw(st.sampled_from(prefixes)) + ":moisture" if kind == "custom" else kind}
        if kind == "Angle":
            report |= {"component": draw(st.sampled_from(["latitude", "longitude", "altitude", "x"])),
                       "value": draw(st.floats(-90, 90).map(lambda f: round(f, 6))), "uom": "DD"}  # fmt: skip
        else:
            report |= {"value": draw(decimals), "uom": draw(st.sampled_from(["CEL", "P1", "KGM"]))}
        if draw(st.booleans()):
            report["stringValue"] = draw(vn_text)
        if draw(st.booleans()):
            report["exception"] = draw(st.sampled_from(["ALARM_CONDITION", "ERROR_CONDITION"]))
        if draw(st.booleans()):
            report[draw(ext_key(prefixes))] = draw(st.one_of(vn_text, decimals))
        reports.append(report)
    element: dict[str, Any] = {"sensorReport": reports}
    if meta:
        element["sensorMetadata"] = meta
    return element


@st.composite
def parties(draw: st.DrawFn, key: str) -> list[dict[str, Any]]:
    types = draw(st.lists(st.sampled_from(["owning_party", "possessing_party", "location"]), max_size=3, unique=True))
    return [{"type": t, key: draw(gln if t == "location" else st.one_of(pgln, gln))} for t in types]


@st.composite
def what(draw: st.DrawFn, etype: str) -> dict[str, Any]:
    if etype in ("AggregationEvent", "AssociationEvent"):
        out = {"parentID": draw(sscc), "childEPCs": draw(epcs)}
        if draw(st.booleans()):
            out["childQuantityList"] = draw(quantities)
        return out
    if etype == "TransformationEvent":
        out = {"inputEPCList": draw(epcs), "outputEPCList": draw(epcs), "inputQuantityList": draw(quantities),
               "outputQuantityList": draw(quantities)}  # fmt: skip
        if draw(st.booleans()):
            out["transformationID"] = "urn:uuid:" + draw(st.uuids()).hex
        return out
    out = {}
    if etype == "TransactionEvent" and draw(st.booleans()):
        out["parentID"] = draw(sscc)
    if draw(st.booleans()):
        out["epcList"] = draw(epcs)
    if not out.get("epcList") or draw(st.booleans()):
        out["quantityList"] = draw(quantities)
    return out


@st.composite
def epcis_event(draw: st.DrawFn, etype: str | None = None) -> dict[str, Any]:
    """One event; its ``@context`` (when it has one) adds the ``own`` prefix to its document's."""
    etype = etype or draw(
        st.sampled_from(
            ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]
        )  # fmt: skip
    )
    own = draw(st.booleans())
    prefixes = [*PREFIXES, *(OWN_PREFIX if own else {})]
    when, offset = draw(event_time())
    ev: dict[str, Any] = {"type": etype, "eventTime": when, "eventTimeZoneOffset": offset}
    if own:
        ev["@context"] = [OWN_PREFIX]
    ev |= draw(what(etype))
    if etype != "TransformationEvent":
        ev["action"] = draw(st.sampled_from(["OBSERVE", "ADD", "DELETE"]))
    ev["bizStep"] = draw(st.sampled_from(["inspecting", "storing", "sensor_reporting", "receiving", "shipping",
                                          "https://ns.agritrace.vn/voc/BizStep-irrigating"]))  # fmt: skip
    if draw(st.booleans()):
        ev["disposition"] = draw(st.sampled_from(["in_progress", "in_transit", "active", "conformant"]))
    if draw(st.booleans()):
        ev["readPoint"] = {"id": draw(st.one_of(sgln, gln))}
    if draw(st.booleans()):
        ev["bizLocation"] = {"id": draw(st.one_of(sgln, gln))}
    if etype == "TransactionEvent" or draw(st.booleans()):
        bt = f"urn:epcglobal:cbv:bt:8934567000009:{draw(digits)}"
        ev["bizTransactionList"] = [{"type": draw(st.sampled_from(["po", "desadv", "inv"])), "bizTransaction": bt}]
    for key, item in (("sourceList", "source"), ("destinationList", "destination")):
        entries = draw(parties(item))
        if entries:
            ev[key] = entries
    if draw(st.booleans()):
        ev["sensorElementList"] = draw(st.lists(sensor_element(prefixes), min_size=1, max_size=2))
    ilmd_allowed = etype == "TransformationEvent" or (etype == "ObjectEvent" and ev["action"] == "ADD")
    if ilmd_allowed and draw(st.booleans()):
        ev["ilmd"] = draw(extensions(prefixes).filter(bool))
    ev |= draw(extensions(prefixes))
    return ev


def document_context() -> list[Any]:
    return [EPCIS_CTX, dict(PREFIXES)]


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same JSON with every object's keys in another order (list order is kept)."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value
