"""Completeness of national records: one lot's (before it is published), and by organisation over
a period (for the authority console).  Both say what is missing through ``items.missing_items``.

The figures by organisation count each lot's own stages (a lot made from others is judged on its
own stages; its inputs count for their own owners), in a few queries per 1,000 lots."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from traceability_api.consensus.gs1_uri import valid_gtin
from traceability_api.epcis.vocabulary import BIZSTEP
from traceability_api.errors import Forbidden, NotFound
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.models import Lot, Product, usable_image
from traceability_api.national.items import ITEMS, LotFacts, describe, missing_items
from traceability_api.national.location import named_location
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal

CHUNK = 1000
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


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _stage_counts(session: Session, ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    stage = or_(col(Event.biz_step).is_(None), col(Event.biz_step) != SENSOR_SUMMARY)  # as record.py
    counts = dict(
        session.exec(  # type: ignore[arg-type]
            select(EventLot.lot_id, func.count(func.distinct(EventLot.event_id)))
            .join(Event, col(Event.id) == EventLot.event_id)
            .where(col(EventLot.lot_id).in_(ids), stage)
            .group_by(col(EventLot.lot_id))
        ).all()
    )
    unplaced: dict[int, int] = {}
    for lid, doc in session.exec(
        select(EventLot.lot_id, Event.document)
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(col(EventLot.lot_id).in_(ids), col(Event.place_id).is_(None), stage)
    ).all():
        if named_location(dict(doc)) is None:
            unplaced[lid] = unplaced.get(lid, 0) + 1
    return counts, unplaced


def completeness_by_org(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    org_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Per organisation (owner of the lots recorded in [since, until)): lots, complete lots, their
    share, and how many lots lack each mandatory item."""
    q = select(Lot.id, Lot.owner_org_id).order_by(col(Lot.id))
    if since is not None:
        q = q.where(col(Lot.created_at) >= since)
    if until is not None:
        q = q.where(col(Lot.created_at) < until)
    if org_ids is not None:
        q = q.where(col(Lot.owner_org_id).in_(list(org_ids)))
    owners: dict[int, int] = dict(session.exec(q).all())  # type: ignore[arg-type]
    orgs = {o.id: o for o in session.exec(select(Organisation)).all()}
    stats: dict[int, dict[str, Any]] = {}
    for ids in _chunks(list(owners)):
        counts, unplaced = _stage_counts(session, ids)
        rows = session.exec(
            select(Lot, Product).join(Product, col(Product.id) == Lot.product_id).where(col(Lot.id).in_(ids))
        ).all()
        for lot, product in rows:
            producer = orgs.get(product.org_id)
            facts = LotFacts(
                product_name=product.name,
                image_ok=usable_image(product.image_url),
                producer_name=producer.name if producer else None,
                producer_address=producer.address if producer else None,
                producer_public=bool(producer and producer.public_profile),
                stages=counts.get(lot.id or 0, 0),
                stages_without_location=unplaced.get(lot.id or 0, 0),
                production_day=lot.harvest_date is not None or counts.get(lot.id or 0, 0) > 0,
                trace_code_ok=valid_gtin(product.gtin) and bool(lot.lot_code),
                brand=product.brand,
                shelf_life_days=product.shelf_life_days,
                standards=list(product.standards or []),
            )
            s = stats.setdefault(lot.owner_org_id, {"lots": 0, "complete": 0, "missing": dict.fromkeys(ITEMS, 0)})
            s["lots"] += 1
            missing = missing_items(facts)
            s["complete"] += not missing
            for code in missing:
                s["missing"][code] += 1
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
