"""The GS1 EPCIS 2.0 JSON schema (shipped with the package) as OpenAPI components, so that the
event and document bodies of the capture endpoints are typed by the standard itself."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from traceability_api.epcis.schema import schema_path

PREFIX = "EPCIS_"
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")


def component(name: str) -> str:
    return PREFIX + re.sub(r"[^A-Za-z0-9._-]", "_", unquote(name))


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            out["$ref"] = "#/components/schemas/" + component(ref.removeprefix("#/definitions/"))
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


@lru_cache(maxsize=1)
def epcis_components() -> dict[str, Any]:
    schema = json.loads(schema_path().read_text())
    return {component(name): _rewrite(body) for name, body in schema["definitions"].items()}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": "#/components/schemas/" + component(name)}


EPCIS_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/events"): {
        "oneOf": [_ref(t) for t in EVENT_TYPES],
        "description": "one EPCIS 2.0 event (JSON-LD); @context defaults to the EPCIS 2.0 context",
    },
    ("POST", "/api/v1/capture"): {**_ref("epcisDocument")},
}
