"""The API documentation a developer meets first: complete OpenAPI (summaries, descriptions,
examples, security schemes, EPCIS-typed bodies) and Swagger UI / ReDoc working offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ARTIFACTS
from tests.world import World, make_world
from traceability_api.api_docs.catalogue import PADDY
from traceability_api.epcis.schema import document_validator
from traceability_api.runtime import Runtime

PUBLIC = (
    "/healthz",
    "/api/v1/proofs/",
    "/01/",
    "/embed/",
    "/badge/",
    "/oembed",
    "/.well-known/gs1resolver",
    "/report-code",
    "/api/v1/devices/{device_id}/readings",
    # GS1 Digital Link resolver for the other keys (consumer/dl_keys.py): public like /01/
    *(f"/{key}/" for key in ("00", "414", "417", "8004", "gtin", "sscc", "gln", "giai", "party")),
    "/epcis/nextPageToken/",  # page tokens are stateless cursors: expiring one is a no-op that reads nothing
    "/api/v1/activities",  # the activity catalogue: labels any front end shows
    "/api/v1/national-record/schema.",  # the national record's JSON Schema and XSD (published formats)
    "/opendata",  # open data: public catalogue, files and proofs (docs/open-data.md)
)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_every_operation_is_documented_with_auth_and_examples(app_client: TestClient) -> None:
    spec = app_client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"}
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    missing = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary") or not op.get("description"):
                missing.append(f"{where}: summary/description")
            public = path.startswith(PUBLIC)
            if public == bool(op.get("security")):
                missing.append(f"{where}: security {'declared on a public' if public else 'missing on a protected'} op")
            for media, body in op.get("requestBody", {}).get("content", {}).items():
                if media == "application/json" and not body.get("examples"):
                    missing.append(f"{where}: request example")
            for param in op.get("parameters", []):
                if param["in"] == "path" and "example" not in param:
                    missing.append(f"{where}: example of {param['name']}")
    assert missing == [], "\n".join(missing)
    components = spec["components"]["schemas"]
    unresolved = {r for r in _refs(spec) if r.removeprefix("#/components/schemas/") not in components}
    assert unresolved == set()
    event_body = spec["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/EPCIS_ObjectEvent"} in event_body["oneOf"]


def test_a_refusal_fits_the_422_the_openapi_documents(app_client: TestClient, runtime: Runtime) -> None:
    """/openapi.json documented every 422 as FastAPI's {"detail": [errors]} while the API answers
    {"detail": "...", "errors": [...]}: a client generated from it failed to read every refusal
    (found by the standards probe: schemathesis' response check against the service's own OpenAPI)."""
    import jsonschema_rs

    w = make_world(runtime, app_client)
    spec = app_client.get("/openapi.json").json()
    ref = spec["paths"]["/api/v1/lots"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    validator = jsonschema_rs.validator_for({"$ref": ref, "components": spec["components"]})
    refusals = [
        w.post(w.coop, "/api/v1/lots", {}),  # the request does not fit the operation's schema
        w.post(w.coop, "/api/v1/lots", {"gtin": "1", "lot_code": "L", "quantity": 1, "plot_id": 1}),  # a domain rule
        w.client.post("/api/v1/devices/-1/readings", content=b"{}", headers={"X-Device-Signature": "00"}),
        w.post(w.coop, "/api/v1/events", {"type": "ObjectEvent"}),  # the EPCIS schema's reasons, as text
    ]
    for r in refusals:
        assert r.status_code == 422 and validator.is_valid(r.json()), r.text


def test_capture_examples_are_real_epcis_the_api_accepts(runtime: Runtime, app_client: TestClient) -> None:
    w: World = make_world(runtime, app_client)
    spec = app_client.get("/openapi.json").json()
    examples = {
        path: spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"]
        for path in ("/api/v1/events", "/api/v1/capture")
    }
    document = examples["/api/v1/capture"]["document"]["value"]
    assert list(document_validator().iter_errors(document)) == []
    assert w.post(w.coop, "/api/v1/products", {"gtin": PADDY, "name": "Lúa ST25"}).status_code == 201
    for example in examples["/api/v1/events"].values():  # harvest, then inspection of that lot
        one = w.post(w.coop, "/api/v1/events", example["value"])
        assert one.status_code == 201, one.text
    captured = w.post(w.coop, "/api/v1/capture", document)
    assert captured.status_code == 201, captured.text


@pytest.mark.sqlite_only
def test_docs_and_redoc_render_offline_in_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("request", lambda r: None if r.url.startswith((served, "data:", "blob:")) else outside.append(r.url))
        page.goto(served + "/docs")
        page.wait_for_selector(".opblock-summary", timeout=30_000)
        assert page.locator(".opblock").count() >= 40
        assert page.locator("button.authorize").count() == 1, "bearer auth declared: the Authorize button shows"
        assert page.get_by_text("Capture one EPCIS event").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "docs-swagger.png"), full_page=False)
        page.goto(served + "/redoc")
        page.wait_for_selector("[role=menuitem], li[data-item-id]", timeout=30_000)
        assert page.get_by_text("Capture an EPCIS document").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "docs-redoc.png"), full_page=False)
        browser.close()
    assert outside == [], f"the docs made external requests: {outside}"
