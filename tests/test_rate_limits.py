"""Rate limits on the public endpoints and on failed authentication: 429 with Retry-After."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.world import World, gtin, make_world, setup_rice
from traceability_api.config import Settings
from traceability_api.runtime import Runtime


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, "rate_public": "5/minute",
                                       "rate_auth_failures": "3/minute"})  # fmt: skip


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> World:
    return make_world(runtime, app_client)


def _retry_after(r: object) -> int:
    value = int(r.headers["Retry-After"])  # type: ignore[attr-defined]
    assert 1 <= value <= 60
    return value


def test_public_endpoints_are_rate_limited(w: World) -> None:
    rice = setup_rice(w)
    g, lot = rice["gtin"], rice["lot"]["lot_code"]
    paths = [f"/01/{g}/10/{lot}", f"/badge/01/{g}/10/{lot}.svg", f"/api/v1/proofs/lots/{g}/{lot}",
             f"/embed/01/{g}/10/{lot}", f"/oembed?url=https://trace.example.vn/01/{g}/10/{lot}"]  # fmt: skip
    for path in paths:  # five public requests: the allowance of this client
        assert w.client.get(path).status_code < 400, path
    r = w.client.get(f"/01/{g}/10/{lot}")
    assert r.status_code == 429 and "too many requests" in r.json()["detail"], r.text
    _retry_after(r)
    assert w.client.get(f"/01/{gtin(2)}/10/X").status_code == 429  # per client, not per page
    assert w.get(w.coop, "/api/v1/lots").status_code == 200  # the authenticated API is not a public endpoint


def test_failed_authentication_is_rate_limited(w: World) -> None:
    bad = {"Authorization": "Bearer agt_000000000000_guess"}
    for _ in range(3):
        assert w.client.get("/api/v1/lots", headers=bad).status_code == 401
    r = w.client.get("/api/v1/lots", headers=bad)
    assert r.status_code == 429 and "failed authentications" in r.json()["detail"], r.text
    _retry_after(r)
    assert w.get(w.coop, "/api/v1/lots").status_code == 429  # guessing from here is blocked, right key or not
    assert w.client.get("/healthz").status_code == 200  # requests without credentials still pass


def test_rate_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="not a rate"):
        Settings(rate_public="lots")


def test_workspace_sign_in_failures_are_rate_limited_per_client(w: World) -> None:
    """Guessing passwords across many usernames (each below its own lock-out) is throttled too."""
    from tests.workspace_helpers import csrf_of

    for i in range(3):
        page = w.client.get("/app/login")
        r = w.client.post("/app/login", data={"csrf": csrf_of(page.text), "username": f"user{i}", "password": "x"})
        assert r.status_code == 401
    page = w.client.get("/app/login")
    r = w.client.post("/app/login", data={"csrf": csrf_of(page.text), "username": "user9", "password": "x"})
    assert r.status_code == 429
