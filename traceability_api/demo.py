"""Realistic demo data: a Cần Thơ rice cooperative's ST25 paddy, milled and distributed, and a
Tiền Giang mango lot.  Seeded once (skipped when organisations exist); anchored right away."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from labels.digital_link import build
from traceability_api.config import Settings
from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.demo_dongthap import LOTS as DONG_THAP
from traceability_api.demo_dongthap import run_alerts, seed_dong_thap
from traceability_api.demo_guide import save_demo_keys
from traceability_api.demo_national import complete_demo_products
from traceability_api.epcis.builder import object_event, zone_offset
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.evidence.diary import Activity, DiaryEntry, diary_event
from traceability_api.evidence.models import DeviceCreate, SensorKind
from traceability_api.evidence.sensors import create_device, ingest
from traceability_api.evidence.summary import summary_event
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product, find_lot
from traceability_api.parties.models import MemberCreate, Organisation, OrganisationCreate, OrgKind, Role
from traceability_api.parties.service import Principal, create_member, create_organisation, party_uri
from traceability_api.places.models import PlaceCreate, PlaceKind
from traceability_api.places.service import create_place, place_uri
from traceability_api.registries.certificates import records_from_free_text
from traceability_api.runtime import Runtime


def _org(s: Session, name: str, kind: str, address: str, keys: dict[str, str]) -> tuple[Organisation, Principal]:
    org, issued = create_organisation(
        s, OrganisationCreate(name=name, kind=OrgKind(kind), admin_name="Quản trị", address=address)
    )
    assert org.id is not None and issued.member.id is not None
    keys[f"{name} ({kind})"] = issued.api_key  # shown by the demo's start-up guide
    return org, Principal(issued.member.id, "Quản trị", Role.admin, org.id, org.kind)


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the demo's places are in the Mekong Delta


def _ev(step: str, time: str, lot: str | None, qty: float | None = None, **extra: Any) -> dict[str, Any]:
    if lot is None:  # farm work on a plot: no lot exists yet
        return object_event(step, ZONE, when=time, epcs=[], **extra)
    return object_event(step, ZONE, when=time, lot=lot, quantity=qty or None, uom="KGM" if qty else None, **extra)


def _t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _sensors(
    s: Session, mp: Principal, dp: Principal, mill_site: int, rice_gtin: str, st: Settings, checks: Sequence[EventCheck]
) -> None:
    """A temperature logger in the mill's store while the rice was there, summarised on the lot."""
    device, _secret = create_device(
        s,
        mp,
        DeviceCreate(
            name="Kho gạo – nhiệt độ",
            kind=SensorKind.temperature,
            place_id=mill_site,
            threshold_low=15,
            threshold_high=32,
        ),
        st,
    )
    start = _t("2025-03-02T12:00:00+07:00")
    readings = [
        {
            "ts": (start + timedelta(minutes=30 * i)).isoformat(),
            "value": round(27 + 3 * math.sin(i / 8) + (4.5 if 110 < i < 117 else 0), 2),
        }
        for i in range(150)
    ]
    ingest(s, device, readings, st, history=True)
    found = find_lot(s, rice_gtin, "GST25-2503")
    assert found is not None
    capture_events(s, dp, [summary_event(s, found[0], found[1], st.zone)], DEFAULT_CONTEXT, st, checks=checks)


def seed_demo(runtime: Runtime) -> dict[str, str]:
    """Seeds the demo once; returns the main consumer URL.  The demo lots and the admins' API
    keys (demo data only) are remembered for the start-up guide and the landing page."""
    base = runtime.settings.public_base_url
    paddy_gtin, rice_gtin, bran_gtin, mango_gtin = (with_check_digit(f"893{n:010d}") for n in (1001, 1002, 1003, 2001))
    url = build(rice_gtin, "GST25-2503").uri(base)
    runtime.demo_lots = [(rice_gtin, "GST25-2503"), (mango_gtin, "HL-2504"), (paddy_gtin, "TP-2503-12"), *DONG_THAP]
    keys: dict[str, str] = {}
    with Session(runtime.engine) as s:
        if s.exec(select(Organisation)).first() is not None:
            return {"consumer_url": url}
        st = runtime.settings
        capture = partial(capture_events, checks=runtime.capture_checks)
        _org(s, "Chi cục Quản lý chất lượng Nông Lâm Thủy sản Cần Thơ", "authority", "Ninh Kiều, Cần Thơ", keys)
        coop, cp = _org(
            s, "HTX Nông nghiệp Thạnh Phú", "cooperative", "Ấp Thạnh Phú, xã Thạnh Phú, huyện Cờ Đỏ, Cần Thơ", keys
        )
        mill, mp = _org(s, "Công ty Xay xát Gạo Trà Nóc", "processor", "KCN Trà Nóc, Bình Thủy, Cần Thơ", keys)
        dist, dp = _org(s, "Công ty Phân phối Nông sản Mekong", "distributor", "Quận 7, TP. Hồ Chí Minh", keys)
        farm, fp = _org(s, "HTX Xoài cát Hòa Lộc", "cooperative", "Xã Hòa Hưng, huyện Cái Bè, Tiền Giang", keys)
        create_member(s, coop.id or 0, MemberCreate(name="Nguyễn Văn Tư", role=Role.recorder))
        create_product(
            s, cp, ProductCreate(gtin=paddy_gtin, name="Lúa ST25", name_en="ST25 paddy", certifications=["VietGAP"])
        )
        create_product(
            s,
            mp,
            ProductCreate(
                gtin=rice_gtin,
                name="Gạo ST25 Thạnh Phú",
                name_en="Thanh Phu ST25 rice",
                brand="Gạo Thạnh Phú",
                ocop_stars=4,
                shelf_life_days=365,
                certifications=["VietGAP", "OCOP 4 sao"],
            ),
        )
        create_product(s, mp, ProductCreate(gtin=bran_gtin, name="Cám gạo", name_en="Rice bran"))
        create_product(
            s,
            fp,
            ProductCreate(
                gtin=mango_gtin,
                name="Xoài cát Hòa Lộc",
                name_en="Hoa Loc mango",
                ocop_stars=5,
                certifications=["GlobalGAP"],
            ),
        )
        plot = create_place(
            s,
            cp,
            PlaceCreate(
                kind=PlaceKind.plot,
                name="Cánh đồng lớn Thạnh Phú, thửa 12",  # type: ignore[arg-type]
                planting_area_code="CT-CD-TP-012",
                area_ha=4.5,
                geo={
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [105.5801, 10.1203],
                            [105.5842, 10.1203],
                            [105.5842, 10.1241],
                            [105.5801, 10.1241],
                            [105.5801, 10.1203],
                        ]
                    ],
                },
            ),
        )
        mill_site = create_place(s, mp, PlaceCreate(kind=PlaceKind.mill, name="Nhà máy Trà Nóc"))  # type: ignore[arg-type]
        store = create_place(  # a GLN-identified warehouse: its stages carry a GS1 location trace code
            s, dp, PlaceCreate(kind=PlaceKind.warehouse, name="Kho Mekong Quận 7", gln=with_check_digit("893000000450"))
        )
        store_loc = {"id": place_uri(store)}
        orchard = create_place(
            s,
            fp,
            PlaceCreate(
                kind=PlaceKind.plot,
                name="Vườn xoài ông Sáu",
                planting_area_code="TG-CB-0045",  # type: ignore[arg-type]
                geo={"type": "Point", "coordinates": [106.0312, 10.3355]},
            ),
        )
        s.flush()
        paddy = lot_uri(paddy_gtin, "TP-2503-12")
        plot_loc = {"id": place_uri(plot)}
        season = "Đông Xuân 2024-2025"
        diary = [
            DiaryEntry(activity=Activity.land_preparation, time=_t("2024-11-20T07:00:00+07:00"), season=season),
            DiaryEntry(
                activity=Activity.sowing,
                time=_t("2024-11-25T06:30:00+07:00"),
                season=season,
                note="Giống ST25 xác nhận, 80 kg/ha",
            ),
            DiaryEntry(
                activity=Activity.fertilising,
                time=_t("2024-12-10T07:00:00+07:00"),
                season=season,
                product="NPK Đầu Trâu 20-20-15",
                active_ingredient="N-P2O5-K2O",
                dose=150,
                dose_unit="kg/ha",
                area_ha=4.5,
                supplier_lot="DT-2411-07",
            ),
            DiaryEntry(
                activity=Activity.spraying,
                time=_t("2025-01-15T16:30:00+07:00"),
                season=season,
                product="Anvil 5SC",
                active_ingredient="hexaconazole",
                dose=1.0,
                dose_unit="l/ha",
                area_ha=4.5,
                phi_days=14,
                supplier_lot="AV-2412-03",
            ),
            DiaryEntry(activity=Activity.irrigating, time=_t("2025-02-01T06:00:00+07:00"), season=season, water_mm=40),
        ]
        capture(s, cp, [diary_event(s, cp, plot.id or 0, e, st.zone) for e in diary], DEFAULT_CONTEXT, st)
        harvest = _ev(
            "commissioning", "2025-03-01T09:00:00+07:00", paddy, 28000, action="ADD", disposition="active",
            bizLocation=plot_loc,
            ilmd={"agri:plot": place_uri(plot), "agri:harvestDate": "2025-03-01", "agri:variety": "ST25"},
        )  # fmt: skip
        inspect = _ev("inspecting", "2025-03-01T15:00:00+07:00", paddy, 5, bizLocation=plot_loc)
        capture(s, cp, [harvest, inspect], DEFAULT_CONTEXT, st)
        ship = _ev(
            "shipping",
            "2025-03-02T07:00:00+07:00",
            paddy,
            28000,
            readPoint=plot_loc,  # every stage names where it happened (national record: location trace code)
            sourceList=[{"type": "possessing_party", "source": party_uri(coop)}],
            destinationList=[{"type": "possessing_party", "destination": party_uri(mill)}],
        )
        capture(s, cp, [ship], DEFAULT_CONTEXT, st)
        recv = _ev(
            "receiving",
            "2025-03-02T13:00:00+07:00",
            paddy,
            None,
            readPoint={"id": place_uri(mill_site)},
            destinationList=[{"type": "owning_party", "destination": party_uri(mill)}],
        )
        rice = lot_uri(rice_gtin, "GST25-2503")
        milling = {
            "type": "TransformationEvent",
            "eventTime": "2025-03-04T08:00:00+07:00",
            "eventTimeZoneOffset": zone_offset("2025-03-04T08:00:00+07:00", ZONE),
            "bizStep": "commissioning",
            "readPoint": {"id": place_uri(mill_site)},
            "inputQuantityList": [{"epcClass": paddy, "quantity": 28000, "uom": "KGM"}],
            "outputQuantityList": [
                {"epcClass": rice, "quantity": 17500, "uom": "KGM"},
                {"epcClass": lot_uri(bran_gtin, "CB-2503"), "quantity": 2600, "uom": "KGM"},
            ],
        }
        capture(
            s,
            mp,
            [
                recv,
                milling,
                _ev("packing", "2025-03-04T14:00:00+07:00", rice, 17500, readPoint={"id": place_uri(mill_site)}),
            ],
            DEFAULT_CONTEXT,
            st,
        )
        capture(
            s,
            mp,
            [
                _ev(
                    "shipping",
                    "2025-03-05T06:00:00+07:00",
                    rice,
                    17500,
                    readPoint={"id": place_uri(mill_site)},
                    destinationList=[{"type": "possessing_party", "destination": party_uri(dist)}],
                )
            ],
            DEFAULT_CONTEXT,
            st,
        )
        capture(
            s,
            dp,
            [
                _ev("receiving", "2025-03-05T16:00:00+07:00", rice, None, readPoint=store_loc),
                _ev("storing", "2025-03-05T17:00:00+07:00", rice, None, readPoint=store_loc),
            ],
            DEFAULT_CONTEXT,
            st,
        )
        mango = _ev(
            "commissioning", "2025-04-10T06:00:00+07:00", lot_uri(mango_gtin, "HL-2504"), 1200, action="ADD",
            bizLocation={"id": place_uri(orchard)},
            ilmd={"agri:plot": place_uri(orchard), "agri:harvestDate": "2025-04-10"},
        )  # fmt: skip
        capture(s, fp, [mango], DEFAULT_CONTEXT, st)
        _sensors(s, mp, dp, mill_site.id or 0, rice_gtin, st, runtime.capture_checks)
        seed_dong_thap(s, runtime, _org, keys)  # Đồng Tháp: mango, rice–fish, duck eggs, pangasius, flowers
        records_from_free_text(s)  # the demo's "VietGAP", "OCOP 4 sao" become certificate records
        complete_demo_products(s)  # brand, picture, shelf life, standards: complete national records
        s.commit()
    run_alerts(runtime)
    save_demo_keys(st, keys)
    if runtime.worker is not None:
        runtime.worker.run_once()
    return {"consumer_url": url}
