"""A small province for the console's tests: two cooperatives with plots in two Đồng Tháp communes,
products and harvested lots recorded through the API (so events, lots and places are the real
service's rows), and an authority member signed in on the client."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import httpx
from sqlmodel import Session, select

from tests.conftest import auth
from tests.workspace_helpers import accept, make_org
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.kinds import OrgKind
from traceability_api.places.models import Place
from traceability_api.runtime import Runtime

MANGO, RICE = "08936000000011", "08936000000028"


@dataclass
class Province:
    coop_keys: list[str]
    place_ids: list[int]
    lots: list[tuple[str, str]]  # (gtin, lot code)


def _post(client: httpx.Client, key: str, path: str, body: dict[str, object]) -> dict[str, object]:
    r = client.post(path, headers=auth(key), json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def seed_province(client: httpx.Client, runtime: Runtime) -> Province:
    """Cooperative A: a mango plot (polygon) in Mỹ Xương with 2 lots, a rice plot (point) in Mỹ Hiệp with
    1 lot; cooperative B: a warehouse in Tịnh Thới with no lot."""
    _, key_a, _ = make_org(runtime, "HTX Xoài Mỹ Xương")
    _, key_b, _ = make_org(runtime, "HTX Tịnh Thới")
    _post(client, key_a, "/api/v1/products", {"gtin": MANGO, "name": "Xoài cát Chu"})
    _post(client, key_a, "/api/v1/products", {"gtin": RICE, "name": "Lúa ST25"})
    ring = [[105.65, 10.40], [105.66, 10.40], [105.66, 10.41], [105.65, 10.41], [105.65, 10.40]]
    orchard = _post(client, key_a, "/api/v1/places", {"kind": "plot", "name": "Vườn xoài ấp Mỹ Thạnh",
                    "planting_area_code": "VN-DTCL-MX-0012", "commune": "Mỹ Xương", "district": "Cao Lãnh",
                    "geo": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    field = _post(client, key_a, "/api/v1/places", {"kind": "plot", "name": "Ruộng lúa Mỹ Hiệp",
                  "planting_area_code": "VN-DTCL-MH-0003", "commune": "Mỹ Hiệp",
                  "geo": {"type": "Point", "coordinates": [105.80, 10.40]}})  # fmt: skip
    store = _post(client, key_b, "/api/v1/places", {"kind": "warehouse", "name": "Kho Tịnh Thới",
                  "commune": "Tịnh Thới", "geo": {"type": "Point", "coordinates": [105.65, 10.43]}})  # fmt: skip
    lots = [(MANGO, "MX-2505-1"), (MANGO, "MX-2505-2"), (RICE, "MH-2503-1")]
    for (gtin, code), (place, month) in zip(lots, ((orchard, "05"), (orchard, "06"), (field, "03")), strict=True):
        _post(client, key_a, "/api/v1/lots", {"gtin": gtin, "lot_code": code, "quantity": 1000.0,
              "plot_id": place["id"], "harvest_date": f"2025-{month}-07",
              "event_time": f"2025-{month}-07T17:00:00+07:00"})  # fmt: skip
    return Province([key_a, key_b], [int(orchard["id"]), int(field["id"]), int(store["id"])], lots)  # type: ignore[call-overload]


def sign_in_authority(client: httpx.Client, runtime: Runtime) -> None:
    client.cookies.clear()
    _, _, token = make_org(runtime, "Chi cục QLCL Đồng Tháp", OrgKind.authority)
    accept(client, token, "chicuc")


def expected_lots(runtime: Runtime, commune: str | None = None, gtin: str | None = None) -> dict[str, float]:
    """Lots per harvest month, counted in Python from the rows (not the figure's SQL)."""
    with Session(runtime.engine) as s:
        rows = s.exec(select(Lot, Product, Place).join(Product).join(Place, Place.id == Lot.origin_place_id)).all()  # type: ignore[arg-type]
        c = Counter(
            (lot.harvest_date or lot.created_at).strftime("%Y-%m")
            for lot, product, place in rows
            if (commune is None or place.commune == commune) and (gtin is None or product.gtin == gtin)
        )
    return {k: float(v) for k, v in c.items()}
