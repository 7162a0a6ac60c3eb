"""EPCIS 2.0 query parameters (SimpleEventQuery) compiled into SQL conditions over the indexed
columns of ``event`` and Python predicates over the stored event for everything else.

SQL: eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, EQ_eventID.
Python (over a bounded candidate set, see search.py): readPoint/bizLocation, the MATCH_ family,
quantities, bizTransactions, sources/destinations, errorDeclaration, ILMD, sensor data, extension fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_

from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis_rest.values import (
    QueryParameterError,
    as_bool,
    as_number,
    as_time,
    cbv,
    field_values,
    norm_uri,
    values_of,
)
from traceability_api.events.models import Event

Pred = Callable[[dict[str, Any]], bool]
PAGING = {"perPage", "nextPageToken", "orderBy", "orderDirection", "eventCountLimit", "maxEventCount"}
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
_EPC_FIELDS = {
    "epc": ("epcList", "childEPCs"), "parentID": ("parentID",), "inputEPC": ("inputEPCList",),
    "outputEPC": ("outputEPCList",),
    "anyEPC": ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"),
}  # fmt: skip
_CLASS_FIELDS = {
    "epcClass": ("quantityList", "childQuantityList"), "inputEPCClass": ("inputQuantityList",),
    "outputEPCClass": ("outputQuantityList",),
    "anyEPCClass": ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"),
}  # fmt: skip
_DECLARATION_PARAMS = {"EXISTS_errorDeclaration", "GE_errorDeclarationTime", "LT_errorDeclarationTime",
                       "EQ_errorReason", "EQ_correctiveEventID"}  # fmt: skip
_SENSOR = {"type", "deviceID", "dataProcessingMethod", "microorganism", "chemicalSubstance", "bizRules",
           "stringValue", "hexBinaryValue", "uriValue", "booleanValue", "component", "uom"}  # fmt: skip
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
}


@dataclass
class Compiled:
    sql: list[Any] = field(default_factory=list)
    py: list[Pred] = field(default_factory=list)
    declarations: bool = False  # a predicate reads the events' errorDeclaration (stored beside them)

    def matches(self, doc: dict[str, Any]) -> bool:
        return all(p(doc) for p in self.py)


def compile_query(params: dict[str, Any]) -> Compiled:
    out = Compiled()
    for name, raw in params.items():
        if name in PAGING:
            continue
        try:
            _one(out, name, raw)
        except QueryParameterError as exc:
            raise QueryParameterError(f"{name}: {exc}") from exc
    return out


def _one(out: Compiled, name: str, raw: Any) -> None:  # noqa: C901 - one branch per parameter family
    vals = values_of(raw)
    m = re.fullmatch(r"(GE|LT)_(eventTime|recordTime)", name)
    if m:
        col = Event.event_time if m[2] == "eventTime" else Event.record_time
        t = as_time(vals)
        out.sql.append(col >= t if m[1] == "GE" else col < t)  # type: ignore[operator]
    elif name == "eventType":
        bad = [v for v in vals if v not in EVENT_TYPES]
        if bad:
            raise QueryParameterError(f"unknown event type {bad[0]!r}")
        out.sql.append(Event.event_type.in_(vals))  # type: ignore[attr-defined]
    elif name == "EQ_action":
        if any(v not in ("ADD", "OBSERVE", "DELETE") for v in vals):
            raise QueryParameterError("action must be ADD, OBSERVE or DELETE")
        out.sql.append(Event.action.in_(vals))  # type: ignore[union-attr]
    elif name == "EQ_bizStep":
        out.sql.append(Event.biz_step.in_([cbv(v, voc.BIZSTEP) for v in vals]))  # type: ignore[union-attr]
    elif name == "EQ_disposition":
        out.sql.append(Event.disposition.in_([cbv(v, voc.DISP) for v in vals]))  # type: ignore[union-attr]
    elif name == "EQ_eventID":
        out.sql.append(or_(Event.client_event_id.in_(vals), Event.hash_id.in_(vals)))  # type: ignore[attr-defined]
    else:
        out.py.append(_predicate(name, vals))
        out.declarations |= name in _DECLARATION_PARAMS


def _predicate(name: str, vals: list[str]) -> Pred:  # noqa: C901, PLR0911 - one branch per family
    m = re.fullmatch(r"(EQ|WD)_(readPoint|bizLocation)", name)
    if m:  # WD_ (with descendants) equals EQ_: locations carry no master-data hierarchy here
        wanted, key = {norm_uri(v) for v in vals}, m[2]
        return lambda d: norm_uri(_id_of(d.get(key))) in wanted
    m = re.fullmatch(r"MATCH_(\w+)", name)
    if m and (m[1] in _EPC_FIELDS or m[1] in _CLASS_FIELDS):
        return _match(m[1], vals)
    m = re.fullmatch(r"(EQ|GT|GE|LT|LE)_quantity", name)
    if m:
        return _quantity(m[1], as_number(vals))
    if name.startswith(("EQ_bizTransaction_", "EQ_source_", "EQ_destination_")):
        return _typed_list(name, vals)
    if name in _DECLARATION_PARAMS:
        return _error_declaration(name, vals)
    if name in ("EQ_persistentDisposition_set", "EQ_persistentDisposition_unset"):
        key = name.rsplit("_", 1)[1]
        wanted = {cbv(v, voc.DISP) for v in vals}
        return lambda d: bool(
            wanted & {cbv(str(x), voc.DISP) for x in (d.get("persistentDisposition") or {}).get(key, [])}
        )
    m = re.fullmatch(r"(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?(ILMD_)?(.+)", name)
    if m is None:
        raise QueryParameterError("unknown query parameter")
    op, inner, ilmd, fname = m[1], bool(m[2]), bool(m[3]), m[4]
    if fname in ("startTime", "endTime", "time", "value", "minValue", "maxValue", "meanValue", "sDev",
                 "percRank", "percValue") or (fname in _SENSOR and not ilmd):  # fmt: skip
        return _sensor(op, fname, vals)
    if ":" not in fname:
        raise QueryParameterError("unknown query parameter (extension and ILMD fields are named prefix:name or by IRI)")
    return _field(op, fname, vals, inner=inner, ilmd=ilmd)


def _id_of(x: Any) -> str | None:
    return str(x.get("id")) if isinstance(x, dict) and x.get("id") is not None else None


def _matches_epc(value: str | None, pattern: str) -> bool:
    if value is None:
        return False
    v, p = norm_uri(value), norm_uri(pattern)
    return v == p or (p.endswith("*") and v.startswith(p[:-1])) or v.startswith(p + "/")


def _match(which: str, vals: list[str]) -> Pred:
    def epcs(d: dict[str, Any]) -> Iterable[str | None]:
        for key in _EPC_FIELDS.get(which, ()):
            x = d.get(key)
            yield from (x if isinstance(x, list) else [x])
        for key in _CLASS_FIELDS.get(which, ()):
            yield from (q.get("epcClass") for q in d.get(key) or [] if isinstance(q, dict))

    return lambda d: any(_matches_epc(str(e) if e is not None else None, p) for e in epcs(d) for p in vals)


def _quantity(op: str, n: float) -> Pred:
    keys = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

    def ok(q: Any) -> bool:
        if not isinstance(q, dict) or not isinstance(q.get("quantity"), int | float):
            return False
        return bool(q["quantity"] == n if op == "EQ" else _CMP[op](q["quantity"], n))

    return lambda d: any(ok(q) for k in keys for q in d.get(k) or [])


def _typed_list(name: str, vals: list[str]) -> Pred:
    kind, typ = name[3:].split("_", 1)
    list_key = {"bizTransaction": "bizTransactionList", "source": "sourceList", "destination": "destinationList"}[kind]
    prefix = {"bizTransaction": voc.CBV + "BTT-", "source": voc.SDT, "destination": voc.SDT}[kind]
    wanted = {norm_uri(v) for v in vals}
    t = cbv(typ, prefix)

    def ok(d: dict[str, Any]) -> bool:
        for x in d.get(list_key) or []:
            if (
                isinstance(x, dict)
                and cbv(str(x.get("type", "")), prefix) == t
                and norm_uri(str(x.get(kind))) in wanted
            ):
                return True
        return False

    return ok


def _error_declaration(name: str, vals: list[str]) -> Pred:
    def decl(d: dict[str, Any]) -> dict[str, Any] | None:
        x = d.get("errorDeclaration")
        return x if isinstance(x, dict) else None

    if name == "EXISTS_errorDeclaration":
        want = as_bool(vals) if vals and vals != [""] else True
        return lambda d: (decl(d) is not None) == want
    if name.endswith("errorDeclarationTime"):
        t = as_time(vals)
        cmp = _CMP["GE" if name.startswith("GE") else "LT"]
        return lambda d: (x := decl(d)) is not None and _time_cmp(x.get("declarationTime"), t, cmp)
    if name == "EQ_errorReason":
        wanted = {cbv(v, voc.CBV + "ER-") for v in vals}
        return lambda d: (x := decl(d)) is not None and cbv(str(x.get("reason")), voc.CBV + "ER-") in wanted
    return lambda d: (x := decl(d)) is not None and bool(set(vals) & set(x.get("correctiveEventIDs") or []))


def _time_cmp(value: Any, t: datetime, cmp: Callable[[Any, Any], bool]) -> bool:
    try:
        v = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return v.tzinfo is not None and cmp(v, t)


def _sensor(op: str, fname: str, vals: list[str]) -> Pred:
    def elements(d: dict[str, Any]) -> Iterable[dict[str, Any]]:
        for se in d.get("sensorElementList") or []:
            if not isinstance(se, dict):
                continue
            meta: dict[str, Any] = se["sensorMetadata"] if isinstance(se.get("sensorMetadata"), dict) else {}
            yield meta
            yield from (r | {**meta, **r} for r in se.get("sensorReport") or [] if isinstance(r, dict))

    test = _value_test(op, vals)
    if (op, fname) == ("EQ", "type"):  # a standard type is one term however written: Temperature = gs1:Temperature
        wanted = {_measurement(v) for v in vals}
        test = lambda v, _p: isinstance(v, str) and _measurement(v) in wanted  # noqa: E731
    return lambda d: any(test(el.get(fname), fname in el) for el in elements(d))


_GS1_VOC = (
    "gs1:",
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
    "http://www.gs1.org/voc/",
)


def _measurement(value: str) -> str:
    """A sensor type of GS1's vocabulary as its bare word (the query's form; events write ``gs1:Temperature``
    as GS1's examples do, or the bare word); other types as written."""
    for prefix in _GS1_VOC:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _field(op: str, fname: str, vals: list[str], *, inner: bool, ilmd: bool) -> Pred:
    test = _value_test(op, vals)

    def ok(d: dict[str, Any]) -> bool:
        root = d.get("ilmd") if ilmd else d
        if not isinstance(root, dict):
            return op == "EXISTS" and vals == ["false"]
        found = list(field_values(root, fname, deep=inner))
        if op == "EXISTS":
            return test(None, bool(found))
        return any(test(v, True) for v in found)

    return ok


def _value_test(op: str, vals: list[str]) -> Callable[[Any, bool], bool]:
    if op == "EXISTS":
        want = as_bool(vals) if vals and vals != [""] else True
        return lambda _v, present: present == want
    if op == "EQ":
        wanted = set(vals) | {norm_uri(v) for v in vals}
        return lambda v, _p: (
            v is not None
            and not isinstance(v, dict | list)
            and (str(v) in wanted or norm_uri(str(v)) in wanted or _bool_str(v) in wanted)
        )
    cmp = _CMP[op]
    try:
        n: Any = as_number(vals)
    except QueryParameterError:
        n = as_time(vals)
    if isinstance(n, datetime):
        return lambda v, _p: _time_cmp(v, n, cmp)
    return lambda v, _p: isinstance(v, int | float) and not isinstance(v, bool) and bool(cmp(v, n))


def _bool_str(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else ""
