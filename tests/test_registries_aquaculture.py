"""Aquaculture codes (issue 20): a pangasius lot harvested from a pond is checked on export against
the pond's identification code and the processing plant's establishment code (DL ...), registered for
the market; a suspended or unregistered code refuses the shipment; the FSMA spreadsheet carries both."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.world import World, gtin, lot_uri, make_world, obj_event
from traceability_api.runtime import Runtime

pytestmark = pytest.mark.postgres
FISH, FILLET = gtin(301), gtin(302)
POND, PLANT = "87-01-0012-005", "DL-126"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def setup(w: World) -> dict[str, Any]:
    for g, name in ((FISH, "Cá tra nguyên con"), (FILLET, "Cá tra phi lê đông lạnh")):
        r = w.post(w.coop, "/api/v1/products", {"gtin": g, "name": name, "unit": "KGM", "ftl_category": "Finfish"})
        assert r.status_code == 201, r.text
    pond = w.post(w.coop, "/api/v1/places", {"kind": "pond", "name": "Ao nuôi cá tra số 5",
                                             "sector_code": "87.01.0012.005"})  # fmt: skip
    plant = w.post(w.coop, "/api/v1/places", {"kind": "mill", "name": "Xưởng chế biến Sa Đéc", "sector_code": "dl126"})
    assert pond.status_code == 201 and plant.status_code == 201, (pond.text, plant.text)
    return {"pond": pond.json(), "plant": plant.json()}


def register(w: World, kind: str, code: str, markets: list[str]) -> Any:
    body = {"kind": kind, "code": code, "org_id": w.coop.id, "issuer": "Chi cục Thủy sản Đồng Tháp",
            "markets": markets, "valid_from": "2024-01-01", "valid_until": "2030-12-31"}  # fmt: skip
    return w.post(w.authority, "/api/v1/registry/codes", body)


def harvest(w: World, pl: dict[str, Any], lot: str) -> Any:
    body = {"gtin": FISH, "lot_code": lot, "quantity": 5000, "harvest_date": "2025-10-06",
            "plot_id": pl["pond"]["id"], "event_time": "2025-10-06T05:30:00+07:00"}  # fmt: skip
    return w.post(w.coop, "/api/v1/lots", body)


def fillet(w: World, pl: dict[str, Any], lot: str, out: str) -> None:
    ev = {"type": "TransformationEvent", "eventTime": "2025-10-07T16:00:00+07:00", "eventTimeZoneOffset": "+07:00",
          "bizStep": "commissioning", "bizLocation": {"id": pl["plant"]["uri"]},
          "inputQuantityList": [{"epcClass": lot_uri(FISH, lot), "quantity": 5000, "uom": "KGM"}],
          "outputQuantityList": [{"epcClass": lot_uri(FILLET, out), "quantity": 1800, "uom": "KGM"}]}  # fmt: skip
    r = w.post(w.coop, "/api/v1/events", ev)
    assert r.status_code == 201, r.text


def ship(w: World, g: str, lot: str, market: str) -> Any:
    ev = obj_event(lot_uri(g, lot), None, "shipping", time="2025-10-09T08:00:00+07:00",
                   destinationList=[{"type": "possessing_party", "destination": w.distributor.party}],
                   sourceList=[{"type": "possessing_party", "source": w.coop.party}])  # fmt: skip
    ev["agri:destinationMarket"] = market
    return w.post(w.coop, "/api/v1/events", ev)


def test_codes_are_normalised_and_checked_for_their_kind(w: World) -> None:
    assert register(w, "aquaculture", "87 01 0012 005", ["us"]).json()["code"] == POND
    assert register(w, "establishment", "dl 126", ["US"]).json()["code"] == PLANT
    for kind, bad in (("aquaculture", "VN-DTOR-0012"), ("aquaculture", "87-01-12-5"), ("establishment", "XX-126"),
                      ("establishment", "87-01-0012-006"), ("planting_area", "DL-127")):  # fmt: skip
        r = register(w, kind, bad, ["US"])
        assert r.status_code == 422 and "registry format" in r.text, (kind, bad, r.text)


def test_pangasius_export_passes_with_registered_codes_and_the_sheet_shows_them(w: World) -> None:
    pl = setup(w)
    r = register(w, "aquaculture", POND, ["US", "EU"])
    assert r.status_code == 201 and r.json()["places"] == [pl["pond"]["id"]], r.text  # "87.01.0012.005" on the pond
    r = register(w, "establishment", PLANT, ["US"])
    assert r.status_code == 201 and r.json()["places"] == [pl["plant"]["id"]], r.text
    assert harvest(w, pl, "CT1").status_code == 201
    fillet(w, pl, "CT1", "SDF1")
    assert ship(w, FILLET, "SDF1", "US").status_code == 201
    r = ship(w, FILLET, "SDF1", "EU")  # the pond is registered for the EU, the plant is not
    assert r.status_code == 422 and f"establishment code {PLANT}" in r.text and "not registered for EU" in r.text, (
        r.text
    )
    assert "aquaculture code" not in r.text

    # the carton label and the consumer page name both codes
    lot_id = next(x["id"] for x in w.get(w.coop, "/api/v1/lots").json() if x["lot_code"] == "SDF1")
    pdf = w.post(w.coop, f"/api/v1/lots/{lot_id}/labels", {"copies": 1})
    assert pdf.status_code == 200, pdf.text
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert f"Ao nuôi/Farm: {POND}" in text and f"CSCB/Est.: {PLANT}" in text, text
    page = w.client.get(f"/01/{FILLET}/10/SDF1?lang=vi").text
    assert "Mã số nhận diện ao nuôi" in page and POND in page and "Mã số cơ sở chế biến" in page and PLANT in page

    sheet = w.client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": FILLET}, headers=w.coop.h())
    assert sheet.status_code == 200, sheet.text
    table = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert table and all(r["Planting-Area / Farm Code (registered)"] == POND for r in table), table
    assert all(r["Packing-House / Establishment Code (registered)"] == PLANT for r in table)
    # the importer pulls the upstream KDEs with the codes
    r = w.post(w.distributor, "/api/v1/events", obj_event(lot_uri(FILLET, "SDF1"), None, "receiving",
               time="2025-10-10T08:00:00+07:00"))  # fmt: skip
    up = w.client.get(f"/api/v1/fsma/lots/{FILLET}/SDF1/upstream", headers=w.distributor.h())
    assert up.status_code == 200, up.text
    assert up.json()["shippedWithGoods"]["origin_code"] == POND
    assert {(x["tlc"], x["origin_code"], x["house_code"]) for x in up.json()["records"]} == {
        ("CT1", POND, PLANT), ("SDF1", POND, PLANT)}  # fmt: skip


def test_pangasius_export_is_refused_when_the_pond_code_is_unregistered_or_suspended(w: World) -> None:
    pl = setup(w)
    register(w, "establishment", PLANT, ["US"])
    assert harvest(w, pl, "CT2").status_code == 201
    r = ship(w, FISH, "CT2", "US")  # whole fish straight from the pond: no processing plant, pond not registered
    assert r.status_code == 422 and "passed through no processing plant" in r.text, r.text
    assert f"aquaculture code {POND} of 'Ao nuôi cá tra số 5' is not registered" in r.text
    fillet(w, pl, "CT2", "SDF2")
    r = ship(w, FILLET, "SDF2", "US")
    assert r.status_code == 422 and f"aquaculture code {POND}" in r.text and "not registered" in r.text, r.text
    assert "establishment code" not in r.text  # the plant is registered for the US
    register(w, "aquaculture", POND, ["CN"])
    r = ship(w, FILLET, "SDF2", "US")
    assert r.status_code == 422 and "not registered for US (registered for CN)" in r.text, r.text

    # registered for the US, then suspended: no new harvest on the pond, no export shipment
    pl2 = {**pl}
    r = w.post(w.authority, f"/api/v1/registry/codes/{POND}/revoke", {"reason": "đổi thị trường"})
    assert r.status_code == 200
    code2 = "87-01-0012-006"
    pond2 = w.post(w.coop, "/api/v1/places", {"kind": "pond", "name": "Ao số 6", "sector_code": code2}).json()
    pl2["pond"] = pond2
    register(w, "aquaculture", code2, ["US"])
    assert harvest(w, pl2, "CT3").status_code == 201
    fillet(w, pl2, "CT3", "SDF3")
    r = w.post(w.authority, f"/api/v1/registry/codes/{code2}/suspend", {"reason": "dư lượng kháng sinh"})
    assert r.status_code == 200, r.text
    r = ship(w, FILLET, "SDF3", "US")
    assert r.status_code == 422 and f"aquaculture code {code2} of 'Ao số 6' is suspended" in r.text, r.text
    r = harvest(w, pl2, "CT4")
    assert r.status_code == 422 and code2 in r.text and "dư lượng kháng sinh" in r.text, r.text
    assert w.post(w.authority, f"/api/v1/registry/codes/{code2}/reinstate", {}).status_code == 200
    assert ship(w, FILLET, "SDF3", "US").status_code == 201
