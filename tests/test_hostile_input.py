"""What an attacker or a careless client sends to the newer surfaces (FSMA 204, registries, console,
workspace uploads, sensors): each reproducer went through the real HTTP path and got a 500, a hang
or another organisation's data before its fix; each now gets a clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.world import World, make_world, setup_rice
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


# A time that exists in its own zone but not in UTC: year 0 or year 10000 once converted
BEFORE_YEAR_1 = "0001-01-01T00:00:00+14:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize("bound", [BEFORE_YEAR_1, AFTER_YEAR_9999])
def test_times_outside_utc_years_in_query_parameters_are_422_not_500(w: World, bound: str) -> None:
    g = setup_rice(w)["gtin"]
    urls = [
        ("/api/v1/fsma/spreadsheet.csv", {"gtin": g, "since": bound}),
        ("/api/v1/fsma/spreadsheet.xlsx", {"gtin": g, "until": bound}),
        ("/api/v1/fsma/kde-check", {"since": bound}),
        ("/api/v1/events", {"GE_eventTime": bound}),
        ("/epcis/events", {"LT_eventTime": bound}),
        ("/api/v1/exports/events.csv", {"since": bound}),
    ]
    for path, params in urls:
        r = w.client.get(path, params=params, headers=w.coop.h())
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        assert "years 1 and 9999" in r.json()["detail"], (path, r.text[:200])
