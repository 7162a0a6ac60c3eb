"""Routers gated by their prefix (traceability_api.route_prefix) answer every path exactly as the
plain routers do: for each route of the service, the route chosen for its path and method is the
same with the gates as without them, and a path outside every gate still reaches the 404."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match

from traceability_api.route_prefix import PrefixGate, common_prefix, plain
from traceability_api.runtime import Runtime


def _chosen(routes: list[BaseRoute], path: str, method: str) -> Any:
    """The route FastAPI's top-level loop would hand the request to, and the endpoint inside it."""
    scope: dict[str, Any] = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    for r in routes:
        match, child = r.matches(dict(scope))
        if match == Match.FULL:
            inner = r.inner if isinstance(r, PrefixGate) else r
            return inner, child.get("endpoint")
    return None


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _leaves(routes: list[BaseRoute]) -> list[tuple[str, str]]:
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out += _leaves(inner.routes)
        elif getattr(r, "methods", None):
            out += [(r.path, m) for m in r.methods]  # type: ignore[attr-defined]
    return out


def test_gates_choose_the_same_route_as_the_plain_routers(runtime: Runtime) -> None:
    from traceability_api.main import create_app

    app = create_app(runtime)
    routes = app.router.routes
    gates = [r for r in routes if isinstance(r, PrefixGate)]
    assert len(gates) > 20  # the API's, the workspace's and the console's routers are gated
    assert {"/app", "/app/diary", "/app/console/keys"} <= {g.prefix for g in gates}
    pairs = _leaves(plain(routes))
    assert len(pairs) > 150
    for path, method in pairs:
        concrete = _sample(path)
        assert _chosen(routes, concrete, method) == _chosen(plain(routes), concrete, method), (path, method)
    for path in ("/nowhere", "/app-nope", "/apx/diary", "/api/v2/events"):
        assert _chosen(routes, path, "GET") == _chosen(plain(routes), path, "GET")


def test_a_page_and_an_unknown_path_through_the_gates(runtime: Runtime) -> None:
    from traceability_api.main import create_app

    with TestClient(create_app(runtime)) as c:
        assert c.get("/app/diary", follow_redirects=False).headers["location"] == "/app/login?next=/app/diary"
        assert c.get("/app/nothing-here").status_code == 404
        assert c.get("/api/v1/nothing-here").status_code == 404
        assert c.get("/openapi.json").json()["paths"]["/api/v1/events"]  # the schema still sees gated routers


def test_common_prefix_stops_at_the_first_parameter() -> None:
    assert common_prefix(["/app", "/app/diary"]) == "/app"
    assert common_prefix(["/01/{gtin}", "/01/{gtin}/10/{lot}"]) == "/01/"
    assert common_prefix(["/{lang}/x", "/{lang}/y"]) == "/"
    assert common_prefix(["/a", "/b"]) == "/"
