"""Validation of EPCIS 2.0 JSON-LD against the GS1 JSON schema (epcis/gs1/, or
the copy named by AGRITRACE_EPCIS_SCHEMA).

The hot path uses a compiled validator (fastjsonschema, ~15x faster than jsonschema on an
event); only when it refuses does jsonschema collect every error for a helpful message."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

_DEFAULT = Path(__file__).resolve().parent / "gs1" / "EPCIS-JSON-Schema.json"


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
    return fastjsonschema.compile(
        {"$ref": "#/definitions/EPCIS-Document-Event", "definitions": _schema()["definitions"]}
    )


@lru_cache
def _fast_document() -> Callable[[Any], Any]:
    # without its remote $id, so that "#/definitions/..." resolves locally (no network)
    return fastjsonschema.compile({k: v for k, v in _schema().items() if k != "$id"})


@lru_cache
def document_validator() -> Draft7Validator:
    return Draft7Validator(_schema())


@lru_cache
def event_validator() -> Draft7Validator:
    s = _schema()
    return Draft7Validator({"$ref": "#/definitions/EPCIS-Document-Event", "definitions": s["definitions"]})


def _errors(validator: Draft7Validator, instance: Any, limit: int = 5) -> list[str]:
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:limit]:
        if err.context:  # anyOf / oneOf: report the most relevant branch, not the whole instance
            err = best_match(err.context)
        where = "/".join(str(p) for p in err.absolute_path) or "(event)"
        message = err.message if len(err.message) < 200 else err.message[:200] + "..."
        out.append(f"{where}: {message}")
    return out


def _check(fast: Callable[[Any], Any], slow: Draft7Validator, instance: Any) -> list[str]:
    try:
        fast(instance)
        return []
    except fastjsonschema.JsonSchemaException as exc:
        return _errors(slow, instance) or [str(exc.message)]  # type: ignore[attr-defined]


def document_errors(doc: Any) -> list[str]:
    return _check(_fast_document(), document_validator(), doc)


def event_errors(event: Any) -> list[str]:
    return _check(_fast_event(), event_validator(), event)
