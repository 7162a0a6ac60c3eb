"""The console's anomaly feed: what an inspector should look at, newest first, from seven sources --
mass-balance over-shipment, sales of recalled lots, copied serial scans, consumers' counterfeit
reports, pre-harvest / withdrawal interval overrides, sensor breaches and late anchoring. Each source
is one query ordered by time and cut at the page's end (set-based; no query per row); the page
merges them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, or_
from sqlmodel import Session, col, select

from consumer_site.i18n import SENSOR_LABELS
from traceability_api.authority.mass_balance import counted_outflow, not_declared_erroneous
from traceability_api.consumer.models import CounterfeitReport, ScanLog
from traceability_api.consumer.scans import MAX_CLIENTS, MAX_PLACES, MAX_SCANS, WINDOW
from traceability_api.epcis import vocabulary as voc
from traceability_api.events.models import Event, EventLot
from traceability_api.evidence.models import KINDS as SENSOR_KINDS
from traceability_api.evidence.models import SensorKind
from traceability_api.husbandry.models import SensorAlert
from traceability_api.lots.models import Lot, Product
from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.parties.models import Organisation
from traceability_api.places.models import Place
from traceability_api.timeutil import utcnow

PAGE_SIZE = 50
MAX_PAGE = 40  # the feed is for what is new: 2,000 items back at most
LATE_ANCHOR_MIN = 30  # default: an event waiting longer than this for its anchor is late
TOLERANCE = 0.02
SELLING = voc.BIZSTEP + "retail_selling"
KINDS = ("mass_balance", "sold_after_recall", "copied_scan", "counterfeit_report", "override", "sensor", "late_anchor")


@dataclass(frozen=True)
class Anomaly:
    kind: str
    at: datetime
    lot_id: int | None
    lot: str | None  # product name and lot code
    detail: str
    # what the page words in its language (the JSON keeps ``detail``): a sensor breach's place, kind,
    # bound ("low"/"high"), threshold and worst value; an over-shipment's shipper (name), shipped and
    # harvested quantities and unit code; a copied serial and its scans; a late or overriding event's id
    facts: tuple[Any, ...] | None = None

    @property
    def href(self) -> str | None:
        """The console's lot page (its lineage, proof status and recall)."""
        return f"/app/console/lots/{self.lot_id}" if self.lot_id is not None else None


def _label(name: str | None, code: str | None) -> str | None:
    return f"{name} · {code}" if name and code else None


def _mass_balance(s: Session, n: int) -> list[Anomaly]:
    out = (
        select(
            EventLot.lot_id,
            Event.org_id,
            func.sum(EventLot.quantity).label("qty"),
            func.max(Event.event_time).label("at"),
        )  # fmt: skip
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(counted_outflow())
        .group_by(EventLot.lot_id, Event.org_id)  # type: ignore[arg-type]
        .subquery()
    )
    lot_cols = (Lot.id, Product.name, Lot.lot_code)
    cols = (out.c.at, *lot_cols, out.c.org_id, out.c.qty, Lot.quantity, Lot.uom, Organisation.name)
    q = (
        select(*cols)  # type: ignore[call-overload]
        .join(Lot, col(Lot.id) == out.c.lot_id)
        .join(Product, col(Product.id) == Lot.product_id)
        .join(Organisation, col(Organisation.id) == out.c.org_id)
        .where(out.c.qty > Lot.quantity * (1 + TOLERANCE) + 1e-9)
        .order_by(out.c.at.desc())
        .limit(n)
    )
    return [Anomaly("mass_balance", at, lid, _label(name, code), f"org {org}: {qty:g} / {total:g} {uom}",
                    (org_name, qty, total, uom))
            for at, lid, name, code, org, qty, total, uom, org_name in s.exec(q).all()]  # fmt: skip


def _sold_after_recall(s: Session, n: int) -> list[Anomaly]:
    """Sales of a lot recorded at a time after its recall: the recall service's event on the lot
    (disposition recalled) marks when; a sale before it, recorded late, is no anomaly.  A recalled lot
    may not be shipped, but a shop can still record selling it: that is what an inspector must see."""
    recalled_at = (
        select(EventLot.lot_id, func.min(Event.event_time).label("at"))
        .join(Event, col(Event.id) == EventLot.event_id)
        .where(Event.disposition == voc.RECALLED)
        .group_by(EventLot.lot_id)  # type: ignore[arg-type]
        .subquery()
    )
    q = (
        select(Event.event_time, Lot.id, Product.name, Lot.lot_code, Event.id, Organisation.name, recalled_at.c.at)  # type: ignore[call-overload]
        .join(EventLot, col(EventLot.event_id) == Event.id)
        .join(recalled_at, recalled_at.c.lot_id == EventLot.lot_id)
        .join(Lot, col(Lot.id) == EventLot.lot_id)
        .join(Product, col(Product.id) == Lot.product_id)
        .join(Organisation, col(Organisation.id) == Event.org_id)
        .where(Event.biz_step == SELLING, Event.event_time > recalled_at.c.at, not_declared_erroneous())
        .order_by(col(Event.event_time).desc())
        .limit(n)
    )
    return [Anomaly("sold_after_recall", at, lid, _label(name, code),
                    f"event {eid} by {org} after the recall of {day.isoformat()}", (eid, org, day))
            for at, lid, name, code, eid, org, day in s.exec(q).all()]  # fmt: skip


def _copied(s: Session, n: int) -> list[Anomaly]:
    bad_tokens = func.sum(case((ScanLog.token_ok == False, 1), else_=0))  # type: ignore[arg-type]  # noqa: E712
    at = func.max(ScanLog.scanned_at).label("at")
    q = (
        select(at, ScanLog.lot_id, ScanLog.serial, func.count(), Product.name, Lot.lot_code)  # type: ignore[call-overload]
        .join(Lot, col(Lot.id) == ScanLog.lot_id)
        .join(Product, col(Product.id) == Lot.product_id)
        .where(col(ScanLog.serial).is_not(None), ScanLog.scanned_at >= utcnow() - WINDOW)
        .group_by(ScanLog.lot_id, ScanLog.serial, Product.name, Lot.lot_code)
        .having(
            or_(
                bad_tokens > 0,
                func.count() > MAX_SCANS,
                func.count(func.distinct(ScanLog.client_hash)) >= MAX_CLIENTS,
                func.count(func.distinct(ScanLog.coarse_location)) >= MAX_PLACES,
            )
        )  # fmt: skip
        .order_by(at.desc())
        .limit(n)
    )
    return [Anomaly("copied_scan", when, lid, _label(name, code), f"serial {serial}: {k} scans", (serial, k))
            for when, lid, serial, k, name, code in s.exec(q).all()]  # fmt: skip


def _reports(s: Session, n: int) -> list[Anomaly]:
    q = (
        select(CounterfeitReport.created_at, CounterfeitReport.code, Lot.id, Product.name, Lot.lot_code)  # type: ignore[call-overload]
        .outerjoin(Product, col(Product.gtin) == CounterfeitReport.gtin)
        .outerjoin(Lot, and_(col(Lot.product_id) == Product.id, col(Lot.lot_code) == CounterfeitReport.lot_code))
        .order_by(col(CounterfeitReport.created_at).desc())
        .limit(n)
    )
    return [Anomaly("counterfeit_report", at, lid, _label(name, lot_code), code)
            for at, code, lid, name, lot_code in s.exec(q).all()]  # fmt: skip


def _overrides(s: Session, n: int) -> list[Anomaly]:
    ilmd = cast(Lot.ilmd, Text)
    lots = (
        select(Lot.created_at, Lot.id, Product.name, Lot.lot_code, Lot.ilmd)  # type: ignore[call-overload]
        .join(Product, col(Product.id) == Lot.product_id)
        .where(or_(ilmd.contains("phiOverride"), ilmd.contains("withdrawalOverride")))
        .order_by(col(Lot.created_at).desc())
        .limit(n)
    )
    out = []
    for at, lid, name, code, data in s.exec(lots).all():
        found = data.get("agri:phiOverride") or data.get("agri:withdrawalOverride") or {}
        out.append(Anomaly("override", at, lid, _label(name, code), str(found.get("reason", ""))[:300]))
    sales = (
        select(Event.event_time, func.min(EventLot.lot_id), Event.id)
        .join(EventLot, col(EventLot.event_id) == Event.id)
        .where(Event.biz_step == SELLING, cast(Event.document, Text).contains("withdrawalOverride"))
        .group_by(Event.id, Event.event_time)  # type: ignore[arg-type]
        .order_by(col(Event.event_time).desc())
        .limit(n)
    )
    out += [Anomaly("override", at, lid, None, f"event {eid}", (eid,)) for at, lid, eid in s.exec(sales).all()]
    return out


def _sensors(s: Session, n: int) -> list[Anomaly]:
    q = (
        select(SensorAlert, Place.name)
        .outerjoin(Place, col(Place.id) == SensorAlert.place_id)
        .order_by(col(SensorAlert.started_at).desc())
        .limit(n)
    )
    return [Anomaly("sensor", a.started_at, None, None, f"{place or ''} {a.kind} {a.bound} {a.threshold:g}: {a.peak:g}",
                    (place or "", a.kind, a.bound, a.threshold, a.peak))
            for a, place in s.exec(q).all()]  # fmt: skip


def _late(s: Session, n: int, late_min: int) -> list[Anomaly]:
    q = (
        select(AnchorItem.created_at, AnchorItem.ref_id, func.min(EventLot.lot_id))
        .outerjoin(EventLot, col(EventLot.event_id) == AnchorItem.ref_id)
        .where(
            AnchorItem.kind == ItemKind.event,
            col(AnchorItem.batch_id).is_(None),
            AnchorItem.created_at < utcnow() - timedelta(minutes=late_min),
        )  # fmt: skip
        .group_by(AnchorItem.id, AnchorItem.created_at, AnchorItem.ref_id)  # type: ignore[arg-type]
        .order_by(col(AnchorItem.created_at).desc())
        .limit(n)
    )
    return [Anomaly("late_anchor", at, lid, None, f"event {eid}", (eid,)) for at, eid, lid in s.exec(q).all()]


def feed(s: Session, page: int = 1, late_min: int = LATE_ANCHOR_MIN) -> tuple[list[Anomaly], bool]:
    """The page's anomalies, newest first, and whether there are more."""
    n = page * PAGE_SIZE + 1
    items: list[Anomaly] = []
    for source in (_mass_balance, _sold_after_recall, _copied, _reports, _overrides, _sensors):
        items += source(s, n)
    items += _late(s, n, late_min)
    items.sort(key=lambda a: a.at, reverse=True)
    start = (page - 1) * PAGE_SIZE
    return items[start : start + PAGE_SIZE], len(items) > start + PAGE_SIZE


def lot_labels(s: Session, items: list[Anomaly]) -> dict[int, str]:
    """Product and lot code of the lots the page names that the sources did not label (one query)."""
    ids = {a.lot_id for a in items if a.lot_id is not None and a.lot is None}
    if not ids:
        return {}
    q = select(Lot.id, Product.name, Lot.lot_code).join(Product, col(Product.id) == Lot.product_id)
    return {lid: f"{name} · {code}" for lid, name, code in s.exec(q.where(col(Lot.id).in_(ids))).all()}  # type: ignore[misc]


def worded(a: Anomaly, ct: dict[str, str], lang: str, zone: tzinfo = UTC) -> str:
    """The item's detail as the page says it, in the console's language (``ct``), times in ``zone``."""
    from traceability_api.workspace.i18n import number, quantity, when

    if a.facts is None:
        return a.detail
    if a.kind == "sensor":
        place, kind, bound, threshold, peak = a.facts
        what = SENSOR_LABELS["vi" if lang == "vi" else "en"].get(kind, kind)  # the consumer page's names
        side = ct["an_below"] if bound == "low" else ct["an_above"]
        # as readings: °C, mg/L, % after the number; pH and a pest trap's count without a word
        code = SENSOR_KINDS[SensorKind(kind)][2] if kind in {k.value for k in SensorKind} else None
        text = ct["an_sensor_detail"].format(what=what, side=side, threshold=quantity(threshold, code, lang, "reading"),
                                             peak=quantity(peak, code, lang, "reading"))  # fmt: skip
        return f"{place}: {text}" if place else text
    if a.kind == "mass_balance":
        org, shipped, harvested, code = a.facts
        return ct["an_mass_detail"].format(org=org, shipped=quantity(shipped, code, lang),
                                           total=quantity(harvested, code, lang))  # fmt: skip
    if a.kind == "copied_scan":
        serial, scans = a.facts
        return ct["an_copied_detail"].format(serial=serial, n=number(scans, lang))
    if a.kind == "sold_after_recall":
        event_id, org, day = a.facts
        return ct["an_sold_detail"].format(n=event_id, org=org, day=when(day, lang, zone))
    return ct["an_event"].format(n=a.facts[0])


def as_dict(a: Anomaly, labels: dict[int, Any]) -> dict[str, Any]:
    return {"kind": a.kind, "at": a.at.isoformat(), "lotId": a.lot_id, "lot": a.lot or labels.get(a.lot_id or 0),
            "href": a.href, "detail": a.detail}  # fmt: skip
