"""The console map's data: every place with its commune, the products of the lots that originate
there and its status (recalled lots, open sensor alerts, lots in progress). Four set-based queries
(places, the lots recalls name, lots grouped by place and product, open alerts grouped by place),
whatever the size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from traceability_api.authority.models import Recall
from traceability_api.husbandry.models import SensorAlert
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.parties.models import Organisation
from traceability_api.places.models import Place

MAX_PLACES = 5000  # a province's registered places; more are cut (and the page says so)
STATUS_ORDER = ("recall", "alert", "active", "idle")  # the worst first: a place shows its worst status


@dataclass
class MapPlace:
    id: int
    kind: str
    name: str
    org: str
    code: str | None
    commune: str | None
    district: str | None
    address: str | None
    geo: dict[str, Any] | None
    products: list[str] = field(default_factory=list)
    lots_active: int = 0
    lots_recalled: int = 0
    alerts_open: int = 0

    @property
    def status(self) -> str:
        if self.lots_recalled:
            return "recall"
        if self.alerts_open:
            return "alert"
        return "active" if self.lots_active else "idle"

    @property
    def product(self) -> str | None:
        """The main product (most lots): the colour of the place on the map."""
        return self.products[0] if self.products else None


@dataclass
class MapData:
    places: list[MapPlace]
    truncated: bool
    products: list[str]  # every main product, sorted: the legend's order and colours


def recalled_lot_ids(session: Session) -> list[int]:
    """Every lot a recall names (roots and the lots reached from them): one read of the recalls,
    a province opens a few a year."""
    return sorted({int(a["lotId"]) for affected in session.exec(select(Recall.affected)) for a in affected})


def map_places(session: Session, limit: int = MAX_PLACES) -> MapData:
    rows = session.exec(
        select(Place, Organisation.name)  # type: ignore[call-overload]
        .join(Organisation, col(Organisation.id) == Place.org_id)
        .order_by(col(Place.commune), col(Place.id))
        .limit(limit + 1)
    ).all()
    truncated = len(rows) > limit
    places = {
        pl.id: MapPlace(
            pl.id,  # type: ignore[arg-type]
            pl.kind.value,
            pl.name,
            org,
            pl.planting_area_code or pl.sector_code,
            pl.commune,
            pl.district,
            pl.address,
            pl.geo,
        )  # fmt: skip
        for pl, org in rows[:limit]
    }
    in_progress = case((col(Lot.status).in_([LotStatus.active, LotStatus.in_transit]), 1), else_=0)
    # recalled: the lot's status, or a recall names it (a harvest already milled or packed stays
    # 'consumed' while the products made from it are recalled: its plot is where the recall points)
    named = recalled_lot_ids(session)
    is_recalled = col(Lot.status) == LotStatus.recalled
    if named:
        is_recalled = or_(is_recalled, col(Lot.id).in_(named))
    recalled = case((is_recalled, 1), else_=0)
    lots = session.exec(
        select(Lot.origin_place_id, Product.name, func.count(), func.sum(in_progress), func.sum(recalled))  # type: ignore[call-overload]
        .join(Product, col(Product.id) == Lot.product_id)
        .where(col(Lot.origin_place_id).is_not(None))
        .group_by(Lot.origin_place_id, Product.name)
    ).all()
    counted: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for place_id, product, n, active, gone in lots:
        mp = places.get(place_id)
        if mp is not None:
            counted[place_id].append((-int(n), product))
            mp.lots_active += int(active or 0)
            mp.lots_recalled += int(gone or 0)
    for place_id, items in counted.items():
        places[place_id].products = [name for _, name in sorted(items)]
    alerts = session.exec(
        select(SensorAlert.place_id, func.count())  # type: ignore[call-overload]
        .where(SensorAlert.open == True, col(SensorAlert.place_id).is_not(None))  # noqa: E712
        .group_by(SensorAlert.place_id)  # type: ignore[arg-type]
    ).all()
    for place_id, n in alerts:
        if place_id in places:
            places[place_id].alerts_open = int(n)
    mains = sorted({p.product for p in places.values() if p.product})
    return MapData(list(places.values()), truncated, mains)


def feature_collection(data: MapData) -> dict[str, Any]:
    """GeoJSON of the places that have a shape (the others are in the page's table)."""
    features = [
        {
            "type": "Feature",
            "id": p.id,
            "geometry": p.geo,
            "properties": {
                "name": p.name,
                "kind": p.kind,
                "org": p.org,
                "code": p.code,
                "commune": p.commune,
                "district": p.district,
                "product": p.product,
                "products": p.products,
                "status": p.status,
                "lotsActive": p.lots_active,
                "lotsRecalled": p.lots_recalled,
                "alertsOpen": p.alerts_open,
            },  # fmt: skip
        }
        for p in data.places
        if p.geo
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": data.truncated,
            "products": data.products}  # fmt: skip
