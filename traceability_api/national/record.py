"""One lot's national traceability record, format ``agritrace-national-record/1`` (JSON Schema and
XSD in ``schema/``; each item's source: docs/national-record.md).  Built from the lot, its product
and producer, and the events of the lot and of the lots it was made from (one step back, through
transformations), with the lot's proof bundle attached so that a reader can check every stage
against the chain without our database."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from chain.client import AnchorContract
from labels.digital_link import build
from traceability_api.anchoring.proofs import lot_bundle
from traceability_api.consensus.gs1_uri import valid_gtin
from traceability_api.consumer.evidence_view import is_sensor_summary
from traceability_api.consumer.lot_dates import expiry, start_date
from traceability_api.consumer.steps import stage_of, step_key
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.models import Event, EventLot
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, LotStatus, Product, SerialUnit, usable_image
from traceability_api.national.items import ITEMS, LotFacts, missing_items
from traceability_api.national.location import place_code, stage_location
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal, party_uri
from traceability_api.places.models import Place
from traceability_api.privacy.access import note_reads
from traceability_api.privacy.models import Visibility
from traceability_api.registries.certificates import for_product, label, status_on
from traceability_api.timeutil import utcnow

FORMAT = "agritrace-national-record/1"
MAX_STAGES = 500  # a lot's record lists at most this many stages (stagesTruncated says so)
MAX_SERIALS = 1000


def _stages(
    session: Session, lot_ids: list[int], uris: dict[int, str], reader: Principal | None
) -> tuple[list[dict[str, Any]], int, set[int]]:
    rows = session.exec(
        select(EventLot.lot_id, Event)
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(col(EventLot.lot_id).in_(lot_ids))
        .order_by(col(Event.event_time), col(Event.id))
    ).all()
    events: dict[int, tuple[Event, list[str]]] = {}
    for lid, ev in rows:
        if is_sensor_summary(ev):  # evidence about a stage (shown in the bundle), not a stage of its own
            continue
        events.setdefault(ev.id or 0, (ev, []))[1].append(uris[lid])
    place_ids = {ev.place_id for ev, _ in events.values() if ev.place_id}
    places = {p.id: p for p in session.exec(select(Place).where(col(Place.id).in_(place_ids))).all()}
    orgs = {o.id: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(
        {ev.org_id for ev, _ in events.values()}))).all()}  # fmt: skip
    out = []
    for ev, codes in list(events.values())[:MAX_STAGES]:
        key = step_key(ev)
        org = orgs.get(ev.org_id)
        offset = ev.document.get("eventTimeZoneOffset")
        out.append({
            "kind": stage_of(ev, key),
            "step": key,
            "eventType": ev.event_type,
            "bizStep": ev.biz_step,
            "time": ev.document.get("eventTime") or ev.event_time.isoformat(),
            "timeZoneOffset": offset if isinstance(offset, str) else None,
            "productTraceCodes": sorted(set(codes)),
            "locationTraceCode": stage_location(places.get(ev.place_id or 0), ev.document),
            "actor": {"name": org.name if org else None, "partyId": party_uri(org) if org else None},
            "eventHashId": ev.hash_id,
            "visibility": ev.visibility,
        })  # fmt: skip
    if reader is not None:
        note_reads(session, reader, [ev for ev, _ in events.values()])  # authorities' reads: into the audit log
    hidden = {i for i, (ev, _) in enumerate(list(events.values())[:MAX_STAGES]) if not _may_see(reader, ev)}
    return out, len(events), hidden


def _may_see(reader: Principal | None, ev: Event) -> bool:
    """Whether the record's reader sees a stage's content: the operator (no reader), authorities,
    the organisation that recorded it, and, for a partners step, the owner of a lot made from its
    lot (in its custody chain).  Another organisation's private step shows only its time, lots and
    hash: "private, anchored"."""
    return (
        reader is None or reader.reads_everything or ev.org_id == reader.org_id or ev.visibility != Visibility.private
    )


def _redacted(stage: dict[str, Any]) -> dict[str, Any]:
    hidden = {"kind": "private", "step": "private", "eventType": None, "bizStep": None, "locationTraceCode": None,
              "actor": {"name": None, "partyId": None}}  # fmt: skip
    return {**stage, **hidden}  # time, time zone, lots, hash and visibility stay


def _certificates(session: Session, product: Product, origin: Place | None) -> list[dict[str, Any]]:
    """The registered certificates covering the product or its origin plot (registries), with their
    status on the day the record is made: what the consumer page shows."""
    today = utcnow().date()
    return [{
        "scheme": str(c.scheme),
        "label": label(c),
        "number": c.number,
        "issuer": c.issuer,
        "validFrom": c.valid_from.isoformat() if c.valid_from else None,
        "validUntil": c.valid_until.isoformat() if c.valid_until else None,
        "status": status_on(c, today),
        "verified": c.verified_at is not None,
        "documentSha256": c.document_sha256,
    } for c in for_product(session, product, [origin] if origin is not None else [])]  # fmt: skip


def _serials(session: Session, lot: Lot) -> dict[str, Any]:
    rows = session.exec(
        select(SerialUnit.serial).where(SerialUnit.lot_id == lot.id).order_by(col(SerialUnit.id)).limit(MAX_SERIALS + 1)
    ).all()
    return {"count": len(rows[:MAX_SERIALS]), "items": list(rows[:MAX_SERIALS]), "truncated": len(rows) > MAX_SERIALS}


def national_record(
    session: Session,
    lot: Lot,
    product: Product,
    *,
    base_url: str,
    contract: AnchorContract | None = None,
    with_bundle: bool = True,
    reader: Principal | None = None,
) -> dict[str, Any]:
    """The lot's record with every mandatory item (empty where missing) and what is missing.  The
    check reads every stage; another organisation's private stages are then shown to ``reader`` as
    "private" (time, lots and hash only)."""
    assert lot.id is not None
    lot_ids = upstream(session, lot.id)
    lots = session.exec(
        select(Lot, Product).join(Product, col(Product.id) == Lot.product_id).where(col(Lot.id).in_(lot_ids))
    ).all()
    uris = {x.id or 0: lot_uri(p.gtin, x.lot_code) for x, p in lots}
    stages, total, hidden = _stages(session, lot_ids, uris, reader)
    producer = session.get(Organisation, product.org_id)
    origin = session.get(Place, lot.origin_place_id) if lot.origin_place_id else None
    started = start_date(session, lot)
    expires = expiry(product, started)
    record: dict[str, Any] = {
        "format": FORMAT,
        "generatedAt": utcnow().isoformat(timespec="seconds"),
        "traceCode": {
            "gtin": product.gtin,
            "lotCode": lot.lot_code,
            "uri": lot_uri(product.gtin, lot.lot_code),
            "digitalLink": build(product.gtin, lot.lot_code).uri(base_url) if valid_gtin(product.gtin) else None,
        },
        "product": {
            "name": product.name,
            "nameEn": product.name_en,
            "image": product.image_url if usable_image(product.image_url) else None,
            "brand": product.brand,
            "shelfLifeDays": product.shelf_life_days,
            "standards": list(product.standards or []),
            "certifications": list(product.certifications or []),
            "certificates": _certificates(session, product, origin),
            "ocopStars": product.ocop_stars,
        },
        "producer": {
            "name": producer.name if producer else None,
            "address": producer.address if producer else None,
            "province": producer.province if producer else None,
            "partyId": party_uri(producer) if producer else None,
            "gln": producer.gln if producer else None,
            "publicProfile": bool(producer and producer.public_profile),
        },
        "productionTime": started.isoformat() if started else None,
        "expiryDate": expires.isoformat() if expires else None,
        "quantity": {"value": lot.quantity, "uom": lot.uom},
        "status": lot.status.value if isinstance(lot.status, LotStatus) else str(lot.status),
        "serials": _serials(session, lot),
        "origin": place_code(origin) if origin is not None else None,
        "upstreamLots": [uris[i] for i in lot_ids[1:]],
        "stages": stages,
        "stagesTruncated": total > len(stages),
    }
    record["completeness"] = completeness_of(record)
    record["stages"] = [_redacted(st) if i in hidden else st for i, st in enumerate(stages)]
    if with_bundle:
        record["proofBundle"] = lot_bundle(session, lot, product, contract)
    return record


def facts_of(record: dict[str, Any]) -> LotFacts:
    product, producer, stages = record["product"], record["producer"], record["stages"]
    return LotFacts(
        product_name=product["name"],
        image_ok=bool(product["image"]),
        producer_name=producer["name"],
        producer_address=producer["address"],
        producer_public=producer["publicProfile"],
        stages=len(stages),
        stages_without_location=sum(1 for s in stages if not s["locationTraceCode"]),
        production_day=record["productionTime"] is not None,
        trace_code_ok=valid_gtin(record["traceCode"]["gtin"]) and bool(record["traceCode"]["lotCode"]),
        brand=product["brand"],
        shelf_life_days=product["shelfLifeDays"],
        standards=product["standards"],
    )


def completeness_of(record: dict[str, Any]) -> dict[str, Any]:
    missing = missing_items(facts_of(record))
    return {
        "complete": not missing,
        "items": len(ITEMS),
        "missing": [{"item": c, "vi": ITEMS[c][0], "en": ITEMS[c][1]} for c in missing],
    }
