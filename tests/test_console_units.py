"""Quantities on the authority console and the cooperatives' workspace are said with the units people
read (28.000 kg, 2,5 tấn; 2.5 t in English), from the consumer pages' one table
(``consumer_site.formatting.UNITS``): the console said "1.000 KGM" where the consumer page said
"1.000 kg".  Machine exports (events CSV, EPCIS JSON, the trace graph's JSON) keep the UN/CEFACT
codes.  Also what the console and workspace showed in machine words: a lot's status ("active"), an
over-shipment ("org 7: 5000 / 1000 KGM"), a code's dates (2025-01-01), a figure's months and axis
(2025-03, "1,000" on a Vietnamese page), a recall's step on the lot's timeline ("holding")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.conftest import auth
from tests.console_data import MANGO, seed_province, sign_in_authority
from tests.supply_network import Network, build, gtin
from tests.test_console_recall import lot_id
from tests.workspace_helpers import accept, csrf_of, member_client, sign_in
from traceability_api.authority.models import RecallNotice
from traceability_api.authority.recall_notices import new_token
from traceability_api.console.svg_chart import bar_chart
from traceability_api.consumer.models import ScanLog
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import EventLot
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.models import Organisation
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow
from traceability_api.workspace import i18n
from traceability_api.workspace.invites import create_invite

pytestmark = pytest.mark.postgres
FISH = gtin(150)


class _Text(HTMLParser):
    """The text a reader sees: element text, not attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.parts))


@pytest.fixture
def net(runtime: Runtime, app_client: TestClient) -> Iterator[Network]:
    n = build(runtime.engine, runtime.settings)
    key = n.keys["C2"]  # a lot weighed in tonnes
    r = app_client.post("/api/v1/products", headers=auth(key), json={"gtin": FISH, "name": "Cá tra C2", "unit": "TNE"})
    assert r.status_code == 201, r.text
    r = app_client.post("/api/v1/lots", headers=auth(key), json={"gtin": FISH, "lot_code": "CT-25", "quantity": 2.5,
                        "uom": "TNE", "plot_id": n.plots["C2"], "harvest_date": "2025-03-01"})  # fmt: skip
    assert r.status_code == 201, r.text
    yield n


def page_text(client: TestClient, path: str, **params: str) -> str:
    r = client.get(path, params=params)
    assert r.status_code == 200, (path, r.text[:500])
    return visible(r.text)


def test_the_shared_unit_words() -> None:
    assert [i18n.unit(c, "vi") for c in ("KGM", "TNE", "LTR", "NAR", "H87", "XPT", "XCS")] == [
        "kg", "tấn", "lít", "con", "quả", "chậu", "thùng"]  # fmt: skip
    assert [i18n.unit(c, "en") for c in ("KGM", "TNE", "LTR", "XCS")] == ["kg", "t", "L", "cases"]
    assert i18n.unit("ZZZ", "vi") == "ZZZ" and i18n.unit(None, "vi") == ""  # an unknown code shows as it is
    assert i18n.quantity(28000, "KGM", "vi") == "28.000 kg" and i18n.quantity(2.5, "TNE", "en") == "2.5 t"


def test_console_says_quantities_in_kg_and_tonnes_not_codes(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    # lot search: every lot's quantity and status in words
    found = page_text(app_client, "/app/console/lots", by="org", q="C2")
    assert "2,5 tấn" in found and "0 kg" in found, found  # CT-25; P21, consumed
    assert "10.000 kg" in found and "Đang giữ" in found  # P22, still on the farm
    assert not re.search(r"\b(KGM|TNE|active|consumed)\b", found), found
    # a lot's lineage: the graph's boxes, its table and its hand-overs
    r1 = lot_id(runtime, net, "R1")
    graph = app_client.get(f"/app/console/lots/{r1}").text
    start = graph.index('<svg id="lineage"')
    svg = visible(graph[start : graph.index("</svg>", start)])
    assert "R1 · 1.000 kg" in svg and "T1a · 9.000 kg" in svg, svg
    text = visible(graph)
    shipments = visible(graph[graph.index('<table class="figures" id="shipments">') :])
    assert "10.000 kg" in shipments and "19.000 kg" in shipments, shipments  # R1 shipped whole
    assert "R1 D1 1.000 kg Đang giữ" in text and "KGM" not in text, text
    # a recall of the lot: its report page
    csrf = csrf_of(graph)
    r = app_client.post(f"/app/console/lots/{r1}/recall", data={"csrf": csrf, "reason": "Dư lượng thuốc BVTV"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    recall = page_text(app_client, r.headers["location"])
    assert "1.000 kg" in recall and "9.000 kg" in recall, recall
    assert "KGM" not in recall
    # the same in English: English numbers, "t" for tonnes
    app_client.get("/app/lang", params={"to": "en"})
    found = page_text(app_client, "/app/console/lots", by="org", q="C2")
    assert "2.5 t" in found and "10,000 kg" in found and "Held" in found, found
    assert not re.search(r"\b(KGM|TNE|active)\b", found), found
    assert "KGM" not in page_text(app_client, f"/app/console/lots/{r1}")


def test_machine_exports_keep_the_unit_codes(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    key = net.keys["AUTH"]
    csv_text = app_client.get("/api/v1/exports/events.csv", headers=auth(key)).text
    assert "KGM" in csv_text and "TNE" in csv_text and " kg" not in csv_text
    doc = app_client.get("/api/v1/exports/epcis", headers=auth(key), params={"limit": 1000}).json()
    uoms = {q.get("uom") for e in doc["epcisBody"]["eventList"] for q in e.get("quantityList", [])}
    assert {"KGM", "TNE"} <= uoms and not uoms & {"kg", "tấn", "t"}, uoms
    g = app_client.get(f"/api/v1/trace/lots/{lot_id(runtime, net, 'R1')}", headers=auth(key)).json()
    shipped = [h for h in g["custody"] if h["step"] == "shipping"]
    assert shipped and {h["uom"] for h in shipped} == {"KGM"}  # a hand-over's quantity with its unit code
    assert {n["uom"] for n in g["nodes"]} == {"KGM"}
    fsma = app_client.get("/api/v1/fsma/spreadsheet.csv", params={"gtin": FISH}, headers=auth(key))
    assert fsma.status_code == 200, fsma.text
    assert "TNE" in fsma.text and "tấn" not in fsma.text, fsma.text


def test_workspace_pages_say_units_in_words(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    """A cooperative's and a mill's pages: home, a lot, the ship form, the unit choices, a recall
    notice's acknowledgement page, the lot's timeline after the recall."""
    m1 = net.principals["M1"]
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, m1.org_id, "Nhà máy M1", Role.admin, m1.member_id)
        s.commit()
    accept(app_client, token, "m1-admin")
    home = page_text(app_client, "/app")
    assert "B1 3.000 kg" in home and "P11 0 kg" in home, home
    assert "KGM" not in home
    b1 = lot_id(runtime, net, "B1")
    lot = page_text(app_client, f"/app/lots/{b1}")
    assert "3.000 / 3.000 kg" in lot and "KGM" not in lot, lot
    ship = page_text(app_client, "/app/ship")
    assert "B1 (3.000 kg)" in ship and "KGM" not in ship, ship
    process = page_text(app_client, "/app/process")  # the inputs' choices said "(3.000)", no unit
    assert "B1 (3.000 kg)" in process and "KGM" not in process, process
    units = visible(app_client.get("/app/products").text)
    units = units[units.index("Đơn vị") :]
    for word in ("kg", "tấn", "lít", "con", "chậu", "quả", "thùng"):
        assert f" {word} " in units, (word, units)
    assert not re.search(r"\b(NAR|XPT|KGM)\b", units), units
    harvest = page_text(app_client, "/app/harvest")
    assert not re.search(r"\b(NAR|XPT|KGM|TNE)\b", harvest), harvest
    # the mill is told of a recall of B1: its acknowledgement page lists the lot in kg
    member_client(app_client, runtime, "Chi cục QLCL Cần Thơ", "chicuc", OrgKind.authority)
    csrf = csrf_of(app_client.get(f"/app/console/lots/{b1}").text)
    r = app_client.post(f"/app/console/lots/{b1}/recall", data={"csrf": csrf, "reason": "Dư lượng thuốc BVTV",
                        "scope": "lot"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    token, digest = new_token()
    with Session(runtime.engine) as s:
        notice = s.exec(select(RecallNotice).where(RecallNotice.org_id == m1.org_id)).one()
        notice.token_hashes = [*notice.token_hashes, digest]
        s.add(notice)
        s.commit()
        notice_id = notice.id
    app_client.cookies.clear()
    ack = page_text(app_client, f"/app/recall-ack/{notice_id}/{token}")
    assert "B1 · 3.000 kg" in ack, ack
    assert "KGM" not in ack
    # the lot's timeline names the recall (its event is a "holding" step with the recalled disposition)
    sign_in(app_client, "m1-admin")
    lot = page_text(app_client, f"/app/lots/{b1}")
    assert "Thu hồi ·" in lot and "holding" not in lot, lot


def test_anomalies_say_over_shipments_and_copied_codes_in_the_pages_words(
    app_client: TestClient, runtime: Runtime
) -> None:
    """The feed said "org 7: 5000 / 1000 KGM" and "serial S1: 1 scans" on the Vietnamese page."""
    seed_province(app_client, runtime)
    with Session(runtime.engine) as s:
        one = s.exec(select(Lot).join(Product).where(Product.gtin == MANGO, Lot.lot_code == "MX-2505-1")).one()  # type: ignore[arg-type]
        two = s.exec(select(Lot).join(Product).where(Product.gtin == MANGO, Lot.lot_code == "MX-2505-2")).one()  # type: ignore[arg-type]
        harvest = s.exec(select(EventLot).where(EventLot.lot_id == one.id)).first()
        assert harvest is not None
        s.add(EventLot(event_id=harvest.event_id, lot_id=one.id or 0, role="input", quantity=5000.0, uom="KGM"))
        s.add(ScanLog(lot_id=two.id or 0, serial="S1", client_hash="a" * 32, token_ok=False,
                      scanned_at=utcnow() - timedelta(hours=2)))  # fmt: skip
        s.commit()
    sign_in_authority(app_client, runtime)
    items = app_client.get("/app/console/anomalies.json").json()["items"]
    details = {i["kind"]: i["detail"] for i in items}
    assert re.fullmatch(r"org \d+: 5000 / 1000 KGM", details["mass_balance"])  # the JSON as it was
    assert details["copied_scan"] == "serial S1: 1 scans"
    page = page_text(app_client, "/app/console/anomalies")
    assert "HTX Xoài Mỹ Xương đã xuất 5.000 kg, lô chỉ có 1.000 kg" in page, page
    assert "Mã sê-ri S1: 1 lượt quét" in page
    assert not re.search(r"KGM|org \d|serial S1|scans", page), page
    app_client.get("/app/lang", params={"to": "en"})
    page = page_text(app_client, "/app/console/anomalies")
    assert "HTX Xoài Mỹ Xương shipped 5,000 kg of a lot of 1,000 kg" in page and "Serial S1: 1 scans" in page, page


def test_figures_write_months_and_axis_numbers_as_the_page_does(app_client: TestClient, runtime: Runtime) -> None:
    """The table and the chart said 2025-05 and the axis 1,000 (one, in Vietnamese); the CSV keeps
    its YYYY-MM months."""
    seed_province(app_client, runtime)
    sign_in_authority(app_client, runtime)
    html = app_client.get("/app/console/figures", params={"figure": "harvest_kg"}).text
    text = visible(html)
    assert "05/2025" in text and "2025-05" not in text, text
    assert 'data-month="2025-05"' in html  # the machine-readable cell keeps the key
    chart = visible(html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :])
    assert " 1.000 " in f" {chart} " and "1,000" not in chart, chart
    csv_text = app_client.get("/app/console/figures.csv", params={"figure": "harvest_kg"}).text
    assert "2025-05,1000" in csv_text
    app_client.get("/app/lang", params={"to": "en"})
    chart = visible(app_client.get("/app/console/figures", params={"figure": "harvest_kg"}).text)
    assert "1,000" in chart and "05/2025" in chart
    svg = bar_chart([("2025-01", 2.5)], "t", "d")  # unchanged by default (other callers, tests)
    assert "2025-01" in svg and "2.5" in svg


def test_registered_codes_show_their_dates_as_people_write_them(app_client: TestClient, runtime: Runtime) -> None:
    prov = seed_province(app_client, runtime)
    _, key = member_client(app_client, runtime, "Chi cục BVTV Đồng Tháp", "bvtv", OrgKind.authority)
    with Session(runtime.engine) as s:
        coop = s.exec(select(Organisation).where(Organisation.name == "HTX Xoài Mỹ Xương")).one()
    page = app_client.get("/app/console/codes")
    r = app_client.post("/app/console/codes", data={"csrf": csrf_of(page.text), "kind": "planting_area",
                        "code": "VN-DTOR-0077", "org_id": str(coop.id), "place_id": str(prov.place_ids[0]),
                        "issuer": "Cục Bảo vệ thực vật", "markets": "CN", "valid_from": "2025-01-02",
                        "valid_until": "2027-12-31"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    text = page_text(app_client, "/app/console/codes")
    assert "VN-DTOR-0077" in text and "02/01/2025 → 31/12/2027" in text, text
    assert "2025-01-02" not in text
    # a certificate's validity, on the console's and the cooperative's certificates pages alike
    cert = {"scheme": "vietgap", "number": "VG-77", "issuer": "Trung tâm Chứng nhận", "org_id": coop.id,
            "place_ids": [prov.place_ids[0]], "valid_from": "2025-03-04", "valid_until": "2028-03-03"}  # fmt: skip
    r = app_client.post("/api/v1/certificates", headers=auth(key), json=cert)
    assert r.status_code == 201, r.text
    text = page_text(app_client, "/app/console/certificates")
    assert "04/03/2025 → 03/03/2028" in text and "2025-03-04" not in text, text


def test_a_cooling_step_is_named_in_the_pages_language(app_client: TestClient, runtime: Runtime) -> None:
    """A cold store's step (agri:BizStep-cooling, FSMA 204's cooling) read "cooling" on the lot's
    timeline, in Vietnamese as in English."""
    prov = seed_province(app_client, runtime)
    uri = lot_uri(MANGO, "MX-2505-1")
    event = {"type": "ObjectEvent", "eventTime": "2025-05-08T09:00:00+07:00", "eventTimeZoneOffset": "+07:00",
             "action": "OBSERVE", "bizStep": voc.AGRI_NS + "BizStep-cooling",
             "quantityList": [{"epcClass": uri, "quantity": 1000, "uom": "KGM"}]}  # fmt: skip
    r = app_client.post("/api/v1/events", headers=auth(prov.coop_keys[0]), json=event)
    assert r.status_code == 201, r.text
    with Session(runtime.engine) as s:
        lot = s.exec(select(Lot).join(Product).where(Product.gtin == MANGO, Lot.lot_code == "MX-2505-1")).one()  # type: ignore[arg-type]
    sign_in_authority(app_client, runtime)
    text = page_text(app_client, f"/app/lots/{lot.id}")
    assert "Làm lạnh · 08/05/2025 09:00" in text and "cooling" not in text, text
    app_client.get("/app/lang", params={"to": "en"})
    assert "Cooling · 08/05/2025 09:00" in page_text(app_client, f"/app/lots/{lot.id}")
