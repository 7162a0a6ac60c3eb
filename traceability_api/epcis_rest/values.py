"""Reading EPCIS query parameter values and comparing them with stored event values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from traceability_api.consensus.gs1_uri import normalise_gs1_uri
from traceability_api.epcis import vocabulary as voc
from traceability_api.timeutil import in_utc_range

MAX_VALUES = 100
MAX_DEPTH = 20


class QueryParameterError(ValueError):
    """A query parameter the EPCIS query language does not know, or a value of the wrong form."""


def values_of(raw: Any) -> list[str]:
    """A parameter value as a list of strings: URL values are pipe-delimited; JSON ones may be lists."""
    if isinstance(raw, list):
        vals = [_scalar(x) for x in raw]
    else:
        vals = _scalar(raw).split("|")
    if len(vals) > MAX_VALUES:
        raise QueryParameterError(f"at most {MAX_VALUES} values")
    return vals


def _scalar(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, dict | list):
        raise QueryParameterError("values must be strings, numbers or booleans")
    return str(x)


def as_time(vals: list[str]) -> datetime:
    if len(vals) != 1:
        raise QueryParameterError("expects one date-time")
    try:
        t = datetime.fromisoformat(vals[0].replace(" ", "+"))  # a '+' left unencoded in a URL reads as ' '
    except ValueError as exc:
        raise QueryParameterError(f"{vals[0]!r} is not an ISO 8601 date-time") from exc
    if t.tzinfo is None:
        raise QueryParameterError(f"{vals[0]!r} needs a time zone (Z or +07:00)")
    if not in_utc_range(t):
        raise QueryParameterError(f"{vals[0]!r} is not between the years 1 and 9999 once in UTC")
    return t


def as_number(vals: list[str]) -> float:
    try:
        if len(vals) != 1:
            raise ValueError
        n = float(vals[0])
    except ValueError as exc:
        raise QueryParameterError("expects one number") from exc
    if n != n or n in (float("inf"), float("-inf")):
        raise QueryParameterError("expects a finite number")
    return n


def as_bool(vals: list[str]) -> bool:
    if vals not in (["true"], ["false"]):
        raise QueryParameterError("expects true or false")
    return vals == ["true"]


def cbv(value: str, prefix: str) -> str:
    return voc.full_uri(value, prefix) or value


def norm_uri(value: str | None) -> str:
    """GS1 identifiers in their canonical Digital Link form (EPC URN or any DL host); others as written."""
    if value is None:
        return ""
    return normalise_gs1_uri(value) or value


def field_values(root: dict[str, Any], name: str, *, deep: bool) -> Iterator[Any]:
    """Values of fields called ``name`` (as written, e.g. ``example:temp``, or as an expanded IRI
    ending in the local name) in ``root``, and with ``deep`` at any nesting depth."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(node, list):
            stack.extend((x, depth + 1) for x in node)
            continue
        if not isinstance(node, dict):
            continue
        for k, v in node.items():
            if _same_field(k, name):
                yield from (v if isinstance(v, list) else [v])
            if (deep or depth == 0) and isinstance(v, dict | list) and deep:
                stack.append((v, depth + 1))


def _same_field(key: str, name: str) -> bool:
    if key == name:
        return True
    if name.startswith(("http://", "https://", "urn:")):
        local = key.split(":", 1)[-1]
        return ":" in key and name.endswith(("/" + local, "#" + local))
    return False
