"""Workspace screens through a TestClient, on SQLite and PostgreSQL: the whole path of a lot
recorded by people (place, product, diary with a photo, harvest, label, ship, receive, process,
ship, receive, timeline), and each domain refusal shown next to its field in Vietnamese."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import auth
from tests.images import picture
from tests.workspace_helpers import csrf_of, member_client
from traceability_api.evidence.models import SensorReading
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

PNG = picture("PNG")


def post(client: TestClient, url: str, data: dict[str, str], page: str | None = None, **kw: object) -> object:
    token = csrf_of(client.get(page or url).text)
    return client.post(url, data={"csrf": token, **data}, follow_redirects=False, **kw)  # type: ignore[arg-type]


def option(html: str, text: str) -> str:
    m = re.search(r'<option value="([^"]*)"[^>]*>[^<]*' + re.escape(text), html)
    assert m, f"no option {text!r}"
    return m.group(1)


def field_error(html: str, name: str) -> str:
    m = re.search(rf'<p class="err" id="{name}-err">([^<]*)</p>', html)
    assert m, f"no error shown next to {name}: {html[:3000]}"
    return m.group(1)


def test_a_lot_from_plot_to_distributor_through_the_pages(app_client: TestClient, runtime: Runtime) -> None:
    coop = app_client
    _, coop_key = member_client(coop, runtime, "HTX Lúa Sạch", "coop.admin")
    r = post(coop, "/app/places", {"kind": "plot", "name": "Thửa 7", "planting_area_code": "VN-ST-07",
                                   "area_ha": "4,5", "lat": "9.6", "lon": "105.97"})  # fmt: skip
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert "VN-ST-07" in coop.get("/app/places").text
    r = post(coop, "/app/products", {"company_prefix": "893123456", "item_ref": "001", "action": "compute"})
    assert 'value="8931234560010"' in r.text  # type: ignore[attr-defined]
    r = post(coop, "/app/products", {"gtin": "8931234560010", "name": "Lúa ST25", "unit": "KGM"})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]

    diary = coop.get("/app/diary").text
    plot = option(diary, "Thửa 7")
    spray = {"plot_id": plot, "activity": "spraying", "time": "2026-01-05T07:00", "product": "Anvil 5SC",
             "active_ingredient": "hexaconazole", "dose": "1", "dose_unit": "l/ha", "phi_days": "14"}  # fmt: skip
    r = post(coop, "/app/diary", spray, files={"photo": ("la.png", PNG, "image/png")})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    entries = coop.get(f"/api/v1/places/{plot}/diary", headers=auth(coop_key)).json()
    assert [e["event"]["agri:diary"]["attachments"][0].startswith("ni:///sha-256;") for e in entries] == [True]
    idem = re.search(r'name="idem" value="([^"]+)"', coop.get("/app/diary").text).group(1)  # type: ignore[union-attr]
    for _ in range(2):  # the same form sent twice (a double tap): one entry
        water = {"plot_id": plot, "activity": "irrigating", "time": "2026-01-06T06:00", "idem": idem}
        assert post(coop, "/app/diary", water).status_code == 303  # type: ignore[attr-defined]
    assert len(coop.get(f"/api/v1/places/{plot}/diary", headers=auth(coop_key)).json()) == 2
    r = post(coop, "/app/diary", spray, files={"photo": ("la.png", b"not an image", "image/png")})
    assert "JPEG, PNG" in field_error(r.text, "photo")  # type: ignore[attr-defined]
    r = post(coop, "/app/diary", spray, files={"photo": ("la.png", PNG[: len(PNG) // 2], "image/png")})  # cut short
    assert "hỏng hoặc gửi chưa hết" in field_error(r.text, "photo")  # type: ignore[attr-defined]
    harvest = coop.get("/app/harvest").text
    assert re.search(r'name="lot_code" type="text" value="L\d{6}-1"', harvest)  # a code is suggested
    data = {"gtin": "08931234560010", "plot_id": plot, "lot_code": "ST25-A", "quantity": "1000",
            "harvest_date": "2026-01-10"}  # fmt: skip
    r = post(coop, "/app/harvest", data)  # harvested now: the spray's 14 days are long past
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    lot_page = r.headers["location"]  # type: ignore[attr-defined]
    assert lot_page.endswith("/label")
    label = coop.get(lot_page)
    assert "Lúa ST25" in label.text and "data:image/svg+xml;base64," in label.text
    pdf = post(coop, lot_page.replace("/label", "/label.pdf"), {"copies": "3"}, page=lot_page)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")  # type: ignore[attr-defined]

    mill = TestClient(coop.app)
    member_client(mill, runtime, "Nhà máy Xay Mỹ Xuyên", "mill.admin", OrgKind.processor)
    dist = TestClient(coop.app)
    member_client(dist, runtime, "Nhà phân phối Cần Thơ", "dist.admin", OrgKind.distributor)

    ship = coop.get("/app/ship").text
    r = post(coop, "/app/ship", {"lot_id": option(ship, "Lúa ST25 · ST25-A"),
                                 "partner": option(ship, "Nhà máy Xay"), "quantity": "1000"})  # fmt: skip
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    home = mill.get("/app").text
    assert "ST25-A" in home and "HTX Lúa Sạch" in home
    lot_id = re.search(r'action="/app/receive/(\d+)"', home).group(1)  # type: ignore[union-attr]
    r = post(mill, f"/app/receive/{lot_id}", {}, page="/app")
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]

    post(mill, "/app/products", {"gtin": "08931234560027", "name": "Gạo ST25", "max_yield": "0,7"})
    proc = mill.get("/app/process").text
    lines = {"in_lot_0": option(proc, "Lúa ST25 · ST25-A"), "in_qty_0": "1000", "out_gtin_0": "08931234560027",
             "out_code_0": "G-ST25-A", "out_qty_0": "800"}  # fmt: skip
    check = post(mill, "/app/process", lines | {"action": "check"})
    assert check.status_code == 200 and 'id="balance" class="alert"' in check.text  # type: ignore[attr-defined]
    assert "tối đa 714" in check.text  # 1000 x 0.7 (+2 %)  # type: ignore[attr-defined]
    r = post(mill, "/app/process", lines | {"out_qty_0": "650", "action": "save"})
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    ship = mill.get("/app/ship").text
    r = post(mill, "/app/ship", {"lot_id": option(ship, "Gạo ST25 · G-ST25-A"),
                                 "partner": option(ship, "Nhà phân phối")})  # fmt: skip
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    home = dist.get("/app").text
    rice_id = re.search(r'action="/app/receive/(\d+)"', home).group(1)  # type: ignore[union-attr]
    assert post(dist, f"/app/receive/{rice_id}", {}, page="/app").status_code == 303  # type: ignore[attr-defined]

    timeline = dist.get(f"/app/lots/{rice_id}").text
    for step in ("Chế biến", "Xuất hàng", "Nhận hàng"):
        assert step in timeline
    assert "https://trace.example.vn/01/08931234560027/10/G-ST25-A" in timeline
    assert dist.get(f"/app/lots/{lot_id}").status_code == 404  # the paddy lot was never the distributor's


def test_refusals_are_shown_next_to_their_field(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    _, key = member_client(c, runtime, "HTX Xoài", "xoai.admin")
    # a salinity sensor above its threshold shows on the home page
    dev = c.post("/api/v1/devices", json={"name": "Cống Xẻo Mát", "kind": "salinity", "threshold_high": 4},
                 headers=auth(key)).json()["device"]  # fmt: skip
    with Session(runtime.engine) as s:
        now = utcnow()
        s.add_all([SensorReading(device_id=dev["id"], ts=now - timedelta(minutes=m), value=v)
                   for m, v in ((5, 6.5), (10, 3.0), (15, 4.2))])  # fmt: skip
        s.commit()
    assert "Cảm biến vượt ngưỡng: Cống Xẻo Mát – 2 lần" in c.get("/app").text
    post(c, "/app/places", {"kind": "plot", "name": "Vườn 1"})
    plot = option(c.get("/app/diary").text, "Vườn 1")
    base = {"plot_id": plot, "activity": "spraying", "time": "2026-01-05T07:00"}
    r = post(c, "/app/diary", base)
    assert r.status_code == 422  # type: ignore[attr-defined]
    for f in ("product", "active_ingredient", "dose", "phi_days"):
        assert field_error(r.text, f) == "Bắt buộc."  # type: ignore[attr-defined]
    banned = base | {"product": "X", "active_ingredient": "Carbofuran 3%", "dose": "1", "dose_unit": "kg/ha",
                     "phi_days": "7"}  # fmt: skip
    r = post(c, "/app/diary", banned)
    assert r.status_code == 422 and "bị cấm" in field_error(r.text, "active_ingredient")  # type: ignore[attr-defined]
    r = post(c, "/app/diary", base | {"activity": "irrigating", "time": "ngày mai"})
    assert field_error(r.text, "time") == "Ngày giờ không hợp lệ."  # type: ignore[attr-defined]
    r = post(c, "/app/products", {"gtin": "8931234560015", "name": "Xoài"})
    assert "phải là 0" in field_error(r.text, "gtin")  # type: ignore[attr-defined]
    # a harvest inside the pre-harvest interval of a spray recorded now
    post(c, "/app/products", {"gtin": "8931234560034", "name": "Xoài cát"})
    now = re.search(r'name="time" type="datetime-local" value="([^"]+)"', c.get("/app/diary").text).group(1)  # type: ignore[union-attr]
    ok = base | {"time": now, "product": "Anvil", "active_ingredient": "hexaconazole", "dose": "1",
                 "dose_unit": "l/ha", "phi_days": "14"}  # fmt: skip
    assert post(c, "/app/diary", ok).status_code == 303  # type: ignore[attr-defined]
    assert "Đang trong thời gian cách ly" in c.get("/app").text
    r = post(c, "/app/harvest", {"gtin": "08931234560034", "plot_id": plot, "lot_code": "X-1", "quantity": "5"})
    assert r.status_code == 409 and "Chưa hết thời gian cách ly" in field_error(r.text, "harvest_date")  # type: ignore[attr-defined]
    # English by the switch
    c.get("/app/lang?to=en&next=/app")
    assert 'lang="en"' in c.get("/app").text


def test_a_drawn_outline_nested_too_deep_is_refused_next_to_its_field(app_client: TestClient, runtime: Runtime) -> None:
    """A hostile ``geo`` field of 5,000 nested brackets (within the field's 20,000 characters) once
    overflowed the JSON decoder's recursion and answered 500; it is a malformed outline like any other."""
    member_client(app_client, runtime, "HTX Xoài", "xoai.admin")
    r = post(app_client, "/app/places", {"kind": "plot", "name": "Vườn 1", "geo": "[" * 5000})
    assert r.status_code == 422, r.text[:300]  # type: ignore[attr-defined]
    assert field_error(r.text, "geo")  # type: ignore[attr-defined]


def test_a_harvest_dated_in_the_future_is_refused(app_client: TestClient, runtime: Runtime) -> None:
    """A harvest date of 9999-12-31 was stored and printed ("Thu hoạch: 31/12/9999") on the consumer
    page and labels; a lot is commissioned once harvested, so a day after tomorrow is refused, next to
    the field in the workspace and as a 422 by the API (the capture rule every path shares)."""
    _, key = member_client(app_client, runtime, "HTX Xoài", "xoai.admin")
    post(app_client, "/app/places", {"kind": "plot", "name": "Vườn 1"})
    post(app_client, "/app/products", {"gtin": "8931234560010", "name": "Xoài cát"})
    plot = option(app_client.get("/app/diary").text, "Vườn 1")
    data = {"gtin": "08931234560010", "plot_id": plot, "lot_code": "X-9", "quantity": "5", "harvest_date": "9999-12-31"}
    r = post(app_client, "/app/harvest", data)
    assert r.status_code == 422 and "31/12/9999" in field_error(r.text, "harvest_date"), r.text[:300]  # type: ignore[attr-defined]
    # a mistyped year far back: its label's expiry (AI 17, YYMMDD) would read as decades ahead
    old = f"{utcnow().year - 50}-05-01"
    r = post(app_client, "/app/harvest", {**data, "harvest_date": old})
    assert r.status_code == 422 and "01/05/" in field_error(r.text, "harvest_date"), r.text[:300]  # type: ignore[attr-defined]
    later = (utcnow() + timedelta(days=3)).date().isoformat()
    r = app_client.post("/api/v1/lots", headers=auth(key), json={"gtin": "08931234560010", "lot_code": "X-10",
                                                                 "quantity": 5, "harvest_date": later})  # fmt: skip
    assert r.status_code == 422 and "in the future" in r.json()["detail"], r.text
    r = app_client.post("/api/v1/lots", headers=auth(key), json={"gtin": "08931234560010", "lot_code": "X-12",
                                                                 "quantity": 5, "harvest_date": old})  # fmt: skip
    assert r.status_code == 422 and "more than 49 years ago" in r.json()["detail"], r.text
    oldest = f"{utcnow().year - 49}-01-01"
    r = app_client.post("/api/v1/lots", headers=auth(key), json={"gtin": "08931234560010", "lot_code": "X-13",
                                                                 "quantity": 5, "harvest_date": oldest})  # fmt: skip
    assert r.status_code == 201, r.text
    today = utcnow().date().isoformat()
    r = app_client.post("/api/v1/lots", headers=auth(key), json={"gtin": "08931234560010", "lot_code": "X-11",
                                                                 "quantity": 5, "harvest_date": today})  # fmt: skip
    assert r.status_code == 201, r.text


def test_pages_are_light_secure_and_work_without_javascript(app_client: TestClient, runtime: Runtime) -> None:
    c = app_client
    member_client(c, runtime, "HTX Nhẹ", "nhe.admin")
    for path in ("/app", "/app/diary", "/app/harvest", "/app/process", "/app/ship", "/app/places", "/app/products",
                 "/app/keys"):  # fmt: skip
        r = c.get(path)
        assert r.status_code == 200 and '<html lang="vi">' in r.text
        assets = re.findall(r'(?:src|href)="(/app/static/[^"?]+)\?v=\w+"', r.text)
        assert len(assets) == 7, assets  # our CSS, htmx, app.js, idb-keyval, offline.js, scan.js, sign.js: nothing else
        # (the signing library is loaded by sign.js only where a key on the device signs: not counted here)
        assert not re.search(r'(?:src|href)="https?://', r.text)
        total = len(gzip.compress(r.content)) + sum(len(gzip.compress(c.get(a).content)) for a in assets)
        assert total < 50 * 1024, (path, total)
        assert "style=" not in r.text and "<script>" not in r.text  # the CSP allows no inline style or script
        for form in re.findall(r"<form[^>]*>", r.text):  # every form posts to a real URL: no JavaScript needed
            assert 'method="post"' in form and 'action="/app' in form, form
    static = c.get("/app/static/app.css")
    assert "immutable" in static.headers["cache-control"] and static.headers["content-type"].startswith("text/css")
    assert c.get("/app/static/..%2Fauth.py").status_code == 404


def test_every_word_a_template_uses_is_in_both_catalogues() -> None:
    from pathlib import Path

    from traceability_api.workspace.i18n import T

    used: set[str] = set()
    for tpl in (Path(__file__).parent.parent / "traceability_api/workspace/templates").glob("*.html"):
        used |= set(re.findall(r"\bt\.(\w+)", tpl.read_text()))
    assert used and used <= T["vi"].keys(), sorted(used - T["vi"].keys())
    assert T["vi"].keys() == T["en"].keys()
