"""Demo export chains for US buyers (FSMA 204, docs/fsma204.md), seeded after the Đồng Tháp chains:

- Cao Lãnh mango: Mỹ Xương orchard (harvest) → Mỹ Hiệp cold store (cooling, with its temperature
  sensor) → Cao Lãnh packhouse (initial packing, the TLC assigned) → Sa Giang exporter → a US importer;
- Thanh Bình pangasius: pond 5 (fish harvest) → a Sa Đéc processor (fillets: transformation) → the
  US importer; the pond's identification code and the processor's establishment code (DL-126) are
  registered for the US, so the export shipment passes the registry check.

Every CTE carries the KDEs § 1.1325-1.1350 ask for: reference documents (bizTransactionList:
invoices, bills of lading, purchase orders, the phytosanitary certificate and container/SSCC of the
export shipment), the TLC source (ilmd ``agri:tlcSource``), quantities on receipt, and the
destination market on the export shipment (shown on the consumer page)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.evidence.models import DeviceCreate, SensorKind
from traceability_api.evidence.sensors import create_device, ingest
from traceability_api.fsma.cte import COLD_STORE, DESTINATION_MARKET, DOC_URN, TLC_SOURCE
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal, party_uri
from traceability_api.places.models import Place, PlaceCreate, PlaceKind
from traceability_api.places.service import create_place, place_uri
from traceability_api.registries.codes import CodeCreate, register
from traceability_api.registries.models import CodeKind
from traceability_api.runtime import Runtime

Party = tuple[Organisation, Principal]
FILLET = with_check_digit(f"893{3303:010d}")
MANGO_LOT, MANGO_BOX_LOT, FISH_LOT, FILLET_LOT = "MX-2506-14", "XCL-2506-14", "CT-TB-2510", "SDF-2510-01"
POND_CODE, PLANT_CODE = "87-01-0012-005", "DL-126"  # registered for the US (registries: checked on export)
AGRI = "https://ns.agritrace.vn/voc/"
US: dict[str, Any] = {DESTINATION_MARKET: "US"}  # on the export shipments


def _bt(kind: str, number: str) -> dict[str, str]:
    """A bizTransaction: CBV types as bare words (inv, bol, po, prodorder), ours as agri:BTT-*."""
    ref = number if number.startswith("https://") else DOC_URN + number
    return {"type": kind if kind in ("inv", "bol", "po", "prodorder", "desadv") else f"{AGRI}BTT-{kind}",
            "bizTransaction": ref}  # fmt: skip


class _Chain:
    def __init__(self, s: Session, runtime: Runtime) -> None:
        self.s, self.rt, self.st = s, runtime, runtime.settings

    def events(self, p: Principal, events: list[dict[str, Any]]) -> None:
        capture_events(self.s, p, events, DEFAULT_CONTEXT, self.st, checks=self.rt.capture_checks)

    def place(self, p: Principal, **kw: Any) -> Place:
        return create_place(self.s, p, PlaceCreate(**kw))

    def move(self, frm: Party, to: Party, lot: str, qty: float, uom: str, ship: str, recv: str,
             docs: list[dict[str, str]], *, ship_from: Place | None = None, recv_at: Place | None = None,
             **extra: Any) -> None:  # fmt: skip
        """A shipment and its receipt, each with the reference documents and the quantity."""
        dest = [{"type": "possessing_party", "destination": party_uri(to[0])},
                {"type": "owning_party", "destination": party_uri(to[0])}]  # fmt: skip
        src = [{"type": "possessing_party", "source": party_uri(frm[0])},
               {"type": "owning_party", "source": party_uri(frm[0])}]  # fmt: skip
        at: dict[str, Any] = {"bizLocation": {"id": place_uri(ship_from)}} if ship_from is not None else {}
        self.events(frm[1], [object_event("shipping", self.st.zone, when=ship, lot=lot, quantity=qty, uom=uom,
                                          sourceList=src, destinationList=dest, bizTransactionList=docs,
                                          **at, **extra)])  # fmt: skip
        at = {"bizLocation": {"id": place_uri(recv_at)}} if recv_at is not None else {}
        self.events(to[1], [object_event("receiving", self.st.zone, when=recv, lot=lot, quantity=qty, uom=uom,
                                         sourceList=src, destinationList=dest[1:], bizTransactionList=docs,
                                         **at)])  # fmt: skip


def _contact(s: Session, party: Party, phone: str, contact: str) -> None:
    party[0].phone, party[0].contact_name = phone, contact
    s.add(party[0])


def seed_export_chains(
    s: Session, runtime: Runtime, org: Any, keys: dict[str, str], mango: dict[str, Any], fish: dict[str, Any]
) -> None:
    """``mango``: coop, pack, exp (parties), orchard, site (places); ``fish``: farm (party), pond."""
    c = _Chain(s, runtime)
    coop, pack, exp = mango["coop"], mango["pack"], mango["exp"]
    farm = fish["farm"]
    cooler = org(s, "Kho lạnh Mỹ Hiệp", "distributor", "Quốc lộ 30, xã Mỹ Hiệp, huyện Cao Lãnh, Đồng Tháp", keys)
    plant = org(s, "Công ty Chế biến Thủy sản Sa Đéc", "processor", "KCN C Sa Đéc, TP. Sa Đéc, Đồng Tháp", keys)
    us = org(s, "Pacific Fresh Imports LLC", "distributor", "2300 E 7th St, Los Angeles, CA 90023, USA", keys)
    for party, phone, who in ((coop, "+84 277 3851 012", "Nguyễn Văn Tâm"), (pack, "+84 277 3852 310", "Lê Thị Hoa"),
                              (exp, "+84 277 3861 555", "Trần Minh Đức"), (cooler, "+84 277 3850 777", "Phạm Văn Lực"),
                              (farm, "+84 277 3834 219", "Võ Thị Thu"), (plant, "+84 277 3762 888", "Đặng Quốc Bảo"),
                              (us, "+1 213 555 0147", "Maria Chen")):  # fmt: skip
        _contact(s, party, phone, who)
    # the export orchard and the packhouse carry codes registered for the US (registries: checked on export)
    ppd = org(s, "Chi cục Trồng trọt và Bảo vệ thực vật Đồng Tháp", "authority", "TP. Cao Lãnh, Đồng Tháp", keys)
    mango["orchard"] = c.place(coop[1], kind=PlaceKind.plot, name="Vườn xoài xuất khẩu ông Ba Tâm, ấp Mỹ Thạnh",
                               planting_area_code="VN-DTOR-0012", area_ha=2.4,
                               geo={"type": "Point", "coordinates": [105.6561, 10.4112]})  # fmt: skip
    mango["site"].packhouse_code = "VN-DTPH-0031"
    s.add(mango["site"])
    for kind, code, holder in (
        (CodeKind.planting_area, "VN-DTOR-0012", coop),
        (CodeKind.packhouse, "VN-DTPH-0031", pack),
    ):
        register(s, ppd[1], CodeCreate(kind=kind, code=code, org_id=holder[0].id or 0, issuer="Cục Bảo vệ thực vật",
                                       markets=["US", "CN"], valid_from=date(2025, 1, 1)))  # fmt: skip
    _mango_chain(c, coop, cooler, pack, exp, us, mango)
    # the pond's identification code (Nghị định 55/2017) and the processor's establishment code (DL),
    # registered for the US: the pangasius export shipment is checked like the mango one
    fish["pond"].sector_code = POND_CODE
    s.add(fish["pond"])
    register(s, ppd[1], CodeCreate(kind=CodeKind.aquaculture, code=POND_CODE, org_id=farm[0].id or 0,
                                   issuer="Chi cục Chăn nuôi, Thú y và Thủy sản Đồng Tháp", markets=["US", "EU"],
                                   valid_from=date(2025, 1, 1)))  # fmt: skip
    register(s, ppd[1], CodeCreate(kind=CodeKind.establishment, code=PLANT_CODE, org_id=plant[0].id or 0,
                                   issuer="Cục Chất lượng, Chế biến và Phát triển thị trường (NAFIQAD)",
                                   markets=["US", "EU"], valid_from=date(2025, 1, 1)))  # fmt: skip
    _fish_chain(c, farm, plant, us, fish)
    s.flush()


def _mango_chain(c: _Chain, coop: Party, cooler: Party, pack: Party, exp: Party, us: Party, m: dict[str, Any]) -> None:
    orchard, site = m["orchard"], m["site"]
    fresh, boxed = lot_uri(m["gtin_fresh"], MANGO_LOT), lot_uri(m["gtin_box"], MANGO_BOX_LOT)
    c.events(coop[1], [object_event(
        "commissioning", c.st.zone, when="2025-06-14T06:00:00+07:00", action="ADD", lot=fresh, quantity=3000,
        uom="KGM", bizLocation={"id": place_uri(orchard)},
        ilmd={"agri:plot": place_uri(orchard), "agri:harvestDate": "2025-06-14", "agri:variety": "Cat Chu"},
        bizTransactionList=[_bt("harvest_log", "NKTH-MX-2506-14")])])  # fmt: skip
    store = c.place(cooler[1], kind=PlaceKind.warehouse, name="Kho lạnh Mỹ Hiệp, buồng 2",
                    address="Quốc lộ 30, xã Mỹ Hiệp, huyện Cao Lãnh, Đồng Tháp",
                    geo={"type": "Point", "coordinates": [105.7012, 10.3801]})  # fmt: skip
    c.move(coop, cooler, fresh, 3000, "KGM", "2025-06-14T09:00:00+07:00", "2025-06-14T10:30:00+07:00",
           [_bt("po", "PO-KL-0614"), _bt("inv", "HD-MX-000614")], ship_from=orchard, recv_at=store)  # fmt: skip
    thermometer = DeviceCreate(name="Nhiệt kế kho lạnh buồng 2", kind=SensorKind.temperature, place_id=store.id)
    device, _ = create_device(c.s, cooler[1], thermometer, c.st)
    start = datetime.fromisoformat("2025-06-14T11:00:00+07:00")
    ingest(c.s, device, [{"ts": (start + timedelta(minutes=30 * i)).isoformat(), "value": 12.0 - min(i, 6) * 0.5}
                         for i in range(40)], c.st, history=True)  # fmt: skip
    cold: dict[str, Any] = {
        COLD_STORE: {
            "device": f"urn:agritrace:device:{device.id}",
            "setpointC": 9.0,
            "from": start.isoformat(),
            "until": (start + timedelta(hours=20)).isoformat(),
        }
    }
    c.events(cooler[1], [object_event(
        f"{AGRI}BizStep-cooling", c.st.zone, when="2025-06-14T11:00:00+07:00", lot=fresh, quantity=3000, uom="KGM",
        bizLocation={"id": place_uri(store)},
        bizTransactionList=[_bt("harvest_log", "PK-KL-0614-02")],
        **cold)])  # fmt: skip
    c.move(cooler, pack, fresh, 3000, "KGM", "2025-06-15T06:00:00+07:00", "2025-06-15T07:00:00+07:00",
           [_bt("desadv", "PXK-KL-0615"), _bt("inv", "HD-KL-000615")], ship_from=store, recv_at=site)  # fmt: skip
    c.events(pack[1], [{"type": "TransformationEvent", "eventTime": "2025-06-15T14:00:00+07:00",
                        "eventTimeZoneOffset": "+07:00", "bizStep": "packing", "readPoint": {"id": place_uri(site)},
                        "bizLocation": {"id": place_uri(site)},
                        "inputQuantityList": [{"epcClass": fresh, "quantity": 3000, "uom": "KGM"}],
                        "outputQuantityList": [{"epcClass": boxed, "quantity": 2.8, "uom": "TNE"}],
                        "bizTransactionList": [_bt("prodorder", "LSX-DG-0615-01")],
                        "ilmd": {TLC_SOURCE: place_uri(site), "agri:tlcSourceReference": "PH-DT-0031"}}])  # fmt: skip
    c.move(pack, exp, boxed, 2.8, "TNE", "2025-06-16T06:00:00+07:00", "2025-06-16T09:00:00+07:00",
           [_bt("po", "PO-SG-2506-31"), _bt("inv", "HD-DG-000616")], ship_from=site)  # fmt: skip
    c.move(exp, us, boxed, 2.8, "TNE", "2025-06-17T08:00:00+07:00", "2025-07-08T10:00:00-07:00",
           [_bt("inv", "SG-EXP-2025-0617"), _bt("bol", "HLCUSGN2506170"), _bt("po", "PFI-PO-88412"),
            _bt("phyto", "VN-PC-2025-061734"), _bt("container", "https://id.gs1.org/00/389300000000061700")],
           **US)  # fmt: skip


def _fish_chain(c: _Chain, farm: Party, plant: Party, us: Party, f: dict[str, Any]) -> None:
    pond = f["pond"]
    fish = lot_uri(f["gtin_fish"], FISH_LOT)
    c.events(farm[1], [object_event(
        "commissioning", c.st.zone, when="2025-10-06T05:30:00+07:00", action="ADD", lot=fish, quantity=50,
        uom="TNE", bizLocation={"id": place_uri(pond)},
        ilmd={"agri:plot": place_uri(pond), "agri:harvestDate": "2025-10-06", "agri:activity": "fish_harvest",
              "agri:variety": "Pangasianodon hypophthalmus"},
        bizTransactionList=[_bt("harvest_log", "NKTH-AO5-2510")])])  # fmt: skip
    create_product(c.s, plant[1], ProductCreate(gtin=FILLET, name="Cá tra phi lê đông lạnh", unit="TNE",
                                                 name_en="Frozen pangasius fillets", ftl_category="Finfish",
                                                 certifications=["ASC", "BAP"]))  # fmt: skip
    works = c.place(plant[1], kind=PlaceKind.mill, name="Xưởng chế biến Sa Đéc", sector_code=PLANT_CODE,
                    address="KCN C Sa Đéc, TP. Sa Đéc, Đồng Tháp",
                    geo={"type": "Point", "coordinates": [105.7581, 10.3139]})  # fmt: skip
    c.move(farm, plant, fish, 50, "TNE", "2025-10-06T07:00:00+07:00", "2025-10-06T10:00:00+07:00",
           [_bt("po", "PO-SDF-1006"), _bt("inv", "HD-TT-001006")], ship_from=pond, recv_at=works)  # fmt: skip
    fillets = lot_uri(FILLET, FILLET_LOT)
    c.events(plant[1], [{"type": "TransformationEvent", "eventTime": "2025-10-07T16:00:00+07:00",
                         "eventTimeZoneOffset": "+07:00", "bizStep": "commissioning",
                         "readPoint": {"id": place_uri(works)}, "bizLocation": {"id": place_uri(works)},
                         "inputQuantityList": [{"epcClass": fish, "quantity": 50, "uom": "TNE"}],
                         "outputQuantityList": [{"epcClass": fillets, "quantity": 18, "uom": "TNE"}],
                         "bizTransactionList": [_bt("prodorder", "LSX-SDF-1007")],
                         "ilmd": {TLC_SOURCE: place_uri(works), "agri:tlcSourceReference": PLANT_CODE}}])  # fmt: skip
    c.move(plant, us, fillets, 18, "TNE", "2025-10-09T08:00:00+07:00", "2025-11-02T09:00:00-08:00",
           [_bt("inv", "SDF-EXP-2025-1009"), _bt("bol", "MAEUSGN2510090"), _bt("po", "PFI-PO-90117"),
            _bt("health_cert", "VN-HC-2025-100912"), _bt("container", "MSKU7048123")], ship_from=works,
           **US)  # fmt: skip
