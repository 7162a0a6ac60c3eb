"""Lot search for the console: by lot code, GTIN, organisation (owner or holder) or plot (planting-
area code or place name), one page at a time.  Two set-based queries per page (the rows, the count),
whatever the number of lots."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from traceability_api.console.paging import pages_of
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.places.models import Place

FIELDS = ("code", "gtin", "org", "plot")
PAGE_SIZE = 25
MAX_QUERY = 100


@dataclass(frozen=True)
class LotHit:
    id: int
    lot_code: str
    gtin: str
    product: str
    owner: str
    holder: str
    place: str | None
    planting_area_code: str | None
    quantity: float
    uom: str
    status: str
    owner_id: int
    holder_id: int


@dataclass(frozen=True)
class SearchResult:
    hits: list[LotHit]
    total: int
    page: int
    pages: int

    @property
    def orgs(self) -> set[int]:
        """The organisations whose lots the page shows (owners and holders)."""
        return {o for h in self.hits for o in (h.owner_id, h.holder_id)}


def _like(column: Any, words: str) -> Any:
    """Case-insensitive 'contains' on both dialects (SQLite's lower() is Unicode's: ``db.py``), with
    LIKE's wildcards taken literally.  The words are composed (NFC), the form names are typed in on
    nearly every keyboard: one that sends "ộ" as "o" and two combining marks still finds them."""
    words = unicodedata.normalize("NFC", words)
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def search(session: Session, field: str, words: str, page: int = 1) -> SearchResult:
    """Lots matching ``words`` in ``field`` (one of ``FIELDS``), newest first; ``words`` is
    validated by the caller (1..``MAX_QUERY`` characters)."""
    owner, holder = aliased(Organisation), aliased(Organisation)
    base = (
        select(Lot.id)
        .join(Product, col(Product.id) == Lot.product_id)
        .join(owner, col(owner.id) == Lot.owner_org_id)
        .join(holder, col(holder.id) == Lot.holder_org_id)
        .join(Place, col(Place.id) == Lot.origin_place_id, isouter=True)
    )
    cond = {
        "code": _like(Lot.lot_code, words),
        "gtin": col(Product.gtin).like(f"%{words.strip()}%") if words.strip().isdigit() else _like(Product.name, words),
        "org": or_(_like(owner.name, words), _like(holder.name, words)),
        "plot": or_(_like(Place.planting_area_code, words), _like(Place.name, words)),
    }[field]
    total = int(session.exec(select(func.count()).select_from(base.where(cond).subquery())).one())
    at = pages_of(total, page, PAGE_SIZE)
    rows = session.exec(
        select(Lot, Product.gtin, Product.name, owner.name, holder.name, Place.name, Place.planting_area_code)  # type: ignore[call-overload]
        .join(Product, col(Product.id) == Lot.product_id)
        .join(owner, col(owner.id) == Lot.owner_org_id)
        .join(holder, col(holder.id) == Lot.holder_org_id)
        .join(Place, col(Place.id) == Lot.origin_place_id, isouter=True)
        .where(cond)
        .order_by(col(Lot.id).desc())
        .offset(at.offset)
        .limit(at.size)
    ).all()
    hits = [
        LotHit(
            lot.id or 0,
            lot.lot_code,
            gtin,
            name,
            own,
            hold,
            place,
            code,
            lot.quantity,
            lot.uom,
            str(lot.status.value),
            lot.owner_org_id,
            lot.holder_org_id,
        )
        for lot, gtin, name, own, hold, place, code in rows
    ]
    return SearchResult(hits, total, at.page, at.pages)
