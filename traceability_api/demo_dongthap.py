"""Demo data for Đồng Tháp's chains, with real place names: Cao Lãnh mango (Mỹ Xương cooperative →
packhouse → exporter), Tháp Mười rice–fish (7.2 t of the paddy split off and sold to a trader), Tân
Hồng duck eggs (flock → salted eggs → shop, with serialised trays), a Thanh Bình pangasius pond
(tagged broodstock, withdrawal period, dissolved-oxygen sensor with a sustained breach) and Sa Đéc
flowers (pots).  Seeded by ``seed_demo`` with the rest."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.demo_fsma import seed_export_chains
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.events.serials import commission_serials
from traceability_api.events.split import split_event
from traceability_api.evidence.diary import Activity as Crop
from traceability_api.evidence.diary import DiaryEntry, diary_event
from traceability_api.evidence.models import DeviceCreate, SensorKind
from traceability_api.evidence.sensors import create_device, ingest
from traceability_api.husbandry.activities import ActivityEntry, activity_event
from traceability_api.husbandry.alerts import AlertWatcher
from traceability_api.husbandry.animals import AnimalCreate, anchor_placement, register
from traceability_api.husbandry.models import ThresholdSet
from traceability_api.husbandry.thresholds import set_threshold
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product, find_lot
from traceability_api.parties.service import Principal, party_uri
from traceability_api.places.models import Place, PlaceCreate, PlaceKind
from traceability_api.places.service import create_place, place_uri
from traceability_api.runtime import Runtime

G = {name: with_check_digit(f"893{n:010d}") for name, n in (
    ("mango", 3001), ("mango_box", 3002), ("paddy", 3101), ("fish_fry", 3102), ("snakehead", 3103),
    ("ducklings", 3201), ("eggs", 3202), ("salted", 3203), ("tra_fry", 3301), ("tra", 3302), ("chrysanthemum", 3401),
)}  # fmt: skip
LOTS = [(G["mango_box"], "XCL-2505-01"), (G["snakehead"], "CL-TM-2511"), (G["salted"], "TVM-2510-01"),
        (G["tra"], "CT-TB-2509"), (G["chrysanthemum"], "CMX-2512"), (G["paddy"], "LTM-2510-1")]  # fmt: skip
Org = Callable[[Session, str, str, str, dict[str, str]], tuple[Any, Principal]]


def _t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


class _Seeder:
    def __init__(self, s: Session, runtime: Runtime) -> None:
        self.s, self.rt, self.st = s, runtime, runtime.settings
        self.capture = partial(capture_events, checks=runtime.capture_checks)

    def events(self, p: Principal, events: list[dict[str, Any]]) -> None:
        self.capture(self.s, p, events, DEFAULT_CONTEXT, self.st)

    def act(self, p: Principal, place: Place, **kw: Any) -> None:
        self.events(p, [activity_event(place, ActivityEntry(**kw), self.st.zone)])

    def place(self, p: Principal, **kw: Any) -> Place:
        return create_place(self.s, p, PlaceCreate(**kw))

    def product(self, p: Principal, key: str, name: str, name_en: str, unit: str = "KGM", **kw: Any) -> None:
        create_product(self.s, p, ProductCreate(gtin=G[key], name=name, name_en=name_en, unit=unit, **kw))

    def move(self, frm: tuple[Any, Principal], to: tuple[Any, Principal], lot: str, qty: float, uom: str,
             ship: str, recv: str, at: Place | None = None, frm_at: Place | None = None) -> None:  # fmt: skip
        dest = [{"type": "possessing_party", "destination": party_uri(to[0])},
                {"type": "owning_party", "destination": party_uri(to[0])}]  # fmt: skip
        origin: dict[str, Any] = {"readPoint": {"id": place_uri(frm_at)}} if frm_at is not None else {}
        self.events(frm[1], [object_event("shipping", self.st.zone, when=ship, lot=lot, quantity=qty, uom=uom,
                                          sourceList=[{"type": "possessing_party", "source": party_uri(frm[0])}],
                                          destinationList=dest, **origin)])  # fmt: skip
        extra: dict[str, Any] = {"readPoint": {"id": place_uri(at)}} if at is not None else {}
        self.events(to[1], [object_event("receiving", self.st.zone, when=recv, lot=lot, destinationList=dest[1:],
                                         **extra)])  # fmt: skip


def seed_dong_thap(s: Session, runtime: Runtime, org: Org, keys: dict[str, str]) -> None:
    d = _Seeder(s, runtime)
    org(s, "Chi cục Chăn nuôi, Thú y và Thủy sản Đồng Tháp", "authority", "Phường 1, TP. Cao Lãnh, Đồng Tháp", keys)
    mango = _mango(d, org, keys)
    _rice_fish(d, org, keys)
    _duck_eggs(d, org, keys)
    fish = _pangasius(d, org, keys)
    _flowers(d, org, keys)
    seed_export_chains(s, runtime, org, keys, mango, fish)  # FSMA 204 chains to a US importer


def _mango(d: _Seeder, org: Org, keys: dict[str, str]) -> dict[str, Any]:
    coop = org(d.s, "HTX Xoài Mỹ Xương", "cooperative", "Ấp Mỹ Thạnh, xã Mỹ Xương, huyện Cao Lãnh, Đồng Tháp", keys)
    pack = org(d.s, "Nhà đóng gói Xoài Cao Lãnh", "processor", "Xã Mỹ Hiệp, huyện Cao Lãnh, Đồng Tháp", keys)
    exp = org(d.s, "Công ty Xuất khẩu Nông sản Sa Giang", "distributor", "KCN Sa Đéc, TP. Sa Đéc, Đồng Tháp", keys)
    d.product(
        coop[1],
        "mango",
        "Xoài cát Chu Cao Lãnh",
        "Cao Lanh Cat Chu mango",
        certifications=["VietGAP"],
        ftl_category="Tropical tree fruits",
    )
    d.product(
        pack[1],
        "mango_box",
        "Xoài cát Chu Cao Lãnh – thùng xuất khẩu",
        "Cao Lanh Cat Chu mango, export pack",
        brand="Xoài Cao Lãnh",
        ocop_stars=4,
        shelf_life_days=21,
        certifications=["VietGAP", "GlobalGAP"],
        ftl_category="Tropical tree fruits",
    )
    orchard = d.place(coop[1], kind=PlaceKind.plot, name="Vườn xoài ông Ba Tâm, ấp Mỹ Thạnh, xã Mỹ Xương",
                      planting_area_code="VN-DTCL-MX-0012", area_ha=1.6, commune="Mỹ Xương",
                      district="Cao Lãnh", province="Đồng Tháp",
                      geo={"type": "Point", "coordinates": [105.6547, 10.4097]})  # fmt: skip
    site = d.place(pack[1], kind=PlaceKind.packhouse, name="Nhà đóng gói xã Mỹ Hiệp", sector_code="PH-DT-0031",
                   commune="Mỹ Hiệp", district="Cao Lãnh", province="Đồng Tháp",
                   geo={"type": "Point", "coordinates": [105.8036, 10.3997]})  # fmt: skip
    d.events(coop[1], [diary_event(d.s, coop[1], orchard.id or 0, e, d.st.zone) for e in (
        DiaryEntry(activity=Crop.pruning, time=_t("2025-01-05T07:00:00+07:00")),
        DiaryEntry(activity=Crop.fertilising, time=_t("2025-02-10T07:00:00+07:00"), product="Phân hữu cơ Sông Gianh",
                   active_ingredient="hữu cơ 15%", dose=2, dose_unit="kg/cây"),
        DiaryEntry(activity=Crop.bagging, time=_t("2025-03-20T07:00:00+07:00"), note="Bao trái 45 ngày tuổi"),
    )])  # fmt: skip
    fresh = lot_uri(G["mango"], "MX-2505-07")
    d.events(
        coop[1],
        [
            object_event(
                "commissioning",
                d.st.zone,
                when="2025-05-07T06:00:00+07:00",
                action="ADD",
                lot=fresh,
                quantity=2400,
                uom="KGM",
                bizLocation={"id": place_uri(orchard)},
                ilmd={"agri:plot": place_uri(orchard), "agri:harvestDate": "2025-05-07"},
            )
        ],
    )
    d.move(coop, pack, fresh, 2400, "KGM", "2025-05-07T10:00:00+07:00", "2025-05-07T13:00:00+07:00", site, orchard)
    boxed = lot_uri(G["mango_box"], "XCL-2505-01")
    d.events(pack[1], [{"type": "TransformationEvent", "eventTime": "2025-05-08T08:00:00+07:00",
                        "eventTimeZoneOffset": "+07:00", "bizStep": "commissioning",
                        "readPoint": {"id": place_uri(site)},
                        "inputQuantityList": [{"epcClass": fresh, "quantity": 2400, "uom": "KGM"}],
                        "outputQuantityList": [{"epcClass": boxed, "quantity": 2.1, "uom": "TNE"}]}])  # fmt: skip
    depot = d.place(
        exp[1], kind=PlaceKind.warehouse, name="Kho lạnh Sa Giang, KCN Sa Đéc", gln=with_check_digit("893000000451")
    )
    d.move(pack, exp, boxed, 2.1, "TNE", "2025-05-09T06:00:00+07:00", "2025-05-09T11:00:00+07:00", depot, site)
    return {"coop": coop, "pack": pack, "exp": exp, "orchard": orchard, "site": site,
            "gtin_fresh": G["mango"], "gtin_box": G["mango_box"]}  # fmt: skip


def _rice_fish(d: _Seeder, org: Org, keys: dict[str, str]) -> None:
    coop = org(d.s, "HTX Nông nghiệp Trường Xuân", "cooperative", "Ấp 4, xã Trường Xuân, huyện Tháp Mười, Đồng Tháp",
               keys)  # fmt: skip
    d.product(coop[1], "paddy", "Lúa ruộng lúa–cá Tháp Mười", "Thap Muoi rice–fish paddy", certifications=["VietGAP"])
    d.product(coop[1], "fish_fry", "Cá lóc giống", "Snakehead fry", unit="NAR")
    d.product(
        coop[1], "snakehead", "Cá lóc đồng ruộng lúa–cá Tháp Mười", "Thap Muoi rice-field snakehead", shelf_life_days=3
    )
    field = d.place(coop[1], kind=PlaceKind.plot, name="Ruộng lúa–cá ấp 4, xã Trường Xuân",
                    planting_area_code="VN-DTTM-TX-0105", area_ha=3.2, commune="Trường Xuân",
                    district="Tháp Mười", province="Đồng Tháp",
                    geo={"type": "Point", "coordinates": [105.7921, 10.5862]})  # fmt: skip
    ditch = d.place(coop[1], kind=PlaceKind.pond, name="Mương bao nuôi cá, ruộng ấp 4 Trường Xuân",
                    sector_code="DT-TM-VN-0105", parent_id=field.id, commune="Trường Xuân",
                    district="Tháp Mười", province="Đồng Tháp")  # fmt: skip
    d.events(coop[1], [diary_event(d.s, coop[1], field.id or 0, DiaryEntry(
        activity=Crop.sowing, time=_t("2025-07-20T06:30:00+07:00"), season="Hè Thu 2025", note="Giống OM18, sạ thưa"),
        d.st.zone)])  # fmt: skip
    d.act(
        coop[1],
        ditch,
        activity="stocking",
        time=_t("2025-08-05T07:00:00+07:00"),
        gtin=G["fish_fry"],
        lot_code="LG-2508",
        quantity=3000,
        source="Trại giống cá lóc Tân Hồng",
    )
    d.act(
        coop[1],
        ditch,
        activity="feeding",
        time=_t("2025-09-10T07:00:00+07:00"),
        product="Cám viên 35% đạm",
        supplier_lot="CV-2509",
        quantity=60,
    )
    d.events(
        coop[1],
        [
            object_event(
                "commissioning",
                d.st.zone,
                when="2025-10-28T07:00:00+07:00",
                action="ADD",
                lot=lot_uri(G["paddy"], "LTM-2510"),
                quantity=19200,
                uom="KGM",
                bizLocation={"id": place_uri(field)},
                ilmd={"agri:plot": place_uri(field), "agri:harvestDate": "2025-10-28"},
            )
        ],
    )
    # the usual sale in Đồng Tháp: part of a harvest to a rice trader, split off into a lot of its own
    trader = org(d.s, "Vựa lúa Tư Hòa Tháp Mười", "distributor", "Thị trấn Mỹ An, huyện Tháp Mười, Đồng Tháp", keys)
    found = find_lot(d.s, G["paddy"], "LTM-2510")
    assert found is not None
    code, split = split_event(
        d.s, *found, 7200, d.st.zone, when="2025-10-30T07:00:00+07:00", readPoint={"id": place_uri(field)}
    )
    d.events(coop[1], [split])
    d.move(coop, trader, lot_uri(G["paddy"], code), 7200, "KGM", "2025-10-30T07:30:00+07:00",
           "2025-10-30T10:00:00+07:00", frm_at=field)  # fmt: skip
    d.act(
        coop[1],
        ditch,
        activity="fish_harvest",
        time=_t("2025-11-03T06:00:00+07:00"),
        gtin=G["snakehead"],
        lot_code="CL-TM-2511",
        quantity=540,
    )


def _duck_eggs(d: _Seeder, org: Org, keys: dict[str, str]) -> None:
    farm = org(d.s, "Tổ hợp tác chăn nuôi vịt Tân Hộ Cơ", "cooperative",
               "Ấp Gò Bói, xã Tân Hộ Cơ, huyện Tân Hồng, Đồng Tháp", keys)  # fmt: skip
    shop = org(d.s, "Cửa hàng Đặc sản Đất Sen Hồng", "retailer", "Đường Nguyễn Huệ, Phường 1, TP. Cao Lãnh", keys)
    p = farm[1]
    d.product(p, "ducklings", "Vịt đẻ Khaki Campbell", "Khaki Campbell laying ducks", unit="NAR")
    d.product(p, "eggs", "Trứng vịt tươi Tân Hồng", "Tan Hong fresh duck eggs", unit="H87")
    d.product(
        p,
        "salted",
        "Trứng vịt muối Tân Hồng",
        "Tan Hong salted duck eggs",
        unit="H87",
        brand="Vịt Gò Bói",
        ocop_stars=3,
        shelf_life_days=30,
    )
    house = d.place(
        p,
        kind=PlaceKind.flock_house,
        name="Trại vịt đẻ ấp Gò Bói, xã Tân Hộ Cơ",
        sector_code="DT-CN-TH-0207",
        commune="Tân Hộ Cơ",
        district="Tân Hồng",
        province="Đồng Tháp",
        geo={"type": "Point", "coordinates": [105.4619, 10.8611]},
    )
    kitchen = d.place(p, kind=PlaceKind.packhouse, name="Cơ sở muối trứng Gò Bói", sector_code="DT-CB-TH-0012",
                      commune="Tân Hộ Cơ", district="Tân Hồng", province="Đồng Tháp")  # fmt: skip
    d.act(
        p,
        house,
        activity="stocking",
        time=_t("2025-04-02T07:00:00+07:00"),
        gtin=G["ducklings"],
        lot_code="DE-2504",
        quantity=1500,
        source="Trại vịt giống Hồng Ngự",
    )
    d.act(
        p,
        house,
        activity="vaccination",
        time=_t("2025-04-20T07:00:00+07:00"),
        product="Navetco H5N1 Re-6",
        disease="Cúm gia cầm H5N1",
        quantity=1500,
    )
    d.act(
        p,
        house,
        activity="veterinary_drug",
        time=_t("2025-09-15T07:00:00+07:00"),
        product="Amoxicillin 10%",
        active_ingredient="amoxicillin",
        dose=1,
        dose_unit="g/lít nước",
        withdrawal_days=7,
    )
    d.act(
        p,
        house,
        activity="feeding",
        time=_t("2025-10-01T06:00:00+07:00"),
        product="Thức ăn vịt đẻ CP 9544",
        supplier_lot="CP-2509-22",
        quantity=180,
    )
    d.act(
        p,
        house,
        activity="egg_collection",
        time=_t("2025-10-02T06:30:00+07:00"),
        gtin=G["eggs"],
        lot_code="TV-251002",
        quantity=1320,
        grade="A",
        flock_gtin=G["ducklings"],
        flock_lot_code="DE-2504",
    )
    salted = lot_uri(G["salted"], "TVM-2510-01")
    d.act(
        p,
        kitchen,
        activity="egg_processing",
        time=_t("2025-10-03T08:00:00+07:00"),
        method="salting",
        input_gtin=G["eggs"],
        input_lot_code="TV-251002",
        input_quantity=1320,
        gtin=G["salted"],
        lot_code="TVM-2510-01",
        quantity=1300,
    )
    found = find_lot(d.s, G["salted"], "TVM-2510-01")
    assert found is not None
    commission_serials(d.s, p, found[0], found[1], 3, d.st, checks=d.rt.capture_checks,
                       read_point=place_uri(kitchen))  # three printed trays  # fmt: skip
    counter = d.place(shop[1], kind=PlaceKind.store, name="Cửa hàng Đất Sen Hồng, Phường 1, TP. Cao Lãnh",
                      gln=with_check_digit("893000000452"))  # fmt: skip
    d.move(farm, shop, salted, 1300, "H87", "2025-10-25T07:00:00+07:00", "2025-10-25T10:00:00+07:00", counter, kitchen)
    d.events(shop[1], [object_event("retail_selling", d.st.zone, when="2025-10-26T09:00:00+07:00", lot=salted,
                                    quantity=60, uom="H87", readPoint={"id": place_uri(counter)})])  # fmt: skip


def _pangasius(d: _Seeder, org: Org, keys: dict[str, str]) -> dict[str, Any]:
    farm = org(d.s, "HTX Thủy sản Tân Thạnh", "cooperative", "Xã Tân Thạnh, huyện Thanh Bình, Đồng Tháp", keys)
    p = farm[1]
    d.product(p, "tra_fry", "Cá tra giống", "Pangasius fingerlings", unit="NAR")
    d.product(
        p,
        "tra",
        "Cá tra nguyên liệu Thanh Bình",
        "Thanh Binh pangasius",
        certifications=["ASC", "VietGAP"],
        ftl_category="Finfish",
    )
    hatchery = d.place(p, kind=PlaceKind.hatchery, name="Trại cá giống Tân Thạnh", sector_code="DT-TG-TB-0009",
                       commune="Tân Thạnh", district="Thanh Bình", province="Đồng Tháp")  # fmt: skip
    pond = d.place(p, kind=PlaceKind.pond, name="Ao nuôi cá tra số 5, xã Tân Thạnh", sector_code="DT-VNTS-TB-0005",
                   commune="Tân Thạnh", district="Thanh Bình", province="Đồng Tháp",
                   area_ha=1.2, geo={"type": "Point", "coordinates": [105.5003, 10.5412]})  # fmt: skip
    for chip, sex in (("704000012345601", "female"), ("704000012345602", "male")):
        fish = register(
            d.s,
            p,
            AnimalCreate(
                species="Cá tra bố mẹ (Pangasianodon hypophthalmus)",
                chip=chip,
                sex=sex,
                place_id=hatchery.id or 0,
                time=_t("2024-11-01T08:00:00+07:00"),
            ),
            d.st.zone,
        )
        anchor_placement(d.s, p, fish, d.st, d.rt.capture_checks)  # the stay is hashed and anchored
    d.act(
        p,
        pond,
        activity="stocking",
        time=_t("2025-03-01T07:00:00+07:00"),
        gtin=G["tra_fry"],
        lot_code="GT-2503",
        quantity=180000,
        source="Trại cá giống Tân Thạnh (cá bố mẹ gắn chip)",
    )
    d.act(
        p,
        pond,
        activity="water_treatment",
        time=_t("2025-05-10T07:00:00+07:00"),
        product="Vôi CaCO3",
        dose=20,
        dose_unit="kg/1000 m³",
    )
    d.act(
        p,
        pond,
        activity="veterinary_drug",
        time=_t("2025-06-01T07:00:00+07:00"),
        product="Oxytetracyclin 50%",
        active_ingredient="oxytetracycline",
        dose=3,
        dose_unit="g/kg thức ăn",
        withdrawal_days=28,
    )
    d.act(
        p,
        pond,
        activity="feeding",
        time=_t("2025-08-01T07:00:00+07:00"),
        product="Thức ăn cá tra 26% đạm",
        supplier_lot="TA-2507-14",
        quantity=2.5,
        uom="TNE",
    )
    set_threshold(d.s, p, pond.id or 0, ThresholdSet(kind="dissolved_oxygen", low=3.0, sustain_minutes=60))
    device, _ = create_device(d.s, p, DeviceCreate(name="Cảm biến oxy ao 5", kind=SensorKind.dissolved_oxygen,
                                                   place_id=pond.id), d.st)  # fmt: skip
    start = _t("2025-09-08T18:00:00+07:00")
    readings = [
        {
            "ts": (start + timedelta(minutes=30 * i)).isoformat(),
            "value": round(5 + 1.2 * math.sin(i / 5) - (2.8 if 20 <= i < 25 else 0), 2),
        }
        for i in range(48)
    ]
    ingest(d.s, device, readings, d.st, history=True)
    d.s.flush()
    d.act(
        p,
        pond,
        activity="fish_harvest",
        time=_t("2025-09-20T05:30:00+07:00"),
        gtin=G["tra"],
        lot_code="CT-TB-2509",
        quantity=96,
        uom="TNE",
    )
    return {"farm": farm, "pond": pond, "gtin_fish": G["tra"]}


def _flowers(d: _Seeder, org: Org, keys: dict[str, str]) -> None:
    coop = org(d.s, "HTX Hoa kiểng Tân Quy Đông", "cooperative", "Phường Tân Quy Đông, TP. Sa Đéc, Đồng Tháp", keys)
    p = coop[1]
    d.product(p, "chrysanthemum", "Cúc mâm xôi Sa Đéc", "Sa Dec button chrysanthemum", unit="XPT", ocop_stars=4)
    garden = d.place(p, kind=PlaceKind.plot, name="Vườn hoa kiểng Tân Quy Đông, TP. Sa Đéc",
                     planting_area_code="VN-DTSD-TQD-0044", area_ha=0.4, commune="Tân Quy Đông",
                     district="Sa Đéc", province="Đồng Tháp",
                     geo={"type": "Point", "coordinates": [105.7456, 10.2985]})  # fmt: skip
    d.act(
        p,
        garden,
        activity="flower_planting",
        time=_t("2025-09-25T07:00:00+07:00"),
        product="Cúc mâm xôi vàng",
        quantity=800,
    )
    d.events(
        p,
        [
            object_event(
                "commissioning",
                d.st.zone,
                when="2025-12-01T07:00:00+07:00",
                action="ADD",
                lot=lot_uri(G["chrysanthemum"], "CMX-2512"),
                quantity=760,
                uom="XPT",
                bizLocation={"id": place_uri(garden)},
                ilmd={"agri:plot": place_uri(garden), "agri:harvestDate": "2025-12-01"},
            )
        ],
    )
    d.act(
        p,
        garden,
        activity="pot_sale",
        time=_t("2025-12-03T08:00:00+07:00"),
        gtin=G["chrysanthemum"],
        lot_code="CMX-2512",
        quantity=120,
    )


def run_alerts(runtime: Runtime) -> None:
    """The pond's night of low oxygen becomes an alert and an anchored sustained-breach event."""
    AlertWatcher(runtime.engine, runtime.settings, runtime.capture_checks).run_once()
