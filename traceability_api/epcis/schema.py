"""Validation of EPCIS 2.0 JSON-LD against the GS1 JSON schema (epcis/gs1/, or
the copy named by AGRITRACE_EPCIS_SCHEMA).

The hot path asks jsonschema-rs (Rust, ~4 µs an event against ~60 µs for fastjsonschema's compiled
Python) whether an instance is valid, with fastjsonschema's own regular expressions for the formats
the schema uses (date-time, uri) so that a format means the same to both.  Only when it says no
does the compiled validator (fastjsonschema) decide, and jsonschema collect every error for a
helpful message: what is refused, and why, is as before.  ``tests/test_epcis_schema_rs.py``
checks that nothing valid to jsonschema-rs is refused by fastjsonschema."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema_rs
from fastjsonschema.draft07 import CodeGeneratorDraft07
from jsonschema import Draft7Validator

_DEFAULT = Path(__file__).resolve().parent / "gs1" / "EPCIS-JSON-Schema.json"
_EVENT = "#/definitions/EPCIS-Document-Event"  # the one-event schema every validator here is built from


def schema_path() -> Path:
    """AGRITRACE_EPCIS_SCHEMA, else the copy shipped in epcis/gs1/."""
    explicit = os.environ.get("AGRITRACE_EPCIS_SCHEMA")
    return Path(explicit) if explicit else _DEFAULT


@lru_cache
def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_path().read_text())
    return data


@lru_cache
def _fast_event() -> Callable[[Any], Any]:
    return fastjsonschema.compile({"$ref": _EVENT, "definitions": _schema()["definitions"]})


@lru_cache
def _fast_document() -> Callable[[Any], Any]:
    # without its remote $id, so that "#/definitions/..." resolves locally (no network)
    return fastjsonschema.compile({k: v for k, v in _schema().items() if k != "$id"})


def _same_format(name: str) -> Callable[[str], bool]:
    rx = re.compile(CodeGeneratorDraft07.FORMAT_REGEXS[name])
    return lambda text: rx.search(text) is not None  # as fastjsonschema checks it


@lru_cache
def _rs_event() -> Any:
    return _rs({"$ref": _EVENT, "definitions": _schema()["definitions"]})


@lru_cache
def _rs_document() -> Any:
    return _rs({k: v for k, v in _schema().items() if k != "$id"})


def _rs(schema: dict[str, Any]) -> Any:
    formats = {name: _same_format(name) for name in ("date-time", "uri")}
    return jsonschema_rs.Draft7Validator(schema, validate_formats=True, formats=formats)


def warm() -> None:
    """Compile the validators now (fastjsonschema's 0.1-0.3 s each on a 2-core machine), at the
    service's start, instead of inside the first capture request each worker serves."""
    _fast_event()
    _fast_document()
    _rs_event()
    _rs_document()


@lru_cache
def document_validator() -> Draft7Validator:
    return Draft7Validator(_schema())


@lru_cache
def event_validator() -> Draft7Validator:
    s = _schema()
    return Draft7Validator({"$ref": _EVENT, "definitions": s["definitions"]})


_HINTS = {
    "ilmd": "ilmd is only allowed on an ObjectEvent with action ADD and on a TransformationEvent",
    "date-time": "an ISO 8601 date-time with a time zone, e.g. 2025-03-01T08:00:00+07:00",
}


def _leaves(err: Any) -> list[Any]:
    """The branch errors under anyOf / oneOf, flattened."""
    return [leaf for e in err.context for leaf in _leaves(e)] if err.context else [err]


def _specific(err: Any) -> Any:
    """Of an anyOf / oneOf failure, the most specific branch error (deepest in the event, and a
    wrong value before a missing field): a uom of "kg" is about the uom, not a missing epcList."""
    return max(_leaves(err), key=lambda e: (len(e.absolute_path), e.validator != "required"))


def _message(err: Any) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(event)"
    if err.validator == "not" and err.validator_value == {}:
        field = str(err.absolute_path[-1]) if err.absolute_path else "this field"
        return f"{where}: {_HINTS.get(field, field + ' is not allowed here')}"
    if err.absolute_path and err.absolute_path[-1] == "uom":
        return f"{where}: {err.instance!r} is not a UN/CEFACT unit code (e.g. KGM for kilograms, TNE, LTR, H87)"
    message = err.message if len(err.message) < 200 else err.message[:200] + "..."
    return f"{where}: {message}"


def _errors(validator: Draft7Validator, instance: Any, limit: int = 5) -> list[str]:
    out: list[str] = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:limit]:
        text = _message(_specific(err))
        if text not in out:
            out.append(text)
    return out


@lru_cache(maxsize=64)
def _name_check(definition: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile({**json.loads(definition), "definitions": _schema()["definitions"]})


def _fast_message(exc: Any) -> str:
    """What the compiled validator refused, in terms of the event (when jsonschema, which skips
    formats and some name rules, found nothing)."""
    name = str(exc.name)
    where = name[5:] if name.startswith("data.") else "(event)" if name == "data" else name
    rule, definition, value = exc.rule, exc.definition or {}, exc.value
    if rule == "propertyNames" and isinstance(value, dict) and "propertyNames" in definition:
        check = _name_check(json.dumps(definition["propertyNames"], sort_keys=True))
        for key in value:
            try:
                check(key)
            except fastjsonschema.JsonSchemaException:
                return (
                    f"{where}: {key!r} is not a field of this event type; name an extension with a prefix "
                    f"its @context defines (e.g. 'agri:{key}')"
                )
    if rule == "format":
        fmt = str(definition.get("format"))
        return f"{where}: {value!r} is not {_HINTS.get(fmt, 'a valid ' + fmt)}"
    return f"{where}: {str(exc.message).removeprefix(name + ' ').removeprefix('data ')}"


def _known_valid(rs: Any, instance: Any) -> bool:
    try:
        return bool(rs.is_valid(instance))
    except (ValueError, TypeError, OverflowError):  # what it cannot read (an integer beyond 64 bits ...)
        return False


def _check(rs: Any, fast: Callable[[Any], Any], slow: Draft7Validator, instance: Any) -> list[str]:
    if _known_valid(rs, instance):
        return []
    try:
        fast(instance)
        return []
    except fastjsonschema.JsonSchemaException as exc:
        return _errors(slow, instance) or [_fast_message(exc)]


def document_errors(doc: Any) -> list[str]:
    return _check(_rs_document(), _fast_document(), document_validator(), doc)


def event_errors(event: Any) -> list[str]:
    return _check(_rs_event(), _fast_event(), event_validator(), event)
