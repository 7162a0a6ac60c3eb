"""The FSMA 204 rows read with the JSON fields extracted by the database (``fsma.records``, the fast
path) are the rows the previous Python path built (``tests/fsma_reference.py``, kept as the
oracle): on the demo export chains and on a generated data set with the awkward cases (no lists,
non-object entries, CBV URIs and bare words as party types, a location destination, a receipt that
names no source, TLC sources by place URI, stocking, transformations with inputs), on SQLite and
PostgreSQL; and the CSV written from them is the same bytes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session

from tests import fsma_reference
from traceability_api.db import make_engine, migrate
from traceability_api.events.models import Event, EventLot
from traceability_api.fsma import sheet
from traceability_api.fsma.records import Selection, rows
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Member, Organisation
from traceability_api.places.models import Place

BT = "https://ref.gs1.org/cbv/BizStep-"
STEPS = [BT + "commissioning", "https://ns.agritrace.vn/voc/BizStep-cooling", BT + "shipping", BT + "receiving"]
GTINS = ["08930000030012", "08930000030029"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


def _same(engine: Engine, sel: Selection) -> int:
    with Session(engine) as s:
        fast = rows(s, sel)
    with Session(engine) as s:
        slow = fsma_reference.rows(s, sel)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert sheet.to_csv(fast) == fsma_reference.to_csv(slow)
    return len(fast)


def _party(kind: str, uri: str, key: str) -> dict[str, Any]:
    return {"type": kind, key: uri}


def _generate(engine: Engine, n_lots: int, seed: int = 7) -> None:
    """Lots harvested (or stocked), cooled, shipped and received, some packed or transformed into
    new lots, with every shape of list the rows read."""
    rnd = random.Random(seed)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    orgs = [
        {"id": 1, "name": "HTX Xoài Mỹ Xương", "kind": "cooperative", "address": "Xã Mỹ Xương, Đồng Tháp",
         "phone": "+84 277 3851 012", "created_at": now},
        {"id": 2, "name": "Kho lạnh Mỹ Hiệp", "kind": "distributor", "address": None, "phone": None,
         "created_at": now},
        {"id": 3, "name": "Nhà đóng gói Cao Lãnh", "kind": "processor", "address": "Quốc lộ 30",
         "phone": "+84 277 3852 310", "created_at": now},
    ]  # fmt: skip
    places = [
        {"id": i, "org_id": 1, "kind": "plot" if i < 6 else "pond", "name": f"Vườn số {i}, ấp Mỹ Thạnh",
         "planting_area_code": f"VN-DTCL-{i}" if i % 2 else None, "sector_code": None if i % 2 else f"DT-{i}",
         "geo": {"type": "Point", "coordinates": [105.65 + i / 1000, 10.4]} if i != 3 else None,
         "gln": "8930000000017" if i == 4 else None, "address": None, "created_at": now}
        for i in range(1, 9)
    ] + [{"id": 9, "org_id": 2, "kind": "warehouse", "name": "Kho lạnh buồng 2", "planting_area_code": None,
          "sector_code": None, "geo": None, "gln": None, "address": "Mỹ Hiệp", "created_at": now}]  # fmt: skip
    products = [
        {"id": i + 1, "gtin": g, "org_id": 1, "name": "Xoài cát Chu" if i == 0 else "Cá tra phi lê",
         "name_en": "Cat Chu mango" if i == 0 else None, "description": "Loại 1" if i else None, "unit": "KGM",
         "certifications": [], "standards": [], "created_at": now}
        for i, g in enumerate(GTINS)
    ]  # fmt: skip
    parties = ["urn:agritrace:party:1", "urn:agritrace:party:2", "urn:agritrace:party:3", "urn:epc:id:sgln:x.y.0"]
    kinds = [
        "owning_party",
        "possessing_party",
        "https://ref.gs1.org/cbv/SDT-owning_party",
        "location",
        "other",
    ]
    lots: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []

    def lists() -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "ObjectEvent"}
        r = rnd.random()
        if r < 0.8:
            doc["bizTransactionList"] = [
                {"type": rnd.choice(["inv", "cbv:BTT-po", "https://ref.gs1.org/cbv/BTT-bol", "agri:BTT-phyto"]),
                 "bizTransaction": rnd.choice([f"urn:agritrace:doc:HD-{rnd.randrange(999)}",
                                               f"urn:epcglobal:cbv:bt:8930000000017:PO-{rnd.randrange(99)}"])}
                for _ in range(rnd.randrange(0, 3))
            ] + ([7] if rnd.random() < 0.1 else [])  # fmt: skip
        elif r < 0.85:
            doc["bizTransactionList"] = {"type": "inv"}
        for name, key in (("sourceList", "source"), ("destinationList", "destination")):
            if rnd.random() < 0.85:
                doc[name] = [
                    _party(rnd.choice(kinds), rnd.choice(parties), key) for _ in range(rnd.randrange(0, 4))
                ] + (["x"] if rnd.random() < 0.05 else [])
        if rnd.random() < 0.3:
            doc["eventTimeZoneOffset"] = rnd.choice(["+07:00", "-05:00", "bad"])
        return doc

    def event(lot_id: int, step: str | None, t: datetime, org: int, etype: str = "ObjectEvent", **doc: Any) -> int:
        eid = len(events) + 1
        document = lists() | doc
        events.append({
            "id": eid, "org_id": org, "member_id": 1, "client_event_id": f"e{eid}", "hash_id": f"ni:///h{eid}",
            "event_type": etype, "biz_step": step, "event_time": t, "record_time": t,
            "place_id": rnd.choice([None, 9, 1 + eid % 8]), "document": document,
        })  # fmt: skip
        if etype == "ObjectEvent":
            links.append({"event_id": eid, "lot_id": lot_id, "role": "epc",
                          "quantity": rnd.choice([None, 1000.0, 12.5]), "uom": rnd.choice([None, "KGM"])})  # fmt: skip
        return eid

    for i in range(1, n_lots + 1):
        t = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i * 7)
        product = 1 + i % 2
        lots.append({
            "id": i, "product_id": product, "lot_code": f"MX-{i:05d}", "owner_org_id": 1 + i % 3, "holder_org_id": 3,
            "quantity": 1000, "quantity_remaining": 1000, "uom": "KGM",
            "origin_place_id": None if i % 9 == 0 else 1 + i % 8,
            "harvest_date": date(2025, 1, 1) + timedelta(days=i % 300) if i % 5 else None, "ilmd": {},
            "created_at": now,
        })  # fmt: skip
        ilmd: dict[str, Any] = {"agri:variety": "Cát Chu"} if i % 3 else {}
        if i % 4 == 0:
            ilmd["agri:tlcSource"] = rnd.choice(
                ["urn:agritrace:place:9", "urn:agritrace:place:2", "https://id.gs1.org/414/8930000000017"]
            )
            ilmd["agri:tlcSourceReference"] = "Mã cơ sở PH-DT-0031"
        if i % 11 == 0:
            ilmd["agri:activity"] = "stocking"
        event(i, STEPS[0], t, 1, ilmd=ilmd)
        if i % 2:
            event(i, STEPS[1], t + timedelta(hours=1), 2)
        if i % 7:
            event(
                i, STEPS[2], t + timedelta(hours=2), 1 + i % 3, **{"agri:destinationMarket": rnd.choice(["US", "CN"])}
            )
        if i % 6:
            event(i, STEPS[3], t + timedelta(hours=3), 3)
    for j in range(n_lots // 4):  # packings and transformations of earlier lots into new ones
        out_id = n_lots + j + 1
        t = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=j * 28 + 5)
        lots.append({
            "id": out_id, "product_id": 1 + j % 2, "lot_code": f"PK-{j:05d}", "owner_org_id": 3, "holder_org_id": 3,
            "quantity": 500, "quantity_remaining": 500, "uom": "KGM", "origin_place_id": None, "harvest_date": None,
            "ilmd": {}, "created_at": now,
        })  # fmt: skip
        step = BT + "packing" if j % 2 else BT + "commissioning"
        eid = event(
            0, step, t, 3, "TransformationEvent", ilmd={"agri:tlcSource": "urn:agritrace:place:9"} if j % 3 else {}
        )
        links.append({"event_id": eid, "lot_id": out_id, "role": "output", "quantity": 500.0, "uom": "KGM"})
        for k in range(rnd.randrange(0, 3)):
            links.append({"event_id": eid, "lot_id": 1 + (4 * j + k) % n_lots, "role": "input",
                          "quantity": rnd.choice([None, 250.0]), "uom": "KGM"})  # fmt: skip
    with engine.begin() as c:
        c.execute(insert(Organisation.__table__), orgs)  # type: ignore[attr-defined]
        c.execute(insert(Member.__table__), [{"id": 1, "org_id": 1, "name": "a", "role": "admin", "created_at": now}])  # type: ignore[attr-defined]
        c.execute(insert(Place.__table__), places)  # type: ignore[attr-defined]
        c.execute(insert(Product.__table__), products)  # type: ignore[attr-defined]
        c.execute(insert(Lot.__table__), lots)  # type: ignore[attr-defined]
        c.execute(insert(Event.__table__), events)  # type: ignore[attr-defined]
        c.execute(insert(EventLot.__table__), links)  # type: ignore[attr-defined]


def test_fast_rows_equal_the_python_path_on_a_generated_data_set(engine: Engine) -> None:
    _generate(engine, 240)
    assert _same(engine, Selection()) > 700
    for g in GTINS:
        assert _same(engine, Selection(gtin=g)) > 300
    assert _same(engine, Selection(gtin=GTINS[0], since=datetime(2025, 2, 1, tzinfo=UTC),
                                   until=datetime(2025, 3, 1, tzinfo=UTC))) > 10  # fmt: skip
    assert _same(engine, Selection(tlc_from="MX-00010", tlc_to="MX-00090", org_id=1)) > 10
    assert _same(engine, Selection(lot_ids=(1, 2, 3, 241, 242, 243))) > 5
    # a reader who may not read the distributor's events (its coolings and some shipments)
    assert _same(engine, Selection(gtin=GTINS[0], visible=Event.org_id != 2)) > 100  # type: ignore[arg-type]


@pytest.mark.slow
def test_fast_rows_equal_the_python_path_on_the_demo_chains(tmp_path: Path, database_url: str) -> None:
    from tests.test_fsma import _seed
    from traceability_api.compose import build_runtime
    from traceability_api.config import Settings

    rt = build_runtime(
        Settings(data_dir=tmp_path / "var", database_url=database_url, anchor_worker=False), with_chain=False
    )
    try:
        _seed(rt)
        assert _same(rt.engine, Selection()) > 20
        with Session(rt.engine) as s:
            gtins = {p.gtin for p in s.exec(__import__("sqlmodel").select(Product)).all()}
        for g in sorted(gtins):
            _same(rt.engine, Selection(gtin=g))
        assert _same(rt.engine, Selection(ftl_only=True)) > 10
    finally:
        rt.close()
