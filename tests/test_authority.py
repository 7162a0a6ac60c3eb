"""Authority tools on a generated supply network: trace, recall, mass balance, exports, audit log."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from tests.supply_network import Network, build, gtin
from traceability_api.authority.models import WriteLogEntry
from traceability_api.epcis.identifiers import classify, lot_uri
from traceability_api.epcis.schema import document_validator
from traceability_api.lots.models import Lot
from traceability_api.lots.service import find_lot
from traceability_api.parties.models import Organisation
from traceability_api.runtime import Runtime


@pytest.fixture
def net(runtime: Runtime, app_client: TestClient) -> Iterator[Network]:
    yield build(runtime.engine, runtime.settings)


def H(net: Network, who: str) -> dict[str, str]:  # noqa: N802
    return {"Authorization": f"Bearer {net.keys[who]}"}


def lot_id(runtime: Runtime, uri: str) -> int:
    ref = classify(uri)
    with Session(runtime.engine) as s:
        found = find_lot(s, ref.gtin or "", ref.code or "")
    assert found is not None and found[0].id is not None
    return found[0].id


def test_full_trace_through_transformations(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    c = app_client
    t1a = lot_id(runtime, net.lots["T1a"])
    g = c.get(f"/api/v1/trace/lots/{t1a}", headers=H(net, "AUTH"), params={"direction": "back"}).json()
    uris = {n["uri"] for n in g["nodes"]}
    assert {net.lots[n] for n in ("T1a", "R1", "P11", "P21", "P31")} == uris
    assert {(e["from"], e["to"]) for e in g["edges"]} >= {(lot_id(runtime, net.lots["R1"]), t1a)}
    origins = c.get(f"/api/v1/trace/lots/{t1a}/origins", headers=H(net, "AUTH")).json()
    assert sorted(o["name"] for o in origins) == ["Ruộng C1", "Ruộng C2", "Ruộng C3"]
    down = c.get(f"/api/v1/trace/places/{net.plots['C1']}/downstream", headers=H(net, "AUTH")).json()
    assert {n["uri"] for n in down["lots"]} == {
        net.lots[n] for n in ("P11", "P12", "R1", "B1", "R3", "T1a", "T1b", "T3")
    }
    # custody hand-overs come with the graph: paddy P11 went from C1 to M1
    p11 = lot_id(runtime, net.lots["P11"])
    steps = [(h["step"], h["lot"]) for h in g["custody"]]
    assert ("shipping", p11) in steps and ("receiving", p11) in steps
    # a mill (not an authority) sees one step back and one step forward of its own lots only
    r1 = lot_id(runtime, net.lots["R1"])
    one = c.get(f"/api/v1/trace/lots/{r1}", headers=H(net, "M1")).json()
    assert {n["distance"] for n in one["nodes"]} == {-1, 0, 1}
    assert c.get(f"/api/v1/trace/lots/{t1a}/origins", headers=H(net, "M1")).status_code == 403
    assert c.get(f"/api/v1/trace/lots/{lot_id(runtime, net.lots['T2'])}", headers=H(net, "M1")).status_code == 404


def test_recall_propagates_downstream(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    c = app_client
    p11 = lot_id(runtime, net.lots["P11"])
    # a distributor may not recall another organisation's lot
    assert (
        c.post("/api/v1/recalls", json={"lot_ids": [p11], "reason": "x" * 5}, headers=H(net, "D2")).status_code == 403
    )
    for reason in ("Dư lượng \u202eBVTV", "Dư lượng\x07 BVTV", "Dư lượng \u2066BVTV"):  # direction overrides, BEL
        bad = c.post("/api/v1/recalls", headers=H(net, "AUTH"), json={"lot_ids": [p11], "reason": reason})
        assert bad.status_code == 422 and "control character U+" in bad.json()["detail"], bad.text
    r = c.post(
        "/api/v1/recalls",
        headers=H(net, "AUTH"),
        json={"lot_ids": [p11], "reason": "Dư lượng thuốc BVTV vượt ngưỡng", "scope": "downstream"},
    )
    assert r.status_code == 201, r.text
    report = c.get(f"/api/v1/recalls/{r.json()['id']}", headers=H(net, "AUTH")).json()
    affected = {a["uri"]: a for a in report["affected"]}
    assert set(affected) == {net.lots[n] for n in ("P11", "R1", "B1", "T1a", "T1b")}
    assert affected[net.lots["T1a"]]["holder"] == "D1" and affected[net.lots["T1a"]]["quantityRemaining"] == 9000
    with Session(runtime.engine) as s:
        status = {lot.id: lot.status for lot in s.exec(select(Lot)).all()}
    assert status[lot_id(runtime, net.lots["T1a"])] == "recalled"
    assert status[lot_id(runtime, net.lots["T2"])] == "active"
    # the recall is recorded as events (anchored like any other) and the consumer page shows it
    events = c.get("/api/v1/events", headers=H(net, "AUTH"), params={"lot": net.lots["T1a"], "EQ_bizStep": "holding"})
    recorded = events.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert recorded and recorded[0]["disposition"] == "recalled"
    ref = classify(net.lots["T1a"])
    html = c.get(f"/01/{ref.gtin}/10/{ref.code}").text
    assert 'id="recall"' in html and "Dư lượng thuốc BVTV" in html
    assert 'id="recall"' not in c.get(f"/01/{classify(net.lots['T2']).gtin}/10/T2").text
    # a recalled lot cannot be shipped on
    ship = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-09T08:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "quantityList": [{"epcClass": net.lots["T1a"]}],
        "destinationList": [{"type": "possessing_party", "destination": net.parties["D2"]}],
    }
    assert c.post("/api/v1/events", json=ship, headers=H(net, "D1")).status_code == 409
    # nor repacked into a fresh lot that could then be shipped (the recall would not follow it),
    # nor used up so that its status turns from recalled to consumed
    repack = {
        "type": "TransformationEvent",
        "eventTime": "2025-03-09T09:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": net.lots["T1a"], "quantity": 9000, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": lot_uri(gtin(301), "T1z"), "quantity": 9000, "uom": "KGM"}],
    }
    r = c.post("/api/v1/events", json=repack, headers=H(net, "D1"))
    assert r.status_code == 409 and "recalled" in r.text, r.text
    # nor packed into a pallet, which would then travel by its SSCC with the recalled lot unseen
    pack = {
        "type": "AggregationEvent",
        "eventTime": "2025-03-09T10:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "bizStep": "packing",
        "parentID": "https://id.gs1.org/00/089300000000000024",
        "childQuantityList": [{"epcClass": net.lots["T1a"], "quantity": 9000, "uom": "KGM"}],
    }
    r = c.post("/api/v1/events", json=pack, headers=H(net, "D1"))
    assert r.status_code == 409 and "packed" in r.text, r.text
    with Session(runtime.engine) as s:
        assert s.get(Lot, lot_id(runtime, net.lots["T1a"])).status == "recalled"  # type: ignore[union-attr]
        assert find_lot(s, gtin(301), "T1z") is None


def test_mass_balance_catches_injected_over_shipment_and_excess_yield(
    net: Network, runtime: Runtime, app_client: TestClient
) -> None:
    c = app_client
    clean = c.get("/api/v1/mass-balance", headers=H(net, "AUTH"), params={"flagged_only": True}).json()
    assert clean["flagged"] == 0, clean
    # an insider writes a second shipment of P22 straight into the database: 15 t out of a 10 t lot
    p22 = lot_id(runtime, net.lots["P22"])
    c2 = net.principals["C2"]
    with runtime.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (org_id, member_id, client_event_id, hash_id, event_type, biz_step, event_time, "
                "record_time, document) VALUES (:o, :m, 'forged', 'ni:///sha-256;00?ver=CBV2.0', 'ObjectEvent', "
                ":step, '2025-03-02 01:00:00', '2025-03-02 01:00:00', '{}')"
            ),
            {"o": c2.org_id, "m": c2.member_id, "step": "https://ref.gs1.org/cbv/BizStep-shipping"},
        )
        eid = conn.execute(text("SELECT id FROM event WHERE client_event_id = 'forged'")).scalar_one()
        conn.execute(
            text("INSERT INTO event_lot (event_id, lot_id, role, quantity, uom) VALUES (:e, :l, 'epc', 15000, 'KGM')"),
            {"e": eid, "l": p22},
        )
    # and a mill declares more rice than its paddy can yield (10 t paddy -> 9 t rice, max yield 0.7)
    c.post("/api/v1/products", json={"gtin": "08930000009906", "name": "Gạo X", "max_yield": 0.7}, headers=H(net, "M2"))
    handover = [
        {
            "type": "ObjectEvent",
            "eventTime": "2025-03-07T08:00:00+07:00",
            "eventTimeZoneOffset": "+07:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "quantityList": [{"epcClass": net.lots["P42"]}],
            "destinationList": [{"type": "possessing_party", "destination": net.parties["M2"]}],
        }
    ]
    assert c.post("/api/v1/events", json=handover[0], headers=H(net, "C4")).status_code == 201
    recv = dict(handover[0], bizStep="receiving", eventTime="2025-03-07T09:00:00+07:00")
    assert c.post("/api/v1/events", json=recv, headers=H(net, "M2")).status_code == 201
    tf = {
        "type": "TransformationEvent",
        "eventTime": "2025-03-07T10:00:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "inputQuantityList": [{"epcClass": net.lots["P42"], "quantity": 10000, "uom": "KGM"}],
        "outputQuantityList": [
            {"epcClass": "https://id.gs1.org/01/08930000009906/10/X1", "quantity": 9000, "uom": "KGM"}
        ],
    }
    assert c.post("/api/v1/events", json=tf, headers=H(net, "M2")).status_code == 201
    flagged = c.get("/api/v1/mass-balance", headers=H(net, "AUTH"), params={"flagged_only": True}).json()
    by_uri = {r["uri"]: r for r in flagged["lots"]}
    assert set(by_uri) == {net.lots["P22"], "https://id.gs1.org/01/08930000009906/10/X1"}
    assert "moved 15000" in by_uri[net.lots["P22"]]["reasons"][0]
    assert "yields 9000 from 10000" in by_uri["https://id.gs1.org/01/08930000009906/10/X1"]["reasons"][0]


def test_exports_validate_and_sort(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    c = app_client
    doc = c.get("/api/v1/exports/epcis", headers=H(net, "AUTH"), params={"limit": 1000}).json()
    assert doc["type"] == "EPCISDocument" and len(doc["epcisBody"]["eventList"]) >= 35
    errors = list(document_validator().iter_errors(doc))
    assert errors == [], errors[:3]
    table = c.get("/api/v1/exports/events.csv", headers=H(net, "AUTH"), params={"sort": "eventTime", "order": "desc"})
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows and rows[0]["eventTime"] >= rows[-1]["eventTime"]
    assert {"lots", "sources", "destinations", "recordedBy"} <= set(rows[0])
    shipping = [r for r in rows if r["bizStep"].endswith("shipping")]
    assert shipping and all(r["destinations"] for r in shipping)
    x = c.get("/api/v1/exports/events.xlsx", headers=H(net, "AUTH"))
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws.max_row == len(rows) + 1 and ws["A1"].value == "eventId"
    assert c.get("/api/v1/exports/events.csv", headers=H(net, "AUTH"), params={"sort": "nope"}).status_code == 422
    # a name that looks like a formula stays text in both files (CSV injection)
    with Session(runtime.engine) as s:
        org = s.get(Organisation, net.principals["C1"].org_id)
        assert org is not None
        org.name = '=HYPERLINK("http://evil.example","C1")'
        s.add(org)
        s.commit()
    csv_text = c.get("/api/v1/exports/events.csv", headers=H(net, "AUTH")).text
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    ws = load_workbook(io.BytesIO(c.get("/api/v1/exports/events.xlsx", headers=H(net, "AUTH")).content)).active
    named = [cell for row in ws.iter_rows(min_row=2) for cell in row if str(cell.value).startswith("=HYPERLINK")]
    assert named and all(cell.data_type == "s" for cell in named)
    # a cooperative exports only what it may read
    mine = c.get("/api/v1/exports/epcis", headers=H(net, "C5")).json()["epcisBody"]["eventList"]
    assert 0 < len(mine) < len(doc["epcisBody"]["eventList"])


def test_audit_log_records_writes_and_is_append_only(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    c = app_client
    r = c.post("/api/v1/places", json={"kind": "warehouse", "name": "Kho"}, headers=H(net, "D3"))
    assert r.status_code == 201
    assert c.post("/api/v1/places", json={"kind": "nope", "name": "x"}, headers=H(net, "D3")).status_code == 422
    log = c.get("/api/v1/audit-log", headers=H(net, "AUTH")).json()
    assert log[-1]["path"] == "/api/v1/places" and log[-1]["method"] == "POST"
    assert log[-1]["org_id"] == net.principals["D3"].org_id and len(log[-1]["digest"]) == 64
    assert c.get("/api/v1/audit-log", headers=H(net, "D3")).status_code == 403
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET status = 200"))
    with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    with Session(runtime.engine) as s:
        assert len(s.exec(select(WriteLogEntry)).all()) == len(log)


def test_csv_export_opens_in_excel_with_local_times_and_vietnamese_headers(
    net: Network, app_client: TestClient
) -> None:
    en = app_client.get("/api/v1/exports/events.csv", headers=H(net, "AUTH"))
    assert en.status_code == 200 and en.content.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    rows = list(csv.DictReader(io.StringIO(en.content.decode("utf-8-sig"))))
    assert rows and list(rows[0])[0] == "eventId"
    for r in rows:  # local time with its offset, never a bare UTC time
        assert re.search(r"[+-]\d\d:\d\d$", r["eventTime"]) and not r["eventTime"].endswith("+00:00"), r["eventTime"]
        assert r["recordTime"].endswith("+07:00"), r["recordTime"]
    vi = app_client.get("/api/v1/exports/events.csv", headers=H(net, "AUTH"), params={"lang": "vi"})
    header = vi.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:4] == ["Mã sự kiện", "Mã băm sự kiện", "Loại sự kiện", "Thời điểm sự kiện"]
    x = app_client.get("/api/v1/exports/events.xlsx", headers=H(net, "AUTH"), params={"lang": "vi"})
    assert load_workbook(io.BytesIO(x.content)).active["D1"].value == "Thời điểm sự kiện"
    bad = app_client.get("/api/v1/exports/events.csv", headers=H(net, "AUTH"), params={"lang": "fr"})
    assert bad.status_code == 422 and "lang" in bad.json()["detail"]


def test_a_lot_under_open_recall_is_not_recalled_again(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    """The same lot twice while its recall is open would notify every holder twice: 409 saying which
    recall; widening a lot recall to downstream is a new recall; once closed, it may be recalled."""
    from traceability_api.authority.recall_notices import close_recall
    from traceability_api.parties.service import authenticate

    c, p11 = app_client, lot_id(runtime, net.lots["P11"])

    def recall(scope: str) -> Any:
        body = {"lot_ids": [p11], "reason": "Dư lượng thuốc BVTV", "scope": scope}
        return c.post("/api/v1/recalls", json=body, headers=H(net, "AUTH"))

    first = recall("lot")
    assert first.status_code == 201, first.text
    again = recall("lot")
    assert again.status_code == 409 and f"open recall #{first.json()['id']}" in again.text, again.text
    wider = recall("downstream")
    assert wider.status_code == 201, wider.text
    assert recall("lot").status_code == 409 and recall("downstream").status_code == 409
    # a lot the downstream recall reached (rice milled from P11) is covered too: no second notice
    r1 = lot_id(runtime, net.lots["R1"])
    for scope in ("lot", "downstream"):
        body = {"lot_ids": [r1], "reason": "Dư lượng thuốc BVTV", "scope": scope}
        made = c.post("/api/v1/recalls", json=body, headers=H(net, "AUTH"))
        assert made.status_code == 409 and f"open recall #{wider.json()['id']}" in made.text, made.text
    with Session(runtime.engine) as s:
        auth = authenticate(s, net.keys["AUTH"])
        for rid in (first.json()["id"], wider.json()["id"]):
            close_recall(s, auth, rid)
        s.commit()
    assert recall("lot").status_code == 201  # closed: the lot may be recalled again


def test_exports_page_through_every_event(net: Network, runtime: Runtime, app_client: TestClient) -> None:
    """An export of more events than ``limit`` says where the next page starts (it ended silently at
    the first 1,000: a province's export was cut short with no hint); the pages hold every event once."""
    c, auth = app_client, H(net, "AUTH")
    whole = c.get("/api/v1/exports/epcis", headers=auth).json()["epcisBody"]["eventList"]
    assert len(whole) > 10
    for path in ("/api/v1/exports/epcis", "/api/v1/exports/events.csv", "/api/v1/exports/events.xlsx"):
        seen: list[Any] = []
        params: dict[str, Any] = {"limit": 10}
        pages = 0
        while True:
            r = c.get(path, headers=auth, params=params)
            assert r.status_code == 200, r.text
            pages += 1
            if path.endswith("csv"):
                seen += [row["eventId"] for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))]
            elif path.endswith("xlsx"):
                seen += [
                    row[0] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(min_row=2, values_only=True)
                ]
            else:
                seen += [e["eventID"] for e in r.json()["epcisBody"]["eventList"]]
            if "X-Next-After-Id" not in r.headers:
                break
            assert 'rel="next"' in r.headers["Link"] and f"after_id={r.headers['X-Next-After-Id']}" in r.headers["Link"]
            params = {"limit": 10, "after_id": r.headers["X-Next-After-Id"]}
        assert len(seen) == len(set(seen)) == len(whole) and pages == -(-len(whole) // 10) + (len(whole) % 10 == 0)
    assert c.get("/api/v1/exports/epcis", headers=auth, params={"after_id": -1}).status_code == 422


def test_mass_balance_leaves_out_events_declared_erroneous(runtime: Runtime, app_client: TestClient) -> None:
    """A sale of 900 kg typed for 90 kg and corrected by an errorDeclaration is not an over-sale: the
    report, the console's figure and its anomaly feed count the corrective event, not the declared one."""
    from tests.world import make_world, obj_event, setup_rice
    from traceability_api.console import anomalies, figures

    w = make_world(runtime, app_client)
    rice = setup_rice(w)  # 1,000 kg
    sale = obj_event(rice["uri"], 900, "retail_selling", time="2025-03-05T08:00:00+07:00")
    r = w.post(w.coop, "/api/v1/events", sale)
    assert r.status_code == 201, r.text
    fixed = obj_event(rice["uri"], 90, "retail_selling", time="2025-03-05T08:00:00+07:00")
    r = w.post(w.coop, f"/api/v1/events/{r.json()['id']}/corrections",
               {"reason": "incorrect_data", "correctiveEvents": [fixed]})  # fmt: skip
    assert r.status_code == 201, r.text
    later = obj_event(rice["uri"], 200, "retail_selling", time="2025-03-06T08:00:00+07:00")
    assert w.post(w.coop, "/api/v1/events", later).status_code == 201  # 290 kg sold in truth
    report = w.get(w.authority, "/api/v1/mass-balance").json()
    row = next(x for x in report["lots"] if x["uri"] == rice["uri"])
    assert row["outflows"] == {str(w.coop.id): 290.0} and not row["flagged"], row
    assert report["flagged"] == 0
    with Session(runtime.engine) as s:
        assert figures.mass_balance_flags(s, figures.Filters()) == []
        assert [a for a in anomalies.feed(s)[0] if a.kind == "mass_balance"] == []
