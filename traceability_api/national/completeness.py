"""Completeness of national records: one lot's (before it is published), and by organisation over
a period (for the authority console).  Both say what is missing through ``items.missing_items``.

The figures by organisation count each lot's own stages (a lot made from others is judged on its
own stages; its inputs count for their own owners), in one grouped query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, func, or_
from sqlmodel import Session, col, select

from traceability_api.consensus.gs1_uri import valid_gtin
from traceability_api.epcis.vocabulary import BIZSTEP
from traceability_api.errors import Forbidden, NotFound
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product, usable_image
from traceability_api.national.items import ITEMS, LotFacts, describe, missing_items
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal

SENSOR_SUMMARY = BIZSTEP + "sensor_reporting"  # evidence about stages, not a stage (consumer.evidence_view)


def own_lot(session: Session, p: Principal, lot_id: int) -> tuple[Lot, Product]:
    """A lot whose national record the principal may read or export: its owner's members and
    authorities.  A lot the principal cannot read at all is not found (404); one it may read as a
    holder or former handler is another organisation's record (403)."""
    lot, product = get_lot(session, p, lot_id)
    if not p.reads_everything and lot.owner_org_id != p.org_id:
        raise Forbidden("a lot's national record is exported by the organisation that owns the lot, or an authority")
    return lot, product


def lot_completeness(record: dict[str, Any], lang: str) -> dict[str, Any]:
    missing = [m["item"] for m in record["completeness"]["missing"]]
    return {
        "lot": record["traceCode"]["uri"],
        "complete": not missing,
        "items": len(ITEMS),
        "missing": describe(missing, lang),
    }


def _stages_of(lots: Any) -> Any:
    """Per lot (of the ``lots`` id query) that has stages: whether one names no place (a subquery).  An
    event names a place when it is linked to one of ours or its document has a bizLocation or
    readPoint (EPCIS requires their id, so the key alone decides, as ``location.named_location``
    does on the record).  Sensor summaries are evidence, not stages (as in record.py)."""
    stage = or_(col(Event.biz_step).is_(None), col(Event.biz_step) != SENSOR_SUMMARY)
    text = cast(Event.document, Text)
    unplaced = case(  # in order: the text is read only for events not linked to one of our places
        (col(Event.place_id).is_not(None), 0),
        (or_(text.like('%"bizLocation"%'), text.like('%"readPoint"%')), 0),
        else_=1,
    )
    return (
        select(col(EventLot.lot_id).label("lot_id"), func.max(unplaced).label("unplaced"))
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(col(EventLot.lot_id).in_(lots), stage)
        .group_by(col(EventLot.lot_id))
        .subquery()
    )


def _products(session: Session, ids: set[int], orgs: dict[Any, Organisation]) -> dict[int, dict[str, Any]]:
    """What the check needs of each product and its producer (the parts common to its lots)."""
    out = {}
    for p in session.exec(select(Product).where(col(Product.id).in_(ids))).all():
        producer = orgs.get(p.org_id)
        out[p.id or 0] = {
            "product_name": p.name,
            "image_ok": usable_image(p.image_url),
            "producer_name": producer.name if producer else None,
            "producer_address": producer.address if producer else None,
            "producer_public": bool(producer and producer.public_profile),
            "brand": p.brand,
            "shelf_life_days": p.shelf_life_days,
            "standards": list(p.standards or []),
            "gtin_ok": valid_gtin(p.gtin),
        }
    return out


def _lot_filter(since: datetime | None, until: datetime | None, org_ids: Iterable[int] | None) -> list[Any]:
    where = []
    if since is not None:
        where.append(col(Lot.created_at) >= since)
    if until is not None:
        where.append(col(Lot.created_at) < until)
    if org_ids is not None:
        where.append(col(Lot.owner_org_id).in_(list(org_ids)))
    return where


def completeness_by_org(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    org_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Per organisation (owner of the lots recorded in [since, until)): lots, complete lots, their
    share, and how many lots lack each mandatory item.  One grouped query: the lots of a product
    that agree on what the check reads of the lot itself (harvest day, stages, stages without a
    place) form one row, judged once and counted as many times."""
    where = _lot_filter(since, until, org_ids)
    st = _stages_of(select(Lot.id).where(*where))
    has_stages = st.c.lot_id.is_not(None)  # the lot has a stage (the check needs only whether)
    has_unplaced = func.coalesce(st.c.unplaced, 0) > 0
    keys = (Lot.owner_org_id, Lot.product_id, col(Lot.harvest_date).is_not(None), has_stages, has_unplaced)
    rows = session.exec(
        select(*keys, func.count())  # type: ignore[call-overload]
        .select_from(Lot)
        .outerjoin(st, st.c.lot_id == Lot.id)
        .where(*where)
        .group_by(*keys)
    ).all()
    orgs = {o.id: o for o in session.exec(select(Organisation)).all()}
    products = _products(session, {r[1] for r in rows}, orgs)
    stats: dict[int, dict[str, Any]] = {}
    for owner, product_id, harvested, staged, unplaced, n in rows:
        pf = products[product_id]
        facts = LotFacts(
            product_name=pf["product_name"],
            image_ok=pf["image_ok"],
            producer_name=pf["producer_name"],
            producer_address=pf["producer_address"],
            producer_public=pf["producer_public"],
            stages=int(bool(staged)),
            stages_without_location=int(bool(unplaced)),
            production_day=bool(harvested) or bool(staged),
            trace_code_ok=pf["gtin_ok"],  # lot codes are 1-20 characters (lots.models.check_lot_code)
            brand=pf["brand"],
            shelf_life_days=pf["shelf_life_days"],
            standards=pf["standards"],
        )
        s = stats.setdefault(owner, {"lots": 0, "complete": 0, "missing": dict.fromkeys(ITEMS, 0)})
        s["lots"] += n
        missing = missing_items(facts)
        s["complete"] += 0 if missing else n
        for code in missing:
            s["missing"][code] += n
    out = []
    for org_id, s in sorted(stats.items()):
        org = orgs.get(org_id)
        out.append({
            "orgId": org_id,
            "name": org.name if org else None,
            "lots": s["lots"],
            "complete": s["complete"],
            "completeShare": round(s["complete"] / s["lots"], 4) if s["lots"] else 0.0,
            "missing": {k: v for k, v in s["missing"].items() if v},
        })  # fmt: skip
    return out


def lot_ids_for_export(
    session: Session,
    p: Principal,
    *,
    since: datetime | None,
    until: datetime | None,
    org_id: int | None,
    after_id: int = 0,
    limit: int = 100,
) -> list[int]:
    """The lots of a period an export may hold: an authority's, every organisation's (or ``org_id``'s);
    anyone else's, the lots their organisation owns (another ``org_id`` is refused)."""
    if not p.reads_everything:
        if org_id is not None and org_id != p.org_id:
            raise Forbidden("an organisation exports its own lots only")
        org_id = p.org_id
    elif org_id is not None and session.get(Organisation, org_id) is None:
        raise NotFound(f"organisation {org_id} not found")
    q = select(Lot.id).where(col(Lot.id) > after_id)
    if org_id is not None:
        q = q.where(Lot.owner_org_id == org_id)
    if since is not None:
        q = q.where(col(Lot.created_at) >= since)
    if until is not None:
        q = q.where(col(Lot.created_at) < until)
    return [i for i in session.exec(q.order_by(col(Lot.id)).limit(limit)).all() if i is not None]
