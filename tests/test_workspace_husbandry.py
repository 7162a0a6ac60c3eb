"""The Dong Thap sector activities through the workspace's forms (TestClient, SQLite and
PostgreSQL): a veterinary drug recorded at a pond blocks the fish harvest with a Vietnamese message
next to the time field until its withdrawal period ends (or an admin overrides it with a reason);
eggs collected at a flock house during a withdrawal period are refused at shipping next to the lot;
a banned substance is refused next to the active ingredient; running periods show on the home page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.test_workspace_screens import field_error, option, post
from tests.workspace_helpers import make_org, member_client
from traceability_api.runtime import Runtime


def _now(html: str) -> str:
    m = re.search(r'name="time" type="datetime-local" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


def test_sector_activities_with_withdrawal_and_banned_substance(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    _, key = member_client(c, runtime, "HTX Thủy sản Tháp Mười", "ts.admin")
    make_org(runtime, "Cửa hàng trứng Sa Đéc")
    for kind, name, code in (("pond", "Ao nuôi số 2", "DT-TM-AO02"), ("flock_house", "Trại vịt Tân Hồng", "DT-TH-07"),
                             ("plot", "Vườn hoa Sa Đéc", "DT-SD-01")):  # fmt: skip
        assert post(c, "/app/places", {"kind": kind, "name": name, "sector_code": code}).status_code == 303  # type: ignore[attr-defined]
    assert "DT-TM-AO02" in c.get("/app/places").text
    for gtin, name, unit in (("8931234560027", "Cá tra thương phẩm", "KGM"), ("8931234560041", "Trứng vịt", "H87")):
        assert post(c, "/app/products", {"gtin": gtin, "name": name, "unit": unit}).status_code == 303  # type: ignore[attr-defined]

    home = c.get("/app").text
    assert 'href="/app/activities"' in home and "Chăn nuôi, thủy sản, hoa" in home
    chooser = c.get("/app/activities").text
    pond = option(chooser, "Ao nuôi số 2")
    assert "Dùng thuốc thú y" in chooser and "Nhặt trứng" in chooser and "Bán chậu hoa" in chooser
    page = f"/app/activities?activity=veterinary_drug&place_id={pond}"
    form = c.get(page).text
    assert 'name="withdrawal_days"' in form and "Thời gian ngưng thuốc (ngày)" in form
    assert "Vườn hoa Sa Đéc" not in form.split('id="place_id"')[1].split("</select>")[0]  # only animal places
    drug = {"activity": "veterinary_drug", "place_id": pond, "time": "2025-05-01T08:00", "product": "Oxytetracyclin",
            "active_ingredient": "oxytetracycline", "dose": "3", "dose_unit": "g/kg thức ăn"}  # fmt: skip
    r = post(c, "/app/activities", drug, page=page)
    assert r.status_code == 422 and field_error(r.text, "withdrawal_days") == "Bắt buộc."  # type: ignore[attr-defined]
    r = post(c, "/app/activities", drug | {"withdrawal_days": "28"}, page=page)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    banned = drug | {"withdrawal_days": "7", "active_ingredient": "Chloramphenicol 20%"}
    r = post(c, "/app/activities", banned, page=page)
    assert r.status_code == 422 and "bị cấm" in field_error(r.text, "active_ingredient")  # type: ignore[attr-defined]

    harvest_page = f"/app/activities?activity=fish_harvest&place_id={pond}"
    form = c.get(harvest_page).text
    assert 'name="withdrawal_override_reason"' in form and '<option value="KGM" selected>kg</option>' in form
    fish = {"activity": "fish_harvest", "place_id": pond, "gtin": "8931234560027", "quantity": "4200,5", "uom": "KGM"}
    r = post(c, "/app/activities", fish | {"time": "2025-05-10T06:00", "lot_code": "CT-01"}, page=harvest_page)
    assert r.status_code == 409, r.text  # type: ignore[attr-defined]
    said = field_error(r.text, "time")  # type: ignore[attr-defined]
    assert "Đang trong thời gian ngưng thuốc tại Ao nuôi số 2" in said and "2025-05-29" in said, said
    reason = {"withdrawal_override_reason": "Xét nghiệm dư lượng âm tính, phiếu KN-0512"}
    r = post(c, "/app/activities", fish | {"time": "2025-05-12T06:00", "lot_code": "CT-02"} | reason, page=harvest_page)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    r = post(c, "/app/activities", fish | {"time": "2025-05-30T06:00", "lot_code": "CT-03"}, page=harvest_page)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    lots = {x["lot_code"]: (x["uom"], x["quantity"]) for x in c.get("/api/v1/lots", headers=auth(key)).json()}
    assert lots == {"CT-02": ("KGM", 4200.5), "CT-03": ("KGM", 4200.5)}
    assert [o["reason"] for o in c.get("/api/v1/overrides", headers=auth(key)).json()] == [
        reason["withdrawal_override_reason"]
    ]
    feed = {"activity": "feeding", "place_id": option(chooser, "Vườn hoa Sa Đéc"), "time": "2025-05-01T07:00",
            "product": "Cám", "quantity": "5"}  # fmt: skip
    r = post(c, "/app/activities", feed, page="/app/activities")
    assert r.status_code == 422 and "pond" in field_error(r.text, "place_id")  # type: ignore[attr-defined]

    # eggs collected during a withdrawal period running now: on the home page, and refused at shipping
    house = option(chooser, "Trại vịt Tân Hồng")
    egg_page = f"/app/activities?activity=egg_collection&place_id={house}"
    now = _now(c.get(egg_page).text)
    r = post(c, "/app/activities", drug | {"place_id": house, "time": now, "withdrawal_days": "7"}, page=egg_page)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert "Đang trong thời gian ngưng thuốc: Trại vịt Tân Hồng – Oxytetracyclin" in c.get("/app").text
    eggs = {"activity": "egg_collection", "place_id": house, "time": now, "gtin": "8931234560041", "lot_code": "TV-1",
            "quantity": "3000", "uom": "H87", "grade": "A"}  # fmt: skip
    r = post(c, "/app/activities", eggs, page=egg_page)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]  # collected anyway; the sale is held
    ship = c.get("/app/ship").text
    r = post(c, "/app/ship", {"lot_id": option(ship, "Trứng vịt · TV-1"), "partner": option(ship, "Cửa hàng trứng"),
                              "quantity": "3000"})  # fmt: skip
    assert r.status_code == 409, r.text  # type: ignore[attr-defined]
    assert "Lô TV-1 (Trại vịt Tân Hồng) còn trong thời gian ngưng thuốc" in field_error(r.text, "lot")  # type: ignore[attr-defined]
    c.get("/app/lang?to=en&next=/app")
    assert "Withdrawal period running: Trại vịt Tân Hồng" in c.get("/app").text
    assert "Veterinary drug" in c.get("/app/activities").text


def test_every_sector_form_word_is_in_both_catalogues() -> None:
    from traceability_api.husbandry.activities import Activity
    from traceability_api.workspace.i18n import T
    from traceability_api.workspace.routes.husbandry import _fields

    for act in Activity:
        for f in _fields(act, admin=True):
            assert f in T["vi"] and f in T["en"], f
    assert {"method_salting", "method_packing", "withdrawal_running"} <= T["vi"].keys() & T["en"].keys()


def test_sector_counts_are_said_as_the_lots_page_says_them(app_client: TestClient, runtime: Runtime) -> None:
    """The activity form worded units from a table of its own (husbandry's UNIT_WORDS): 3,000 eggs
    collected were "eggs" on the English form and "3,000 pcs" on the lot's page. The form, the
    catalogue and the page now read the one unit table (counts: con, quả)."""
    c = app_client
    member_client(c, runtime, "HTX Thủy sản Hồng Ngự", "hn.admin")
    for kind, name, code in (("hatchery", "Trại giống Hồng Ngự", "DT-HN-G01"), ("flock_house", "Trại vịt An Bình",
                                                                                "DT-HN-07")):  # fmt: skip
        assert post(c, "/app/places", {"kind": kind, "name": name, "sector_code": code}).status_code == 303  # type: ignore[attr-defined]
    for gtin, name, unit in (("8931234560058", "Cá tra giống", "NAR"), ("8931234560041", "Trứng vịt", "H87")):
        assert post(c, "/app/products", {"gtin": gtin, "name": name, "unit": unit}).status_code == 303  # type: ignore[attr-defined]
    chooser = c.get("/app/activities").text
    hatchery, house = option(chooser, "Trại giống Hồng Ngự"), option(chooser, "Trại vịt An Bình")
    fry_page = f"/app/activities?activity=stocking&place_id={hatchery}"
    assert '<option value="NAR" selected>con</option>' in c.get(fry_page).text
    fry = {"activity": "stocking", "place_id": hatchery, "time": "2025-05-01T07:00", "gtin": "8931234560058",
           "lot_code": "GI-01", "quantity": "500", "source": "Trại giống Thanh Bình"}  # fmt: skip
    assert post(c, "/app/activities", fry, page=fry_page).status_code == 303  # type: ignore[attr-defined]
    egg_page = f"/app/activities?activity=egg_collection&place_id={house}"
    eggs = {"activity": "egg_collection", "place_id": house, "time": "2025-05-02T06:00", "gtin": "8931234560041",
            "lot_code": "TV-9", "quantity": "3000", "uom": "H87", "grade": "A"}  # fmt: skip
    assert post(c, "/app/activities", eggs, page=egg_page).status_code == 303  # type: ignore[attr-defined]
    assert "500 con" in c.get("/01/08931234560058/10/GI-01").text
    assert "3.000 quả" in c.get("/01/08931234560041/10/TV-9").text
    assert "500 head" in c.get("/01/08931234560058/10/GI-01?lang=en").text
    assert "3,000 pcs" in c.get("/01/08931234560041/10/TV-9?lang=en").text
    c.get("/app/lang?to=en&next=/app")
    form = c.get(egg_page).text
    assert '<option value="H87" selected>pcs</option>' in form and ">eggs<" not in form, form
    cat = {a["activity"]: a.get("unitWords") for a in c.get("/api/v1/activities").json()}
    assert cat["egg_collection"] == {"vi": "quả", "en": "pcs"} and cat["stocking"] == {"vi": "con", "en": "head"}
