"""The published datasets: what each one holds (columns) and the one query that fills it.

Every value comes through the rules of :mod:`traceability_api.opendata.public` (organisation
names, communes, public events, certifications); no dataset reads members, keys, addresses,
place names, event documents or diary text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.opendata import public
from traceability_api.parties.models import Organisation
from traceability_api.places.models import PRODUCTION_KINDS, Place, PlaceKind

Row = tuple[Any, ...]

SECTOR_OF_PLACE = {
    PlaceKind.plot: "crop", PlaceKind.farm: "crop", PlaceKind.pond: "aquaculture", PlaceKind.cage: "aquaculture",
    PlaceKind.hatchery: "aquaculture", PlaceKind.barn: "livestock", PlaceKind.flock_house: "poultry",
}  # fmt: skip
PROCESSED = "processed"  # a product made by transformation (milled rice, dried mango)


@dataclass(frozen=True)
class Dataset:
    slug: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    columns: tuple[str, ...]
    rows: Callable[[Session, Settings], list[Row]]


def _num(v: float | None) -> float | None:
    return None if v is None else round(float(v), 3)


def product_rows(s: Session, _st: Settings) -> list[Row]:
    orgs = {o.id: o for o in s.exec(select(Organisation)).all()}
    sectors: dict[int, Counter[str]] = defaultdict(Counter)
    kinds = select(Lot.product_id, Place.kind, func.count()).join(Place, Place.id == Lot.origin_place_id)  # type: ignore[arg-type]
    for pid, kind, n in s.exec(kinds.group_by(col(Lot.product_id), col(Place.kind))).all():
        sectors[pid][SECTOR_OF_PLACE.get(PlaceKind(kind), "other")] += n
    made = set(s.exec(select(Lot.product_id).join(LotLink, LotLink.child_lot_id == Lot.id).distinct()).all())  # type: ignore[arg-type]
    out: list[Row] = []
    for p in s.exec(select(Product).order_by(Product.gtin)).all():
        kind = sectors[p.id].most_common(1)[0][0] if sectors.get(p.id) else (PROCESSED if p.id in made else "")  # type: ignore[index, arg-type]
        o = orgs.get(p.org_id)
        out.append((p.gtin, p.name, p.name_en, p.brand, kind, p.unit, p.ocop_stars, public.org_name(o),
                    o.kind if o is not None else None))  # fmt: skip
    return out


def _crops(s: Session) -> dict[int, str]:
    """Names of the products harvested at each place, in name order."""
    q = select(Lot.origin_place_id, Product.name).join(Product, Product.id == Lot.product_id).distinct()  # type: ignore[arg-type]
    names: dict[int, set[str]] = defaultdict(set)
    for place_id, name in s.exec(q.where(col(Lot.origin_place_id).is_not(None))).all():
        names[int(place_id or 0)].add(name)
    return {k: "; ".join(sorted(v)) for k, v in names.items()}


def _communes(s: Session) -> dict[int, str]:
    """Commune of every place: its address, else its name, else its parent's, else its organisation's."""
    places = {p.id: p for p in s.exec(select(Place)).all()}
    org_addr = {o.id: o.address for o in s.exec(select(Organisation)).all()}
    out: dict[int, str] = {}
    for pid, p in places.items():
        parent = places.get(p.parent_id) if p.parent_id is not None else None
        texts = [p.address, p.name] + ([parent.address, parent.name] if parent is not None else [])
        out[pid] = public.commune_of(*texts, org_addr.get(p.org_id))  # type: ignore[index]
    return out


def planting_area_rows(s: Session, st: Settings) -> list[Row]:
    crops, communes, orgs = _crops(s), _communes(s), public.organisations(s)
    coded = (Place.planting_area_code.is_not(None)) | (Place.sector_code.is_not(None))  # type: ignore[union-attr]
    places = s.exec(select(Place).where(coded, Place.kind.in_(PRODUCTION_KINDS)).order_by(col(Place.id))).all()  # type: ignore[attr-defined]
    out: list[Row] = []
    for p in places:
        code = p.planting_area_code or p.sector_code
        row: Row = (code, p.kind.value, communes.get(p.id, ""), _num(p.area_ha), crops.get(p.id, ""),  # type: ignore[arg-type]
                    orgs.get(p.org_id, ""))  # fmt: skip
        out.append((*row, p.geo) if st.opendata_geometry else row)
    return out


def volume_rows(s: Session, st: Settings) -> list[Row]:
    """Harvested (commissioned) quantity by month, product, commune and unit, from public,
    uncorrected commissioning events."""
    corrected = exists().where(col(EventCorrection.event_id) == col(Event.id))
    q = (
        select(Lot.id, Lot.product_id, Lot.origin_place_id, Lot.quantity, Lot.uom, Lot.harvest_date, Event.event_time)  # type: ignore[call-overload]
        .join(EventLot, EventLot.lot_id == Lot.id)
        .join(Event, Event.id == EventLot.event_id)
        .where(Event.biz_step == voc.COMMISSIONING, public.public_events(), ~corrected)
    )
    products = {p.id: p for p in s.exec(select(Product)).all()}
    communes = _communes(s)
    totals: dict[tuple[str, int, str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    seen: set[int] = set()
    for lot_id, product_id, place_id, qty, uom, harvest, at in s.exec(q).all():
        if lot_id in seen:  # a lot named twice in its commissioning event counts once
            continue
        seen.add(lot_id)
        day: date = harvest or _local(at, st).date()
        key = (day.strftime("%Y-%m"), product_id, communes.get(place_id, ""), uom)
        totals[key][0] += qty
        totals[key][1] += 1
    rows = [(m, products[pid].gtin, products[pid].name, c, _num(total), u, int(n))
            for (m, pid, c, u), (total, n) in totals.items()]  # fmt: skip
    return sorted(rows, key=lambda r: (r[0], r[1], r[3], r[5]))


def _local(at: datetime, st: Settings) -> datetime:
    return at.astimezone(st.zone)


def certification_rows(s: Session, _st: Settings) -> list[Row]:
    products = {p.id: p for p in s.exec(select(Product)).all()}
    orgs = public.organisations(s)
    rows = [(products[pid].gtin, products[pid].name, orgs.get(products[pid].org_id, ""), cert)
            for pid, cert in public.certifications(s)]  # fmt: skip
    return sorted(rows)


def datasets(settings: Settings) -> tuple[Dataset, ...]:
    geometry = ("geometry",) if settings.opendata_geometry else ()
    return (
        Dataset("products", "Sản phẩm đã đăng ký", "Registered products",
                "Sản phẩm (GTIN) do hợp tác xã và doanh nghiệp đăng ký: tên, loại, đơn vị, hạng OCOP, tổ chức.",
                "Products (GTIN) registered by cooperatives and companies: name, kind, unit, OCOP stars, organisation.",
                ("gtin", "name", "name_en", "brand", "kind", "unit", "ocop_stars", "organisation", "organisation_kind"),
                product_rows),
        Dataset("planting_areas", "Vùng trồng và vùng nuôi", "Planting and farming areas",
                "Mã số vùng trồng (hoặc mã vùng nuôi, mã cơ sở), xã, diện tích (ha), cây trồng / vật nuôi, tổ chức.",
                "Planting-area codes (or farming-zone codes), commune, area (ha), crop or stock, organisation.",
                ("code", "place_kind", "commune", "area_ha", "crop", "organisation", *geometry), planting_area_rows),
        Dataset("monthly_volumes", "Sản lượng thu hoạch theo tháng", "Monthly harvest volumes",
                "Sản lượng thu hoạch (sự kiện commissioning) theo tháng, sản phẩm và xã, với số lô.",
                "Harvested quantity (commissioning events) by month, product and commune, with the number of lots.",
                ("month", "gtin", "product", "commune", "quantity", "unit", "lots"), volume_rows),
        Dataset("certifications", "Chứng nhận của sản phẩm", "Product certifications",
                "Chứng nhận (VietGAP, GlobalGAP, hữu cơ, OCOP...) mà tổ chức khai báo cho từng sản phẩm.",
                "Certifications (VietGAP, GlobalGAP, organic, OCOP...) declared by the organisation for each product.",
                ("gtin", "product", "organisation", "certification"), certification_rows),
    )  # fmt: skip
