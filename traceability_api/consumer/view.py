"""Builds the plain view model of a consumer page from the domain (consumer_site renders it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Text, cast, func
from sqlmodel import Session, select

from chain.client import AnchorContract
from consumer_site import formatting as fmt
from consumer_site.i18n import STRINGS
from consumer_site.render import PRODUCT_ICON
from consumer_site.viewmodel import LotInfo, LotPage, Origin, Producer, ProductView, Verification
from labels.digital_link import build
from traceability_api.anchoring.proofs import verify_events
from traceability_api.authority.recall import active_recall_reason
from traceability_api.consumer.evidence_view import diary_items, is_diary, is_sensor_summary, sensor_items
from traceability_api.consumer.lot_dates import day_text, expiry, start_date
from traceability_api.consumer.registry_view import registry_chips
from traceability_api.consumer.steps import make_step, private_step
from traceability_api.epcis.vocabulary import RECALLED, SHIPPING
from traceability_api.events.models import Event, EventLot
from traceability_api.fsma.cte import DESTINATION_MARKET
from traceability_api.husbandry.activities import ANIMAL_PLACES
from traceability_api.limits import loads_stored
from traceability_api.lots.lineage import upstream
from traceability_api.lots.models import Lot, LotLink, LotStatus, Product, usable_image
from traceability_api.parties.models import Organisation
from traceability_api.places.models import PRODUCTION_KINDS, Place
from traceability_api.privacy.commitments import public_views

GROWING = PRODUCTION_KINDS  # plots and farms; ponds, cages, barns, flock houses, hatcheries


class RootCache:
    """Chain lookups of anchored roots, shared by page renders: positive answers are final."""

    def __init__(self, negative_ttl_s: float = 10.0) -> None:
        self._known: dict[str, bool] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.negative_ttl_s = negative_ttl_s

    def snapshot(self) -> dict[str, bool]:
        now = time.monotonic()
        with self._lock:
            return {r: ok for r, ok in self._known.items() if ok or now - self._checked[r] < self.negative_ttl_s}

    def update(self, roots: dict[str, bool]) -> None:
        now = time.monotonic()
        with self._lock:
            for r, ok in roots.items():
                if r not in self._known or not self._known[r]:
                    self._known[r], self._checked[r] = ok, now


ROOTS = RootCache()


SEASON = timedelta(days=300)


# the document as stored text: verification memoises hashes on it, and the page needs no parsed copy
EVENT_COLS = (Event.id, cast(Event.document, Text).label("document_text"), Event.hash_id, Event.event_time,
              Event.event_type, Event.biz_step, Event.disposition, Event.org_id, Event.place_id,
              Event.hash_rule, Event.signature, Event.visibility)  # fmt: skip


def _add_season(session: Session, events: dict[int, tuple[Any, list[Any]]], lots: Sequence[Lot]) -> None:
    """Farm work recorded on a lot's plot during the season before its harvest joins its story."""
    first: dict[int, datetime] = {}
    for ev, links in events.values():
        for link in links:
            if link.lot_id not in first or ev.event_time < first[link.lot_id]:
                first[link.lot_id] = ev.event_time
    for x in lots:
        if x.origin_place_id is None or x.id not in first:
            continue
        harvest = first[x.id]
        season = session.execute(
            select(*EVENT_COLS).where(  # type: ignore[call-overload]
                Event.place_id == x.origin_place_id, Event.event_time <= harvest, Event.event_time >= harvest - SEASON
            )
        ).all()
        for ev in season:
            events.setdefault(ev.id, (ev, []))
    ordered = sorted(events.items(), key=lambda kv: (kv[1][0].event_time, kv[0]))
    events.clear()
    events.update(ordered)


@dataclass
class _Loaded:
    """Everything a lot page shows, loaded in a few queries."""

    events: dict[int, tuple[Any, list[Any]]]
    lots: list[Lot]
    orgs: dict[int, Organisation]
    places: dict[int, Place]

    def org_name(self, org_id: int | None) -> str | None:
        o = self.orgs.get(org_id or 0)
        return o.name if o is not None and o.public_profile else None


def _made_from(session: Session, lot_id: int, lot_ids: list[int]) -> dict[int, datetime]:
    """When each upstream lot last gave a lot of this one's lineage: its part of the story ends
    there (a lot split off and sold: the parent's later sales of the rest are not this lot's)."""
    up = [i for i in lot_ids if i != lot_id]
    if not up:
        return {}
    rows = session.exec(
        select(LotLink.parent_lot_id, func.max(Event.event_time))
        .join(Event, Event.id == LotLink.event_id)  # type: ignore[arg-type]
        .where(LotLink.parent_lot_id.in_(up), LotLink.child_lot_id.in_(lot_ids))  # type: ignore[attr-defined]
        .group_by(LotLink.parent_lot_id)  # type: ignore[arg-type]
    ).all()
    return {parent: when for parent, when in rows if when is not None}


def _load(session: Session, lot: Lot, product: Product) -> _Loaded:
    assert lot.id is not None
    lot_ids = upstream(session, lot.id)
    rows = session.execute(
        select(*EVENT_COLS, EventLot.lot_id, EventLot.quantity, EventLot.uom, EventLot.role)  # type: ignore[call-overload]
        .join(EventLot, EventLot.event_id == Event.id)  # type: ignore[arg-type]
        .where(EventLot.lot_id.in_(lot_ids))  # type: ignore[attr-defined]
        .order_by(Event.event_time, Event.id)  # type: ignore[arg-type]
    ).all()
    cut = _made_from(session, lot.id, lot_ids)
    kept = {r.id for r in rows if r.lot_id not in cut or r.event_time <= cut[r.lot_id] or r.disposition == RECALLED}
    events: dict[int, tuple[Any, list[Any]]] = {}
    for row in rows:
        if row.id in kept:
            events.setdefault(row.id, (row, []))[1].append(row)
    lots = list(session.exec(select(Lot).where(Lot.id.in_(lot_ids))).all())  # type: ignore[attr-defined, union-attr]
    _add_season(session, events, lots)
    org_ids = {ev.org_id for ev, _ in events.values()} | {lot.holder_org_id, product.org_id}
    orgs = {o.id: o for o in session.exec(select(Organisation).where(Organisation.id.in_(org_ids))).all()}  # type: ignore[union-attr]
    place_ids = {x.origin_place_id for x in lots} | {ev.place_id for ev, _ in events.values()}
    places = {p.id: p for p in session.exec(select(Place).where(Place.id.in_([i for i in place_ids if i]))).all()}  # type: ignore[attr-defined, union-attr]
    return _Loaded(events, lots, orgs, places)  # type: ignore[arg-type]


def _origin(lot: Lot, data: _Loaded) -> Origin | None:
    """The growing area (a farm or plot the lot or its inputs came from); failing that, where the
    lot was made, labelled as such: a packhouse is not a growing area."""
    for pid in [lot.origin_place_id, *(x.origin_place_id for x in data.lots)]:
        p = data.places.get(pid or 0)
        if p is not None and p.kind in GROWING:
            raised = p.kind in ANIMAL_PLACES
            return Origin(p.name, p.sector_code if raised else p.planting_area_code, raised=raised)
    for ev, links in data.events.values():
        p = data.places.get(ev.place_id or 0)
        if p is not None and any(x.lot_id == lot.id for x in links):
            return Origin(p.name, None, growing_area=False)
    return None


def _market(lot: Lot, data: _Loaded, lang: str) -> str | None:
    """The destination market of the lot's latest shipment that names one (agri:destinationMarket,
    ISO 3166 alpha-2), as the country's name in the page's language."""
    from babel import Locale

    for ev, links in reversed(list(data.events.values())):
        if (
            ev.biz_step == SHIPPING
            and ev.visibility == "public"  # a non-public shipment's market stays behind its commitment
            and any(x.lot_id == lot.id for x in links)
            and DESTINATION_MARKET in ev.document_text
        ):
            code = loads_stored(ev.document_text).get(DESTINATION_MARKET)
            if isinstance(code, str) and len(code) == 2:
                return str(Locale(lang).territories.get(code.upper(), code.upper()))
    return None


def _verification(v: Any, lang: str, counts: tuple[int, int, int], bundle_url: str) -> Verification:
    anchored_at = None
    if v.latest_batch and v.latest_batch.get("blockTimestamp"):
        anchored_at = fmt.when(datetime.fromtimestamp(v.latest_batch["blockTimestamp"], UTC), lang)
    steps, diary, sensors = counts
    t = STRINGS[lang]
    summary = t["proof_summary"].format(
        checked=fmt.count(v.checked, t["n_records"], lang),
        steps=fmt.count(steps, t["n_steps"], lang),
        diary=fmt.count(diary, t["n_diary"], lang),
        sensors=fmt.count(sensors, t["n_sensors"], lang),
    )
    return Verification(v.status, summary, v.latest_batch, anchored_at, bundle_url)


def _product_view(product: Product, lang: str) -> ProductView:
    name = product.name_en if lang == "en" and product.name_en else product.name
    image = product.image_url if usable_image(product.image_url) else None
    return ProductView(name, product.gtin, product.brand, product.ocop_stars, list(product.certifications),
                       PRODUCT_ICON, image)  # fmt: skip


def build_lot_view(
    session: Session,
    *,
    lot: Lot,
    product: Product,
    lang: str,
    base_url: str,
    contract: AnchorContract | None,
    serial: str | None = None,
    copy_warning: bool = False,
) -> LotPage:
    assert lot.id is not None
    data = _load(session, lot, product)
    codes = {x.id: x.lot_code for x in data.lots if x.id is not None}
    timeline, docs, n_diary, n_sensor = [], [], 0, 0
    hidden = public_views(session, [ev for ev, _ in data.events.values()])
    for ev, links in data.events.values():
        if ev.id in hidden:  # only its revealed fields; a partners-only diary entry joins the diary
            fields = hidden[ev.id].fields
            if is_diary(ev) and fields.get("bizStep"):
                docs.append((ev, fields))
                n_diary += 1
            else:
                timeline.append(private_step(ev, fields, lang, who=data.org_name(ev.org_id)))
            continue
        if is_diary(ev) or is_sensor_summary(ev):  # shown in their own sections, dated when recorded
            docs.append((ev, loads_stored(ev.document_text)))
            n_diary, n_sensor = n_diary + is_diary(ev), n_sensor + is_sensor_summary(ev)
            continue
        place = data.places.get(ev.place_id or 0)
        where = place.name if place is not None else None
        timeline.append(make_step(ev, links, lang, who=data.org_name(ev.org_id), where=where, codes=codes))
    roots = ROOTS.snapshot()
    before = dict(roots)
    v = verify_events(session, [ev for ev, _ in data.events.values()], contract, roots)
    ROOTS.update({r: ok for r, ok in roots.items() if r not in before})
    producer_org = data.orgs.get(product.org_id)
    link = build(product.gtin, lot.lot_code, serial)
    uri, trace_url = build(product.gtin, lot.lot_code).uri(base_url), link.uri(base_url)
    view = _product_view(product, lang)
    certs, codes_behind = registry_chips(session, lot, product, lang)
    return LotPage(
        lang=lang,
        alt_lang="en" if lang == "vi" else "vi",
        alt_lang_url=f"{trace_url}?lang={'en' if lang == 'vi' else 'vi'}",
        product=view,
        producer=Producer(producer_org.name, producer_org.address)
        if producer_org is not None and producer_org.public_profile
        else None,
        origin=_origin(lot, data),
        lot=LotInfo(
            code=lot.lot_code,
            serial=serial,
            harvest_date=day_text(lot.harvest_date, lang),
            expiry=day_text(expiry(product, start_date(session, lot)), lang),
            holder=data.org_name(lot.holder_org_id),
            market=_market(lot, data, lang),
        ),
        timeline=timeline,
        diary=diary_items(docs, data.lots, lang),
        sensors=sensor_items(session, docs, lang, lot),
        verification=_verification(
            v, lang, (len(timeline), n_diary, n_sensor), proof_bundle_url(base_url, product.gtin, lot.lot_code)
        ),
        recall=(active_recall_reason(session, lot.id) or "") if lot.status == LotStatus.recalled else None,
        copy_warning=copy_warning,
        trace_url=trace_url,
        jsonld=_jsonld(product, producer_org, uri, view.name, v.status, lot),
        certificates=certs,
        codes=codes_behind,
    )


def proof_bundle_url(base_url: str, gtin: str, lot_code: str) -> str:
    return f"{base_url}/api/v1/proofs/lots/{gtin}/{quote(lot_code, safe='')}"


def _jsonld(product: Product, org: Organisation | None, uri: str, name: str, status: str, lot: Lot) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "@id": uri,
        "name": name,
        "gtin14": product.gtin,
        "url": uri,
        "sku": f"{product.gtin}-{lot.lot_code}",
        "additionalProperty": [
            {"@type": "PropertyValue", "name": "lot", "value": lot.lot_code},
            {"@type": "PropertyValue", "name": "traceabilityStatus", "value": status},
            {"@type": "PropertyValue", "name": "traceLink", "value": uri},
        ],
    }
    if product.brand:
        data["brand"] = {"@type": "Brand", "name": product.brand}
    if org is not None and org.public_profile:
        data["manufacturer"] = {"@type": "Organization", "name": org.name, "address": org.address}
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
