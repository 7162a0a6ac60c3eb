"""The console map's data and page: every place with its commune, products and status, as GeoJSON
and as a table; for authority members only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.console_data import seed_province, sign_in_authority
from tests.workspace_helpers import member_client
from traceability_api.evidence.models import Device, SensorKind
from traceability_api.husbandry.models import SensorAlert
from traceability_api.lots.models import Lot, LotStatus
from traceability_api.places.models import Place
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow


def test_map_geojson_names_places_products_and_communes(app_client: TestClient, runtime: Runtime) -> None:
    prov = seed_province(app_client, runtime)
    sign_in_authority(app_client, runtime)
    r = app_client.get("/app/console/map.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and not fc["truncated"]
    by_id = {f["id"]: f for f in fc["features"]}
    orchard, field, store = (by_id[i] for i in prov.place_ids)
    assert orchard["geometry"]["type"] == "Polygon" and orchard["properties"]["commune"] == "Mỹ Xương"
    assert orchard["properties"]["product"] == "Xoài cát Chu" and orchard["properties"]["lotsActive"] == 2
    assert orchard["properties"]["status"] == "active" and field["properties"]["product"] == "Lúa ST25"
    assert store["properties"]["status"] == "idle" and store["properties"]["products"] == []
    assert fc["products"] == ["Lúa ST25", "Xoài cát Chu"]
    page = app_client.get("/app/console/map")
    assert page.status_code == 200 and "Kho Tịnh Thới" in page.text and "Tịnh Thới" in page.text
    assert page.text.count("<tr data-place=") == 3  # the table without JavaScript: the same places


def test_cooperative_member_gets_403_on_the_map(app_client: TestClient, runtime: Runtime) -> None:
    member_client(app_client, runtime, "HTX Mỹ Xương", "htx-admin")
    for path in ("/app/console/map", "/app/console/map.geojson"):
        assert app_client.get(path).status_code == 403, path


def test_places_show_their_worst_status(app_client: TestClient, runtime: Runtime) -> None:
    """A recalled lot makes its origin place 'recall'; an open sensor alert makes a place 'alert'."""
    prov = seed_province(app_client, runtime)
    orchard, field, store = prov.place_ids
    with Session(runtime.engine) as s:
        lot = s.exec(select(Lot).where(Lot.origin_place_id == orchard)).first()
        assert lot is not None
        lot.status = LotStatus.recalled
        s.add(lot)
        place = s.get(Place, store)
        assert place is not None
        device = Device(
            org_id=place.org_id, name="t1", kind=SensorKind.temperature, place_id=store, secret_encrypted="x"
        )
        s.add(device)
        s.flush()
        now = utcnow()
        s.add(SensorAlert(org_id=place.org_id, device_id=device.id or 0, place_id=store, kind="temperature",
                          bound="high", threshold=8, peak=15, started_at=now, last_at=now))  # fmt: skip
        s.commit()
    sign_in_authority(app_client, runtime)
    status = {f["id"]: f["properties"]["status"] for f in app_client.get("/app/console/map.geojson").json()["features"]}
    assert status == {orchard: "recall", field: "active", store: "alert"}


def test_a_plot_whose_harvest_was_made_into_recalled_products_shows_the_recall(
    app_client: TestClient, runtime: Runtime
) -> None:
    """The harvest was milled (its status 'consumed'), then recalled with everything made from it:
    its plot is where the recall points, so the map shows it as 'recall', not 'idle'."""
    from tests.world import make_world, setup_rice

    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    assert (
        w.post(w.coop, "/api/v1/products", {"gtin": "08930000009920", "name": "Gạo", "max_yield": 0.7}).status_code
        == 201
    )
    milling = {"type": "TransformationEvent", "eventTime": "2025-03-03T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
               "inputQuantityList": [{"epcClass": rice["uri"], "quantity": 1000, "uom": "KGM"}],
               "outputQuantityList": [{"epcClass": "https://id.gs1.org/01/08930000009920/10/G1", "quantity": 600,
                                       "uom": "KGM"}]}  # fmt: skip
    assert w.post(w.coop, "/api/v1/events", milling).status_code == 201
    r = w.post(
        w.authority, "/api/v1/recalls", {"lot_ids": [rice["lot"]["id"]], "reason": "Dư lượng", "scope": "downstream"}
    )
    assert r.status_code == 201, r.text
    with Session(runtime.engine) as s:
        assert s.get(Lot, rice["lot"]["id"]).status == LotStatus.consumed  # type: ignore[union-attr]
    sign_in_authority(app_client, runtime)
    plot = next(f for f in app_client.get("/app/console/map.geojson").json()["features"] if f["id"] == rice["plot_id"])
    assert plot["properties"]["status"] == "recall" and plot["properties"]["lotsRecalled"] == 1
