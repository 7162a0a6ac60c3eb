from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import col, select

from traceability_api.authority import exports, trace
from traceability_api.authority.mass_balance import mass_balance
from traceability_api.authority.models import Recall, WriteLogEntry
from traceability_api.authority.read_log import MAX_ROWS, reads_of
from traceability_api.authority.recall import REASON_MAX, open_recall
from traceability_api.authority.recall_notices import concerned
from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import Forbidden, Invalid
from traceability_api.events.lot_access import get_lot
from traceability_api.events.models import Event
from traceability_api.events.service import query_events, visible_to
from traceability_api.json_response import StoredJSONResponse
from traceability_api.lots.lineage import MAX_DEPTH
from traceability_api.lots.models import Lot
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.models import Role
from traceability_api.parties.service import Principal, readable
from traceability_api.places.service import get_place
from traceability_api.privacy.access import note_lot_reads
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["authority tools"])


def _authority(p: Principal) -> None:
    if not p.reads_everything:
        raise Forbidden("members of a market authority only (the whole graph crosses organisations)")


@router.get("/trace/lots/{lot_id}", summary="Lineage graph of a lot (up and/or downstream) with custody")
def trace_lot(
    lot_id: DbId,
    p: PrincipalDep,
    session: SessionDep,
    direction: Annotated[str, Query(pattern="^(back|forward|both)$")] = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = MAX_DEPTH,
) -> dict[str, Any]:
    """Authorities see the whole graph; an owner or holder sees one step back and one step
    forward (TCVN 12850), with the hand-overs it may read (never another organisation's private one)."""
    get_lot(session, p, lot_id)
    if not p.reads_everything:
        depth = 1
    g = trace.graph(session, lot_id, direction, depth, visible_to(p))
    # other organisations' lots and hand-overs: logged as the console's lineage graph is
    note_lot_reads(session, p, _lot_orgs(g["nodes"]) | {c["recordedBy"] for c in g["custody"]})
    return g


def _lot_orgs(nodes: list[dict[str, Any]]) -> set[int]:
    """The owners and holders of the lots of a trace answer."""
    return {n[k] for n in nodes for k in ("owner", "holder")}


@router.get("/trace/lots/{lot_id}/origins", summary="The plots that fed this lot")
def lot_origins(lot_id: DbId, p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    _authority(p)
    get_lot(session, p, lot_id)
    return trace.origins(session, lot_id)


@router.get("/trace/places/{place_id}/downstream", summary="Every lot containing produce of this plot")
def place_downstream(place_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    _authority(p)
    get_place(session, p, place_id)
    down = trace.downstream_of_place(session, place_id)
    note_lot_reads(session, p, _lot_orgs(down["lots"]))  # other organisations' lots: logged
    return down


@router.get("/mass-balance", summary="Quantities in vs out per lot and organisation; flags excess volume")
def balance(
    p: PrincipalDep,
    session: SessionDep,
    tolerance: Annotated[float, Query(ge=0, le=1)] = 0.02,
    flagged_only: bool = False,
) -> dict[str, Any]:
    """An organisation's report holds the lots it owns, holds or moved out, counting the events it may read."""
    org_id = None if p.reads_everything else p.org_id
    result = mass_balance(session, tolerance=tolerance, org_id=org_id, visible=visible_to(p))
    if flagged_only:
        result["lots"] = [r for r in result["lots"] if r["flagged"]]
    lots = {r["lotId"] for r in result["lots"]}
    shown = {int(org) for r in result["lots"] for org in r["outflows"]}
    for lot in session.exec(select(Lot).where(col(Lot.id).in_(lots))).all() if lots else []:
        shown |= {lot.owner_org_id, lot.holder_org_id}
    note_lot_reads(session, p, shown)  # other organisations' lots and outflows: logged
    return result


class RecallIn(BaseModel):
    lot_ids: list[DbId] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=3, max_length=REASON_MAX)
    scope: str = Field(default="downstream", pattern="^(lot|downstream)$")


@router.post("/recalls", status_code=status.HTTP_201_CREATED)
def create_recall(data: RecallIn, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    recall = open_recall(
        session, p, data.lot_ids, data.reason, data.scope, runtime.settings, checks=runtime.capture_checks
    )
    session.commit()
    if runtime.recall_notices is not None:
        runtime.recall_notices.wake()
    return _recall_json(recall)


def _recall_json(r: Recall) -> dict[str, Any]:
    return {
        "id": r.id,
        "reason": r.reason,
        "scope": r.scope,
        "rootLots": r.root_lot_ids,
        "createdAt": r.created_at.isoformat(),
        "status": r.status,
        "affected": r.affected,
    }


def _get_recall(session: SessionDep, p: Principal, recall_id: DbId) -> Recall:
    return readable(p, session.get(Recall, recall_id), f"recall {recall_id} not found")


@router.get("/recalls/{recall_id}", summary="Recall report: every affected lot, its holder and quantity")
def recall_report(recall_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    recall = _get_recall(session, p, recall_id)
    note_lot_reads(session, p, set().union(*(concerned(a) for a in recall.affected)))  # holders' lots: logged
    return _recall_json(recall)


def _events(
    session: SessionDep, p: Principal, lot: str | None, since: datetime | None, until: datetime | None, limit: int,
    after_id: int,
) -> list[Event]:  # fmt: skip
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise Invalid("time filters need a time zone")
    return query_events(session, p, lot=lot, ge_event_time=since, lt_event_time=until, limit=limit, after_id=after_id)


def _next_page(request: Request, events: list[Event], limit: int) -> dict[str, str]:
    """Headers of a full page: where the next one starts (``after_id``: the page's last event id), so
    that an export of more events than one page holds says so instead of ending silently."""
    if len(events) < limit:
        return {}
    last = str(events[-1].id)
    return {"Link": f'<{request.url.include_query_params(after_id=last)}>; rel="next"', "X-Next-After-Id": last}


AfterId = Annotated[DbId, Query(description="continue after this event id (the previous page's X-Next-After-Id)")]


@router.get("/exports/epcis", summary="EPCIS 2.0 JSON-LD document of the chosen events")
def export_epcis(
    request: Request,
    p: PrincipalDep,
    session: SessionDep,
    lot: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    after_id: AfterId = 0,
) -> StoredJSONResponse:
    """The events in recording order, ``limit`` at a time: a full page names the next one in its
    ``Link`` (rel="next") and ``X-Next-After-Id`` headers."""
    events = _events(session, p, lot, since, until, limit, after_id)
    return StoredJSONResponse(exports.epcis_document(events), headers=_next_page(request, events, limit))


@router.get("/exports/events.{fmt}", summary="Key data elements per event as CSV or XLSX")
def export_table(
    fmt: str,
    request: Request,
    p: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    lot: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sort: str = "eventTime",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    lang: Annotated[str, Query(pattern="^(en|vi)$", description="column headers: en or vi")] = "en",
    after_id: AfterId = 0,
) -> Response:
    """Times are local with their offset: eventTime in the event's own zone, recordTime in the
    service's default zone.  CSV is UTF-8 with a byte-order mark (opens correctly in Excel).  The
    events are taken in recording order, ``limit`` at a time (a full page names the next one in its
    ``Link`` and ``X-Next-After-Id`` headers), then sorted within the page."""
    if sort not in exports.SORTABLE:
        raise Invalid(f"sort by one of {', '.join(sorted(exports.SORTABLE))}")
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format must be csv or xlsx")
    events = _events(session, p, lot, since, until, limit, after_id)
    table = exports.rows(session, events, sort, order == "desc", settings.time_zone)
    headers = _next_page(request, events, limit)
    if fmt == "csv":
        return Response(exports.to_csv(table, lang), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(
        exports.to_xlsx(table, lang),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )


@router.get("/audit-log", summary="The append-only log of writes (authorities: all; auditors: their organisation)")
def audit_log(
    p: PrincipalDep, session: SessionDep, after_id: DbId = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    q = select(WriteLogEntry).where(WriteLogEntry.id > after_id)  # type: ignore[operator]
    if not p.reads_everything:
        if p.role != Role.auditor:
            raise Forbidden("the audit log is for market authorities and an organisation's auditors")
        q = q.where(WriteLogEntry.org_id == p.org_id)
    rows = session.exec(q.order_by(WriteLogEntry.id).limit(limit)).all()  # type: ignore[arg-type]
    return [r.model_dump(mode="json") for r in rows]


@router.get("/audit-log/reads", summary="Who read the organisation's non-public data (its admins and auditors)")
def reads_of_mine(
    p: PrincipalDep, session: SessionDep, after_id: DbId = 0, limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 200
) -> list[dict[str, Any]]:
    """Logged reads by other organisations (authorities, custody partners, grant holders) of this
    organisation's non-public events and lots, oldest first; page with ``after_id``."""
    return [r.json() for r in reads_of(session, p, after_id, limit)]
