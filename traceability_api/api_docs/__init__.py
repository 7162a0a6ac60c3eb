"""The OpenAPI document as a reader needs it: a summary, a description and an example for every
operation, the GS1 EPCIS 2.0 JSON schema for event bodies, and the API-key security schemes
(declared by the authentication dependency).  Swagger UI and ReDoc are served from local assets
(fastapi-offline), so ``/docs`` and ``/redoc`` work without internet."""

from __future__ import annotations

import warnings
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from traceability_api.api_docs.catalogue import BODY_EXAMPLES, DOCS, PARAM_EXAMPLES, PATH_PARAM_EXAMPLES
from traceability_api.api_docs.epcis_schema import EPCIS_BODIES, epcis_components
from traceability_api.api_docs.offline import add_redoc
from traceability_api.epcis.body import JSON_TYPES
from traceability_api.route_prefix import plain


def install(app: FastAPI) -> None:
    """The documented OpenAPI, and ReDoc at /redoc (the app is built with redoc_url=None)."""
    add_redoc(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    with warnings.catch_warnings():  # GET+HEAD routes share one operation id; HEAD is dropped below
        warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
        spec = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=plain(app.routes),
        )
    _drop_head(spec)
    explicit = {
        (m.lower(), r.path): r.summary
        for r in plain(app.routes)
        if isinstance(r, APIRoute) and r.include_in_schema
        for m in r.methods or ()
    }
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(epcis_components())
    if "HTTPValidationError" in schemas:
        schemas["HTTPValidationError"] = REFUSAL
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            _document(op, method, path, has_summary=bool(explicit.get((method, path))))
    return spec


# what every 422 of the API is (main._install_error_handlers), where FastAPI documents its own
# {"detail": [errors]}: a client generated from this OpenAPI failed to read every refusal
REFUSAL = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "title": "Detail", "description": "what is wrong, in one sentence"},
        "errors": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/ValidationError"},
                                                        {"type": "string"}]},
                   "description": "each refused field, or each reason (an event against the EPCIS schema)"},
    },
}  # fmt: skip


def _drop_head(spec: dict[str, Any]) -> None:
    """HEAD mirrors GET (documented once); the GET keeps an operation id of its own."""
    for ops in spec["paths"].values():
        if "head" in ops and len(ops) > 1:
            del ops["head"]
            for method, op in ops.items():
                if op.get("operationId", "").endswith("_head"):
                    op["operationId"] = op["operationId"].removesuffix("_head") + "_" + method


def _document(op: dict[str, Any], method: str, path: str, *, has_summary: bool) -> None:
    summary, description = DOCS.get((method.upper(), path), (None, None))
    if summary and not has_summary:
        op["summary"] = summary
    if description and not op.get("description"):
        op["description"] = description
    examples = PARAM_EXAMPLES | PATH_PARAM_EXAMPLES.get(path, {})
    for param in op.get("parameters", []):
        if param["name"] in examples and "example" not in param:
            param["example"] = examples[param["name"]]
    key = (method.upper(), path)
    json_bodies = [m for t, m in op.get("requestBody", {}).get("content", {}).items() if t in JSON_TYPES]
    for media in json_bodies:  # the JSON examples and schema do not fit an XML body
        if key in EPCIS_BODIES:
            media["schema"] = EPCIS_BODIES[key]
        if key in BODY_EXAMPLES:
            media["examples"] = BODY_EXAMPLES[key]
