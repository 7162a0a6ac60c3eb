"""Recalls: opened by an authority or the owner of the lots, propagated downstream through the
lineage graph; every affected lot gets a recorded (and anchored) EPCIS event with disposition
``recalled``, and a report lists each lot, its holder and quantity."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, or_
from sqlmodel import Session, select

from traceability_api.authority.models import Recall
from traceability_api.authority.recall_notices import create_notices
from traceability_api.config import Settings
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.lots.lineage import walk
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal

REASON_MAX = 500  # characters of a recall's reason (the API's and the console's forms)


# embeddings, overrides and isolates: U+202E turns the text after it around on every page showing it
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_reason(reason: str) -> None:
    """The reason is shown on consumer pages and in notices: plain text, no control characters and
    no text-direction overrides (which make it read otherwise than it was written)."""
    bad = next(
        (c for c in reason if c in _BIDI_CONTROLS or (unicodedata.category(c) == "Cc" and c not in "\n\t")), None
    )
    if bad is not None:
        raise Invalid(f"the recall reason holds the control character U+{ord(bad):04X}: write plain text")


def open_recall(
    session: Session,
    p: Principal,
    lot_ids: list[int],
    reason: str,
    scope: str,
    settings: Settings,
    *,
    checks: Sequence[EventCheck],
) -> Recall:
    p.require_write()
    if not lot_ids:
        raise Invalid("name at least one lot to recall")
    _check_reason(reason)
    if scope not in ("lot", "downstream"):
        raise Invalid("scope is 'lot' or 'downstream'")
    roots = session.exec(select(Lot).where(Lot.id.in_(lot_ids))).all()  # type: ignore[attr-defined, union-attr]
    if len(roots) != len(set(lot_ids)):
        raise NotFound("some of the lots do not exist")
    if not p.is_authority and any(r.owner_org_id != p.org_id for r in roots):
        raise Forbidden("only a market authority or the lots' owner may open a recall")
    _not_already_recalled(session, set(lot_ids), scope)
    affected_ids = _affected(session, roots, scope)
    rows = session.exec(
        select(Lot, Product).join(Product, Product.id == Lot.product_id).where(Lot.id.in_(list(affected_ids)))  # type: ignore[arg-type, union-attr]
    ).all()
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    report: list[dict[str, Any]] = []
    events = []
    for lot, product in sorted(rows, key=lambda r: (affected_ids[r[0].id or 0], r[0].id)):
        report.append(_report_row(lot, product, affected_ids[lot.id or 0], orgs))
        if lot.status == LotStatus.recalled:
            continue
        lot_ref = lot_uri(product.gtin, lot.lot_code)
        events.append(object_event("holding", settings.zone, disposition="recalled", lot=lot_ref))
    if events:
        capture_events(session, p, events, DEFAULT_CONTEXT, settings, checks=checks, recall=True)
    recall = Recall(
        org_id=p.org_id,
        member_id=p.member_id,
        reason=reason,
        scope=scope,
        root_lot_ids=sorted(set(lot_ids)),
        affected=report,
    )
    session.add(recall)
    session.flush()
    create_notices(session, recall)  # delivered after commit by recall_notify.py
    return recall


def _not_already_recalled(session: Session, lot_ids: set[int], scope: str) -> None:
    """A lot already covered by an open recall of the same or a wider scope is not recalled again
    (its holders would get a second notice for the same thing): a downstream recall covers every lot
    it reached (and what is made from them), a lot recall its own lots for a lot recall.  Widening a
    lot recall to its downstream lots is a new recall."""
    for open_one in session.exec(select(Recall).where(Recall.status == "open")):
        if open_one.scope == "downstream":
            covered = {int(a["lotId"]) for a in open_one.affected} | set(open_one.root_lot_ids)
        else:
            covered = set(open_one.root_lot_ids) if scope == "lot" else set()
        again = lot_ids & covered
        if again:
            widen = "" if open_one.scope == "downstream" else ", or recall downstream to widen it"
            raise Conflict(
                f"lot {min(again)} is already under open recall #{open_one.id} ({open_one.scope}): "
                f"close that recall first{widen}"
            )


def _affected(session: Session, roots: Sequence[Lot], scope: str) -> dict[int, int]:
    """Lots the recall reaches, each with its distance (in transformations) from a root."""
    affected: dict[int, int] = {}
    for r in roots:
        assert r.id is not None
        reach = walk(session, r.id, "forward") if scope == "downstream" else {r.id: 0}
        for k, v in reach.items():
            affected[k] = min(v, affected.get(k, v))
    return affected


def _report_row(lot: Lot, product: Product, distance: int, orgs: dict[Any, str]) -> dict[str, Any]:
    """A lot of the report: its holder and, for a lot on its way, the organisation it was shipped to
    (the goods reach that one: it is notified too)."""
    heading = lot.in_transit_to_org_id if lot.status == LotStatus.in_transit else None
    return {
        "lotId": lot.id,
        "uri": lot_uri(product.gtin, lot.lot_code),
        "product": product.name,
        "distance": distance,
        "holderOrgId": lot.holder_org_id,
        "holder": orgs.get(lot.holder_org_id),
        "inTransitToOrgId": heading,
        "inTransitTo": orgs.get(heading) if heading is not None else None,
        "quantityRemaining": lot.quantity_remaining,
        "uom": lot.uom,
        "statusBefore": lot.status,
    }


def active_recall_reason(session: Session, lot_id: int) -> str | None:
    """The latest recall naming the lot.  The database narrows by the lot's id in the stored JSON
    text (the same on SQLite and PostgreSQL); Python confirms, so a near miss cannot match."""
    text = cast(Recall.affected, Text)
    near = or_(text.like(f'%"lotId": {lot_id},%'), text.like(f'%"lotId": {lot_id}}}%'))
    for r in session.exec(select(Recall).where(near).order_by(Recall.id.desc())).all():  # type: ignore[union-attr]
        if any(a["lotId"] == lot_id for a in r.affected):
            return r.reason
    return None
