"""Workspace forms at their edges, as a new cooperative meets them (found by the workspace probe):
a decimal comma in a diary dose, the same form sent again saying something else, a field beyond
its form limit posted by htmx, an outline of too few points, a year typed short, and an id no list
of the page offers.  Each answer is a page in Vietnamese, with what was typed kept where the form
comes back.  SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.test_workspace_screens import field_error, option, post
from tests.workspace_helpers import member_client
from traceability_api.runtime import Runtime


def _coop_with_plot(client: TestClient, runtime: Runtime, name: str = "HTX Lúa Sạch",
                    admin: str = "coop.admin") -> tuple[str, str]:  # fmt: skip
    """(plot id, admin API key) of a cooperative whose admin is signed in on ``client``."""
    _, key = member_client(client, runtime, name, admin)
    assert post(client, "/app/places", {"kind": "plot", "name": "Thửa 7"}).status_code == 303  # type: ignore[attr-defined]
    return option(client.get("/app/diary").text, "Thửa 7"), key


def _diary(client: TestClient, plot: str, key: str) -> list[dict[str, object]]:
    r = client.get(f"/api/v1/places/{plot}/diary", headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_diary_dose_and_area_take_a_decimal_comma(app_client: TestClient, runtime: Runtime) -> None:
    """A dose of "1,5" l/ha, as a Vietnamese phone writes it, was refused ("Phải là một số.") in the diary while
    the harvest, shipping and husbandry forms took it."""
    plot, key = _coop_with_plot(app_client, runtime)
    spray = {"plot_id": plot, "activity": "fertilising", "time": "2026-01-05T07:00", "product": "NPK 20-20-15",
             "active_ingredient": "N-P2O5-K2O", "dose": "1,5", "dose_unit": "kg/ha", "area_ha": "0,25"}  # fmt: skip
    r = post(app_client, "/app/diary", spray)
    assert r.status_code == 303, r.text[:2000]  # type: ignore[attr-defined]
    [entry] = _diary(app_client, plot, key)
    diary = entry["event"]["agri:diary"]  # type: ignore[index]
    assert (diary["dose"], diary["area_ha"]) == (1.5, 0.25)
    r = post(app_client, "/app/diary", spray | {"dose": "1,5,0"})  # still not a number: said, and kept
    assert field_error(r.text, "dose") == "Phải là một số."  # type: ignore[attr-defined]
    assert 'value="1,5,0"' in r.text  # type: ignore[attr-defined]


def test_the_same_diary_form_saying_something_else_is_another_entry(app_client: TestClient, runtime: Runtime) -> None:
    """Back after a save shows the diary form again (htmx's history) with the same hidden ``idem``;
    the next entry recorded there was refused: "Chưa lưu được: eventID ws-diary-... was already used
    for a different event".  The same form sent twice saying the same (a double tap) stays one entry."""
    plot, key = _coop_with_plot(app_client, runtime)
    idem = re.search(r'name="idem" value="([^"]+)"', app_client.get("/app/diary").text).group(1)  # type: ignore[union-attr]
    water = {"plot_id": plot, "activity": "irrigating", "time": "2026-01-06T06:00", "idem": idem}
    for _ in range(2):
        assert post(app_client, "/app/diary", water).status_code == 303  # type: ignore[attr-defined]
    assert len(_diary(app_client, plot, key)) == 1
    r = post(app_client, "/app/diary", water | {"activity": "pruning"})
    assert r.status_code == 303, r.text[:2000]  # type: ignore[attr-defined]
    steps = sorted(str(e["event"]["bizStep"]).rsplit("-", 1)[1] for e in _diary(app_client, plot, key))  # type: ignore[index]
    assert steps == ["irrigating", "pruning"]


def test_a_field_beyond_its_form_limit_posted_by_htmx_gets_a_page(app_client: TestClient, runtime: Runtime) -> None:
    """htmx posts a boosted form with ``Accept: */*`` and swaps the answer into the page: a field
    beyond its form limit answered JSON in English, which replaced the whole screen and what was
    typed.  A place's name or address too long for the place is said next to the field (the text
    kept); beyond the form's own bound, a page in Vietnamese."""
    member_client(app_client, runtime, "HTX Lúa Sạch", "coop.admin")
    htmx = {"HX-Request": "true", "Accept": "*/*"}
    r = post(app_client, "/app/places", {"kind": "plot", "name": "Thửa " + "ư" * 1200}, headers=htmx)
    assert r.status_code == 422 and field_error(r.text, "name") == "Quá dài.", r.text[:300]  # type: ignore[attr-defined]
    assert "ư" * 1200 in r.text  # type: ignore[attr-defined]
    r = post(app_client, "/app/places", {"kind": "plot", "name": "Thửa " + "ư" * 6000}, headers=htmx)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), r.text[:300]  # type: ignore[attr-defined]
    assert "không hợp lệ" in r.text and "<main" in r.text  # type: ignore[attr-defined]


def test_an_outline_of_too_few_points_is_refused_next_to_its_field(app_client: TestClient, runtime: Runtime) -> None:
    """The refusal "Polygon ring 0: needs at least 4 positions" was read as the diary's "spraying needs product,
    dose": its words became field names no page shows, and the 422 said nothing."""
    member_client(app_client, runtime, "HTX Lúa Sạch", "coop.admin")
    two = '{"type": "Polygon", "coordinates": [[[105.9, 9.6], [105.9, 9.6]]]}'
    r = post(app_client, "/app/places", {"kind": "plot", "name": "Thửa 8", "geo": two})
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert field_error(r.text, "geo") == "Ranh giới hoặc tọa độ không hợp lệ."  # type: ignore[attr-defined]


def test_a_year_typed_short_is_said_next_to_the_time(app_client: TestClient, runtime: Runtime) -> None:
    """A year typed "0026" (or anything before 1906, when the zone's offset was local mean time,
    +07:06:30) answered the EPCIS schema's English: "Chưa lưu được: the event does not follow..."."""
    plot, _ = _coop_with_plot(app_client, runtime)
    for year in ("0026", "1899"):
        r = post(app_client, "/app/diary", {"plot_id": plot, "activity": "irrigating", "time": f"{year}-12-07T08:00"})
        assert r.status_code == 422, r.text[:300]  # type: ignore[attr-defined]
        assert field_error(r.text, "time") == f"Thời gian ngày 07/12/{year} không hợp lệ: hãy kiểm tra lại năm."  # type: ignore[attr-defined]
        assert "schema" not in r.text  # type: ignore[attr-defined]


def test_an_id_no_list_offers_is_said_in_vietnamese(app_client: TestClient, runtime: Runtime) -> None:
    """Another organisation's plot or member in a form answered "Chưa lưu được: place 1 not found"
    and "member 1 not found in your organisation"; the same words as for any id not offered."""
    theirs, _ = _coop_with_plot(app_client, runtime, "HTX Khác", "other.admin")
    app_client.cookies.clear()
    mine, _ = _coop_with_plot(app_client, runtime, "HTX Lúa Sạch")
    assert mine != theirs
    r = post(app_client, "/app/diary", {"plot_id": theirs, "activity": "irrigating", "time": "2026-01-06T06:00"})
    assert r.status_code == 404 and "Không tìm thấy mục đã chọn" in r.text, r.text[:2000]  # type: ignore[attr-defined]
    assert "not found" not in r.text and "Thửa 7" in r.text  # type: ignore[attr-defined]
    r = post(app_client, "/app/members/1", {"role": "viewer"}, page="/app/members")
    assert r.status_code == 404 and "Không tìm thấy mục đã chọn" in r.text, r.text[:2000]  # type: ignore[attr-defined]
    assert "not found" not in r.text  # type: ignore[attr-defined]


def test_a_processing_refusal_is_shown(app_client: TestClient, runtime: Runtime) -> None:
    """The processing form has rows (in_qty_0, out_code_0...), and the domain's refusals name the
    fields "quantity", "lot", "lot_code": more than the lot holds, or an output code taken, answered
    409 or 422 with the form again and nothing said."""
    plot, _ = _coop_with_plot(app_client, runtime)
    for gtin, name in (("08931234560010", "Lúa ST25"), ("08931234560027", "Gạo ST25")):
        assert post(app_client, "/app/products", {"gtin": gtin, "name": name, "max_yield": "0,7"}).status_code == 303  # type: ignore[attr-defined]
    data = {"gtin": "08931234560010", "plot_id": plot, "lot_code": "ST25-A", "quantity": "100"}
    assert post(app_client, "/app/harvest", data).status_code == 303  # type: ignore[attr-defined]
    lot = option(app_client.get("/app/process").text, "ST25-A")
    run = {"in_lot_0": lot, "in_qty_0": "150", "out_gtin_0": "08931234560027", "out_code_0": "G-1", "out_qty_0": "70",
           "action": "save"}  # fmt: skip
    r = post(app_client, "/app/process", run)
    assert r.status_code in (409, 422), r.text[:300]  # type: ignore[attr-defined]
    assert re.search(r'role="alert">Số lượng 150 kg vượt quá lượng còn lại của lô \(100 kg\)', r.text), r.text[-3000:]  # type: ignore[attr-defined]
    assert post(app_client, "/app/process", run | {"in_qty_0": "10", "out_qty_0": "7"}).status_code == 303  # type: ignore[attr-defined]
    r = post(app_client, "/app/process", run | {"in_qty_0": "10", "out_qty_0": "5"})  # G-1 again
    assert r.status_code == 409 and 'role="alert">Mã lô này đã có' in r.text, r.text[-3000:]  # type: ignore[attr-defined]
    assert 'value="G-1"' in r.text  # type: ignore[attr-defined]


def test_a_quantity_written_as_the_pages_write_it_is_read_as_meant(app_client: TestClient, runtime: Runtime) -> None:
    """The pages write 2500 kg "2.500 kg" (Vietnamese thousands); "2.500" typed back into the
    harvest was stored as 2,5 kg, and "1.000,5" (as the lot page shows 1000.5) was "Phải là một số."
    A comma alone stays the decimal comma; in English "1,000.5" is a thousand and a half."""
    plot, key = _coop_with_plot(app_client, runtime)
    assert post(app_client, "/app/products", {"gtin": "08931234560010", "name": "Lúa ST25"}).status_code == 303  # type: ignore[attr-defined]
    typed = {"2.500": 2500, "1.000,5": 1000.5, "12,5": 12.5, "0.125": 0.125, "10 000": 10000, "1.5": 1.5}
    for i, quantity in enumerate(typed):
        data = {"gtin": "08931234560010", "plot_id": plot, "lot_code": f"Q-{i}", "quantity": quantity}
        r = post(app_client, "/app/harvest", data)
        assert r.status_code == 303, (quantity, r.text[:2000])  # type: ignore[attr-defined]
    stored = {x["lot_code"]: x["quantity"] for x in app_client.get("/api/v1/lots", headers=auth(key)).json()}
    assert {q: stored[f"Q-{i}"] for i, q in enumerate(typed)} == typed
    app_client.get("/app/lang?to=en&next=/app")
    r = post(app_client, "/app/harvest", {"gtin": "08931234560010", "plot_id": plot, "lot_code": "Q-EN",
                                          "quantity": "1,000.5"})  # fmt: skip
    assert r.status_code == 303, r.text[:2000]  # type: ignore[attr-defined]
    stored = {x["lot_code"]: x["quantity"] for x in app_client.get("/api/v1/lots", headers=auth(key)).json()}
    assert stored["Q-EN"] == 1000.5


def test_refusals_word_quantities_and_units_as_the_pages_do() -> None:
    """The domain says "quantity 1500.5 exceeds the lot's remaining 1000 KGM"; the page said that
    to a farmer as "Số lượng 1500.5 ... (1000 KGM)", where every other number reads "1.000 kg"."""
    from traceability_api.workspace.messages import _known

    over = "https://id.gs1.org/01/08931234560010/10/L: quantity 1500.5 exceeds the lot's remaining 1000 KGM"
    assert _known(over, "vi") == ("quantity", "Số lượng 1.500,5 kg vượt quá lượng còn lại của lô (1.000 kg).")
    assert _known(over, "en") == ("quantity", "Quantity 1,500.5 kg exceeds what is left in the lot (1,000 kg).")
    unit = "https://id.gs1.org/01/08931234560010/10/L: unit TNE does not match the lot's unit KGM"
    assert _known(unit, "vi") == ("quantity", "Đơn vị tấn khác đơn vị của lô (kg).")
