"""The published datasets: what each one holds (columns) and the one query that fills it.

Every value comes through the rules of :mod:`traceability_api.opendata.public` (organisation
names, communes, public events, certifications); no dataset reads members, keys, contacts, event
documents or diary text, and addresses and place names are read only to find their commune.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import and_, exists, func
from sqlmodel import Session, col, select

from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventCorrection, EventLot
from traceability_api.lots.models import Lot, LotLink, Product
from traceability_api.opendata import public
from traceability_api.parties.models import Organisation
from traceability_api.places.models import PRODUCTION_KINDS, Place, PlaceKind
from traceability_api.registries.codes import canonical
from traceability_api.registries.codes import status_on as code_status
from traceability_api.registries.models import CodeKind, RegisteredCode

Row = tuple[Any, ...]

SECTOR_OF_PLACE = {
    PlaceKind.plot: "crop", PlaceKind.farm: "crop", PlaceKind.pond: "aquaculture", PlaceKind.cage: "aquaculture",
    PlaceKind.hatchery: "aquaculture", PlaceKind.barn: "livestock", PlaceKind.flock_house: "poultry",
}  # fmt: skip
PROCESSED = "processed"  # a product made by transformation (milled rice, dried mango)
HARVEST_TYPE = "ObjectEvent"  # harvest = ObjectEvent commissioning; a TransformationEvent's outputs are not harvests


@dataclass(frozen=True)
class Dataset:
    slug: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    columns: tuple[str, ...]
    rows: Callable[[Lookups, Settings], list[Row]]


class Lookups:
    """What several datasets share, read once per build as plain rows (no ORM objects: a
    province has tens of thousands of places)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    @cached_property
    def orgs(self) -> dict[int, Any]:
        q = select(  # type: ignore[call-overload, misc]
            Organisation.id, Organisation.name, Organisation.kind, Organisation.address, Organisation.public_profile
        )
        return {o.id: o for o in self.s.exec(q).all()}

    @cached_property
    def org_names(self) -> dict[int, str]:
        return {i: public.org_name(o) for i, o in self.orgs.items()}

    @cached_property
    def products(self) -> dict[int, Any]:
        q = select(Product.id, Product.gtin, Product.name, Product.name_en, Product.brand, Product.unit,  # type: ignore[call-overload, misc]
                   Product.ocop_stars, Product.org_id)  # fmt: skip
        return {p.id: p for p in self.s.exec(q).all()}

    @cached_property
    def places(self) -> dict[int, Any]:
        q = select(Place.id, Place.org_id, Place.kind, Place.name, Place.address, Place.parent_id,  # type: ignore[call-overload, misc]
                   Place.planting_area_code, Place.sector_code, Place.area_ha)  # fmt: skip
        return {p.id: p for p in self.s.exec(q).all()}

    @cached_property
    def communes(self) -> dict[int, str]:
        """Commune of every place: its address, else its name, else its parent's, else its organisation's."""
        out: dict[int, str] = {}
        for pid, p in self.places.items():
            parent = self.places.get(p.parent_id) if p.parent_id is not None else None
            texts = [p.address, p.name] + ([parent.address, parent.name] if parent is not None else [])
            org = self.orgs.get(p.org_id)
            out[pid] = public.commune_of(*texts, org.address if org is not None else None)
        return out


def _num(v: float | None) -> float | None:
    return None if v is None else round(float(v), 3)


def product_rows(lk: Lookups, _st: Settings) -> list[Row]:
    s = lk.s
    sectors: dict[int, Counter[str]] = defaultdict(Counter)
    kinds = select(Lot.product_id, Place.kind, func.count()).join(Place, Place.id == Lot.origin_place_id)  # type: ignore[arg-type]
    for pid, kind, n in s.exec(kinds.group_by(col(Lot.product_id), col(Place.kind))).all():
        sectors[pid][SECTOR_OF_PLACE.get(PlaceKind(kind), "other")] += n
    made = set(s.exec(select(Lot.product_id).join(LotLink, LotLink.child_lot_id == Lot.id).distinct()).all())  # type: ignore[arg-type]
    out: list[Row] = []
    for p in sorted(lk.products.values(), key=lambda p: p.gtin):
        kind = sectors[p.id].most_common(1)[0][0] if p.id in sectors else (PROCESSED if p.id in made else "")
        o = lk.orgs.get(p.org_id)
        out.append((p.gtin, p.name, p.name_en, p.brand, kind, p.unit, p.ocop_stars, lk.org_names.get(p.org_id, ""),
                    o.kind if o is not None else None))  # fmt: skip
    return out


def harvested() -> Any:
    """The condition on ``lot`` rows: harvested by a public, uncorrected commissioning ObjectEvent
    (a partners-only or private harvest tells open data nothing, not even what the plot grows), and
    not made by a transformation (serialising a processed lot for its labels is a commissioning
    ObjectEvent on it too, but no harvest: salted eggs would count again the fresh eggs they are)."""
    corrected = exists().where(col(EventCorrection.event_id) == col(Event.id))
    commissioned = (
        select(EventLot.lot_id)
        .join(Event, col(Event.id) == col(EventLot.event_id))
        .where(
            Event.biz_step == voc.COMMISSIONING, Event.event_type == HARVEST_TYPE, public.public_events(), ~corrected
        )
    )
    made = exists().where(col(LotLink.child_lot_id) == col(Lot.id))
    return and_(col(Lot.id).in_(commissioned), ~made)


def _crops(s: Session) -> dict[int, str]:
    """Names of the products publicly harvested at each place, in name order."""
    q = select(Lot.origin_place_id, Product.name).join(Product, Product.id == Lot.product_id).distinct()  # type: ignore[arg-type]
    q = q.where(harvested())
    names: dict[int, set[str]] = defaultdict(set)
    for place_id, name in s.exec(q.where(col(Lot.origin_place_id).is_not(None))).all():
        names[int(place_id or 0)].add(name)
    return {k: "; ".join(sorted(v)) for k, v in names.items()}


def _registered(s: Session, day: date) -> dict[str, tuple[str, str]]:
    """Registered planting-area codes: code -> (status on ``day``, importing markets)."""
    q = select(RegisteredCode).where(RegisteredCode.kind == CodeKind.planting_area)
    return {r.code: (code_status(r, day), " ".join(r.markets)) for r in s.exec(q).all()}


def planting_area_rows(lk: Lookups, st: Settings) -> list[Row]:
    crops = _crops(lk.s)
    registry = _registered(lk.s, datetime.now(st.zone).date())
    geo: dict[int, Any] = {}
    if st.opendata_geometry:
        geo = dict(lk.s.exec(select(Place.id, Place.geo).where(col(Place.geo).is_not(None))).all())  # type: ignore[arg-type]
    out: list[Row] = []
    for p in sorted(lk.places.values(), key=lambda p: p.id):
        code = p.planting_area_code or p.sector_code
        if code is None or p.kind not in PRODUCTION_KINDS:
            continue
        registered = canonical(code, CodeKind.planting_area) if p.planting_area_code else None
        status, markets = registry.get(registered or "", ("", ""))
        row: Row = (code, PlaceKind(p.kind).value, lk.communes.get(p.id, ""), _num(p.area_ha), crops.get(p.id, ""),
                    lk.org_names.get(p.org_id, ""), status, markets)  # fmt: skip
        out.append((*row, geo.get(p.id)) if st.opendata_geometry else row)
    return out


def _month(session: Session, column: Any) -> Any:
    """``YYYY-MM`` of a date column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)  # SQLite keeps dates as ISO text


def volume_rows(lk: Lookups, st: Settings) -> list[Row]:
    """Harvested quantity by month, product, commune and unit, from public, uncorrected
    commissioning ObjectEvents (transformation outputs are not harvests): grouped by plot in SQL,
    then by commune here."""
    s = lk.s
    lots = harvested()
    month = _month(s, Lot.harvest_date).label("month")
    dated = (
        select(month, Lot.product_id, Lot.origin_place_id, Lot.uom, func.sum(Lot.quantity), func.count())  # type: ignore[call-overload, misc]
        .where(lots, col(Lot.harvest_date).is_not(None))
        .group_by(month, col(Lot.product_id), col(Lot.origin_place_id), col(Lot.uom))
    )
    totals: dict[tuple[str, int, str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    communes = lk.communes
    for m, pid, place, uom, qty, n in s.exec(dated):
        acc = totals[(m, pid, communes.get(place, ""), uom)]
        acc[0] += qty
        acc[1] += n
    undated = (
        select(Lot.id, Event.event_time, Lot.product_id, Lot.origin_place_id, Lot.uom, Lot.quantity)  # type: ignore[call-overload, misc]
        .join(EventLot, col(EventLot.lot_id) == col(Lot.id))
        .join(Event, col(Event.id) == col(EventLot.event_id))
        .where(col(Lot.harvest_date).is_(None), Event.biz_step == voc.COMMISSIONING, lots)
    )
    seen: set[int] = set()
    for lot_id, at, pid, place, uom, qty in s.exec(undated):  # no harvest date: the event's month, locally
        if lot_id not in seen:  # a lot named twice in its commissioning event counts once
            seen.add(lot_id)
            acc = totals[(_local(at, st).strftime("%Y-%m"), pid, communes.get(place, ""), uom)]
            acc[0] += qty
            acc[1] += 1
    rows = [(m, lk.products[pid].gtin, lk.products[pid].name, c, _num(total), u, int(n))
            for (m, pid, c, u), (total, n) in totals.items()]  # fmt: skip
    return sorted(rows, key=lambda r: (r[0], r[1], r[3], r[5]))


def _local(at: datetime, st: Settings) -> datetime:
    return at.astimezone(st.zone)


def certification_rows(lk: Lookups, st: Settings) -> list[Row]:
    """Certifications by product (GTIN) or place (its code, never its name), status on the build's day."""
    out: list[Row] = []
    for c in public.certifications(lk.s, datetime.now(st.zone).date()):
        product = lk.products.get(c.product_id) if c.product_id is not None else None
        place = lk.places.get(c.place_id) if c.place_id is not None else None
        if c.product_id is not None and product is None:
            continue  # a scope naming a product that does not exist
        code = (place.planting_area_code or place.sector_code) if place is not None else None
        if c.place_id is not None and code is None:
            continue  # a place without a public code: nothing to name it by
        out.append((product.gtin if product else None, product.name if product else None, code,
                    lk.org_names.get(c.org_id, ""), c.scheme, c.label, c.ocop_stars, c.number, c.issuer,
                    _day(c.valid_from), _day(c.valid_until), c.status, c.verified))  # fmt: skip
    return sorted(out, key=lambda r: tuple("" if v is None else str(v) for v in r))


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def datasets(settings: Settings) -> tuple[Dataset, ...]:
    geometry = ("geometry",) if settings.opendata_geometry else ()
    return (
        Dataset("products", "Sản phẩm đã đăng ký", "Registered products",
                "Sản phẩm (GTIN) do hợp tác xã và doanh nghiệp đăng ký: tên, loại, đơn vị, hạng OCOP, tổ chức.",
                "Products (GTIN) registered by cooperatives and companies: name, kind, unit, OCOP stars, organisation.",
                ("gtin", "name", "name_en", "brand", "kind", "unit", "ocop_stars", "organisation", "organisation_kind"),
                product_rows),
        Dataset("planting_areas", "Vùng trồng và vùng nuôi", "Planting and farming areas",
                "Mã số vùng trồng (hoặc mã vùng nuôi, mã cơ sở), xã, diện tích (ha), cây trồng / vật nuôi, tổ chức,"
                " trạng thái mã đã đăng ký và thị trường nhập khẩu.",
                "Planting-area codes (or farming-zone codes), commune, area (ha), crop or stock, organisation,"
                " registered code status and importing markets.",
                ("code", "place_kind", "commune", "area_ha", "crop", "organisation", "registry_status", "markets",
                 *geometry), planting_area_rows),
        Dataset("monthly_volumes", "Sản lượng thu hoạch theo tháng", "Monthly harvest volumes",
                "Sản lượng thu hoạch (sự kiện commissioning) theo tháng, sản phẩm và xã, với số lô.",
                "Harvested quantity (commissioning events) by month, product and commune, with the number of lots.",
                ("month", "gtin", "product", "commune", "quantity", "unit", "lots"), volume_rows),
        Dataset("certifications", "Chứng nhận của sản phẩm", "Product certifications",
                "Chứng nhận (VietGAP, GlobalGAP, hữu cơ, OCOP...) của sản phẩm và vùng trồng: số, nơi cấp, hiệu lực,"
                " trạng thái (còn hiệu lực, hết hạn, thu hồi), đã xác minh hay tự khai.",
                "Certifications (VietGAP, GlobalGAP, organic, OCOP...) of products and planting areas: number, issuer,"
                " validity, status (active, expired, revoked), verified or self-declared.",
                ("gtin", "product", "area_code", "organisation", "scheme", "certification", "ocop_stars", "number",
                 "issuer", "valid_from", "valid_until", "status", "verified"), certification_rows),
    )  # fmt: skip
