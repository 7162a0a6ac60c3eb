"""A lot's timeline with each step's proof status, and the consumer page one tap away."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consumer_site.i18n import STEP_NAMES
from labels.digital_link import build
from traceability_api.anchoring.models import BatchStatus
from traceability_api.anchoring.proofs import anchor_rows
from traceability_api.consumer.steps import step_key, step_title
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import Forbidden, NotFound
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event
from traceability_api.events.service import events_of_lot
from traceability_api.national.completeness import lot_completeness, own_lot
from traceability_api.national.record import national_record
from traceability_api.national.xml import to_xml
from traceability_api.validation import DbId
from traceability_api.workspace import i18n
from traceability_api.workspace.web import PageDep, not_found, render

router = APIRouter(prefix="/app", include_in_schema=False)


def step_name(ev: Event, lang: str) -> str:
    """The step in the page's language: the consumer pages' names (a recall's holding event is the
    recall, a sector activity its own name), the diary's activities."""
    key = step_key(ev)
    return STEP_NAMES[lang].get(key) or i18n.ACTIVITIES[lang].get(key) or step_title(key, lang)


@router.get("/lots/{lot_id}")
def timeline(lot_id: DbId, request: Request, page: PageDep, session: SessionDep) -> Response:
    p = page.user.principal
    try:
        lot, product = get_lot(session, p, lot_id)
    except NotFound:
        return not_found(request, page)
    events = events_of_lot(session, lot_id, p)
    rows = anchor_rows(session, [e.id for e in events if e.id is not None])
    steps = []
    for ev in events:
        row = rows.get(ev.id or 0)
        anchored = row is not None and row.batch_id is not None and row.status == BatchStatus.anchored
        steps.append({"step": step_name(ev, page.lang), "when": i18n.when(ev.event_time, page.lang, page.settings.zone),
                      "anchored": anchored, "tx": row.tx_hash if anchored and row else None})  # fmt: skip
    consumer = build(product.gtin, lot.lot_code).uri(page.settings.public_base_url)
    national = None  # the owner (or an authority) sees what the national record still lacks
    if p.reads_everything or lot.owner_org_id == p.org_id:
        base = page.settings.public_base_url
        record = national_record(session, lot, product, base_url=base, with_bundle=False, reader=p)
        national = lot_completeness(record, page.lang)
    return render(request, "lot.html", page=page, lot=lot, product=product, steps=steps, consumer=consumer,
                  national=national)  # fmt: skip


@router.get("/lots/{lot_id}/national-record.{fmt}")
def national_record_file(
    lot_id: DbId, fmt: str, request: Request, page: PageDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The lot's national record (agritrace-national-record/1) as a file, with its proof bundle."""
    try:
        lot, product = own_lot(session, page.user.principal, lot_id)
    except (NotFound, Forbidden):
        return not_found(request, page)
    if fmt not in ("json", "xml"):
        return not_found(request, page)
    contract = runtime.chain.contract if runtime.chain is not None else None
    base, reader = page.settings.public_base_url, page.user.principal
    record = national_record(session, lot, product, base_url=base, contract=contract, reader=reader)
    name = f"national-record-{product.gtin}-{lot.lot_code}.{fmt}"
    body = to_xml(record) if fmt == "xml" else json.dumps(record, ensure_ascii=False).encode()
    media = "application/xml" if fmt == "xml" else "application/json"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
