"""A processed lot for the consumer-page tests: paddy from a plot (with a sowing in the diary) milled into
packed rice in a packhouse, and duck eggs collected at a packhouse (no growing area), counted in pieces."""

from __future__ import annotations

from typing import Any

from tests.world import World, gtin, lot_uri, receive, setup_rice, ship

RICE = gtin(2)
EGGS = gtin(3)
# 06:00 in Vietnam is 23:00 UTC the day before: a page in UTC would show the wrong day
SOWING = "2025-01-10T06:00:00+07:00"
MILLING = "2025-03-03T08:00:00+07:00"
PACKING = "2025-03-05T06:30:00+07:00"


def place(w: World, org: Any, kind: str, name: str) -> dict[str, Any]:
    r = w.post(org, "/api/v1/places", {"kind": kind, "name": name})
    assert r.status_code == 201, r.text
    return dict(r.json())


def processed_rice(w: World) -> dict[str, Any]:
    paddy = setup_rice(w)
    sowing = {"activity": "sowing", "time": SOWING, "season": "Đông Xuân 2024-2025"}
    r = w.post(w.coop, f"/api/v1/places/{paddy['plot_id']}/diary", sowing, role="recorder")
    assert r.status_code == 201, r.text
    assert ship(w, w.coop, w.mill, paddy["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, paddy["uri"], owning=True).status_code == 201
    r = w.post(w.mill, "/api/v1/products", {"gtin": RICE, "name": "Gạo ST25", "name_en": "ST25 rice",
                                            "shelf_life_days": 180, "ocop_stars": 4,
                                            "image_url": "/static-test/rice.png"})  # fmt: skip
    assert r.status_code == 201, r.text
    packhouse = place(w, w.mill, "packhouse", "Xưởng đóng gói Trà Nóc")
    rice = lot_uri(RICE, "R1")
    tf = {
        "type": "TransformationEvent", "eventTime": MILLING, "eventTimeZoneOffset": "+07:00",
        "bizStep": "commissioning", "bizLocation": {"id": packhouse["uri"]},
        "inputQuantityList": [{"epcClass": paddy["uri"], "quantity": 1000, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": rice, "quantity": 28000, "uom": "KGM"}],
    }  # fmt: skip
    assert (r := w.post(w.mill, "/api/v1/events", tf)).status_code == 201, r.text
    packing = {
        "type": "ObjectEvent", "eventTime": PACKING, "eventTimeZoneOffset": "+07:00", "action": "OBSERVE",
        "bizStep": "packing", "bizLocation": {"id": packhouse["uri"]},
        "quantityList": [{"epcClass": rice, "quantity": 28000, "uom": "KGM"}],
    }  # fmt: skip
    assert (r := w.post(w.mill, "/api/v1/events", packing)).status_code == 201, r.text
    lot = next(x for x in w.get(w.mill, "/api/v1/lots").json() if x["lot_code"] == "R1")
    return {"paddy": paddy, "gtin": RICE, "lot": lot, "uri": rice, "path": f"/01/{RICE}/10/R1"}


def duck_eggs(w: World) -> dict[str, Any]:
    r = w.post(w.mill, "/api/v1/products", {"gtin": EGGS, "name": "Trứng vịt", "name_en": "Duck eggs", "unit": "H87"})
    assert r.status_code == 201, r.text
    packhouse = place(w, w.mill, "packhouse", "Trạm thu gom trứng")
    ev = {
        "type": "ObjectEvent", "eventTime": "2025-03-06T07:00:00+07:00", "eventTimeZoneOffset": "+07:00",
        "action": "ADD", "bizStep": "commissioning", "bizLocation": {"id": packhouse["uri"]},
        "quantityList": [{"epcClass": lot_uri(EGGS, "E1"), "quantity": 6000, "uom": "H87"}],
    }  # fmt: skip
    assert (r := w.post(w.mill, "/api/v1/events", ev)).status_code == 201, r.text
    return {"gtin": EGGS, "path": f"/01/{EGGS}/10/E1"}
