"""API refusals that say what is wrong and how to fix it, in the user's local time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.test_evidence import harvest, plot, spray
from tests.world import World, gtin, make_world
from traceability_api.consensus.gs1_uri import gs1_check_digit
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def test_pre_harvest_refusal_names_the_override_field_and_shows_local_times(w: World) -> None:
    p = plot(w)
    assert spray(w, p, "2025-02-20T07:00:00+07:00").status_code == 201
    early = harvest(w, p, "E1", "2025-02-28T07:00:00+07:00")
    detail = early.json()["detail"]
    assert early.status_code == 409 and "'phi_override_reason'" in detail
    assert "harvest at 2025-02-28 07:00+07:00" in detail and "sprayed at 2025-02-20 07:00+07:00" in detail
    assert "safe from 2025-03-06 07:00+07:00" in detail and "+00:00" not in detail


def test_diary_entry_without_zone_takes_the_default_zone(w: World, runtime: Runtime) -> None:
    p = plot(w)
    sowing = w.post(w.coop, f"/api/v1/places/{p}/diary", {"activity": "sowing", "time": "2025-11-25T06:30:00"})
    assert sowing.status_code == 201, sowing.text
    ev = w.get(w.coop, f"/api/v1/events/{sowing.json()['eventId']}").json()["event"]
    assert ev["eventTimeZoneOffset"] == "+07:00" and ev["eventTime"] == "2025-11-25T06:30:00+07:00"
    runtime.settings.time_zone = "Europe/Paris"  # the configured default, +01:00 in November
    later = w.post(w.coop, f"/api/v1/places/{p}/diary", {"activity": "irrigating", "time": "2025-11-26T06:30"})
    assert later.status_code == 201, later.text
    ev = w.get(w.coop, f"/api/v1/events/{later.json()['eventId']}").json()["event"]
    assert ev["eventTimeZoneOffset"] == "+01:00" and ev["eventTime"] == "2025-11-26T06:30:00+01:00"


def test_gtin_error_gives_the_expected_check_digit(w: World) -> None:
    good = gtin(7)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    r = w.post(w.coop, "/api/v1/products", {"gtin": wrong, "name": "Xoài"})
    assert r.status_code == 422 and f"expected {gs1_check_digit(good[:-1])}, not {wrong[-1]}" in r.json()["detail"]
    short = w.post(w.coop, "/api/v1/products", {"gtin": "12345", "name": "Xoài"})
    assert short.status_code == 422 and "8, 12, 13 or 14 digits" in short.json()["detail"]


def test_a_refused_api_key_is_a_401_with_its_bearer_challenge(w: World) -> None:
    """Every 401 of the API (and of the EPCIS binding, as a problem body) lacked WWW-Authenticate,
    which RFC 9110 requires of a 401: clients that answer a challenge (asking for the key, retrying
    with it) had none to answer (found by the standards probe)."""
    for path in ("/api/v1/lots", "/epcis/events"):
        for headers in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "agt_abc_def"}):
            r = w.client.get(path, headers=headers)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="AgriTrace API"', (
                path,
                r.text,
            )
    assert w.client.get("/epcis/events", headers=w.coop.h()).status_code == 200
