"""Who may have which FSMA 204 records: an organisation its own (the events it recorded), an
authority every organisation's (or one's); a receiving firm the upstream KDEs of a lot it holds or
received, with the lot's proof bundle."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from traceability_api.anchoring.proofs import lot_bundle
from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Forbidden, Invalid, NotFound
from traceability_api.events.models import Event, EventLot
from traceability_api.fsma.kde_columns import CTE, MARKET_CODE_COLUMNS, SHIPPED_WITH_GOODS
from traceability_api.fsma.records import Selection, private_owners, readable_by, rows
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import LOT_CODE_RE, Lot, Product
from traceability_api.parties.service import Principal
from traceability_api.privacy.access import note_lot_reads
from traceability_api.timeutil import in_utc_range

GTIN_RE = r"^[0-9]{14}$"  # ASCII digits: \d also matches Arabic-Indic and full-width ones


def selection_for(
    p: Principal,
    *,
    gtin: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    tlc_from: str | None = None,
    tlc_to: str | None = None,
    org_id: int | None = None,
    every_product: bool = False,
) -> Selection:
    """The records ``p`` may export, checked: an organisation its own only; an authority any or all.
    A spreadsheet is of one product (``gtin``); the KDE check may cover ``every_product``."""
    if (gtin is None and not every_product) or (gtin is not None and not re.fullmatch(GTIN_RE, gtin)):
        raise Invalid("gtin: give the product's GTIN-14 (14 digits)")
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise Invalid(f"{name}: give a time zone (e.g. 2025-01-01T00:00:00+07:00)")
        if t is not None and not in_utc_range(t):
            raise Invalid(f"{name}: a time between the years 1 and 9999 once in UTC")
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until")
    for name, code in (("tlc_from", tlc_from), ("tlc_to", tlc_to)):
        if code is not None and not re.fullmatch(LOT_CODE_RE, code):
            raise Invalid(f"{name}: a traceability lot code is 1-20 letters, digits and . _ -")
    if tlc_from is not None and tlc_to is not None and tlc_from > tlc_to:
        raise Invalid("tlc_from must not sort after tlc_to")
    if not p.reads_everything:
        if org_id is not None and org_id != p.org_id:
            raise Forbidden("an organisation exports its own FSMA 204 records only")
        org_id = p.org_id
    return Selection(
        gtin=gtin, since=since, until=until, tlc_from=tlc_from, tlc_to=tlc_to, org_id=org_id, visible=readable_by(p)
    )


def _received(session: Session, org_id: int, lot_id: int) -> bool:
    return (
        session.exec(
            select(EventLot.id)
            .join(Event, Event.id == EventLot.event_id)  # type: ignore[arg-type]
            .where(EventLot.lot_id == lot_id, Event.org_id == org_id, Event.biz_step == voc.RECEIVING)
            .limit(1)
        ).first()
        is not None
    )


def pullable_lot(session: Session, p: Principal, gtin: str, tlc: str) -> tuple[Lot, Product]:
    """The lot a firm may pull upstream KDEs of: it holds it, owns it, has it in transit to it, or
    recorded its receipt (or it is an authority).  Anyone else: 404, as if the lot did not exist."""
    found = session.exec(
        select(Lot, Product)
        .join(Product, Product.id == Lot.product_id)  # type: ignore[arg-type]
        .where(Product.gtin == gtin, Lot.lot_code == tlc)
    ).first()
    if found is None:
        raise NotFound(f"lot {tlc} of GTIN {gtin} not found")
    lot, product = found
    assert lot.id is not None
    may = p.reads_everything or p.org_id in (lot.holder_org_id, lot.owner_org_id, lot.in_transit_to_org_id)
    if not (may or _received(session, p.org_id, lot.id)):
        raise NotFound(f"lot {tlc} of GTIN {gtin} not found")
    return lot, product


def upstream_kdes(session: Session, p: Principal, lot: Lot, product: Product, contract: Any) -> dict[str, Any]:
    """Every CTE of the lot and of the lots it was made from (their KDE rows) that ``p`` may read
    (a private step stays out, as everywhere: docs/privacy.md), what its last shipment handed on
    (§ 1.1340(b)), and the proof bundle that lets the receiver verify them."""
    assert lot.id is not None
    ids = tuple(upstream(session, lot.id))
    sel = Selection(lot_ids=ids, visible=readable_by(p))
    table = rows(session, sel)
    note_lot_reads(session, p, private_owners(session, sel, p.org_id))  # the read log (docs/privacy.md)
    shipped = [r for r in table if r["cte"] == CTE.shipping.value and r["tlc"] == lot.lot_code]
    handed_on = [*SHIPPED_WITH_GOODS, *MARKET_CODE_COLUMNS]  # with the registered codes behind the lot
    return {
        "lot": {"gtin": product.gtin, "tlc": lot.lot_code},
        "shippedWithGoods": {k: _json(shipped[-1][k]) for k in handed_on} if shipped else None,
        "records": [{k: _json(v) for k, v in r.items()} for r in table],
        "proofBundle": lot_bundle(session, lot, product, contract),
    }


def _json(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v
