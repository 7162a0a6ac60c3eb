"""Console anomaly feed: newest first, a page at a time, each item linking to its lot; the same
items as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from traceability_api.console.anomalies import LATE_ANCHOR_MIN, MAX_PAGE, as_dict, feed, lot_labels, worded
from traceability_api.console.web import ConsoleDep, render
from traceability_api.deps import SessionDep
from traceability_api.workspace.i18n import when

router = APIRouter(include_in_schema=False)
PageQ = Annotated[int, Query(ge=1, le=MAX_PAGE)]
LateQ = Annotated[int, Query(ge=1, le=7 * 24 * 60, description="minutes an event may wait for its anchor")]


@router.get("/app/console/anomalies")
def anomalies_page(request: Request, console: ConsoleDep, session: SessionDep, page: PageQ = 1,
                   late_min: LateQ = LATE_ANCHOR_MIN) -> Response:  # fmt: skip
    items, more = feed(session, page, late_min)
    p = console.page
    rows = [(a, when(a.at, p.lang, p.settings.zone), worded(a, console.ct, p.lang, p.settings.zone)) for a in items]
    return render(request, "console_anomalies.html", console, rows=rows, labels=lot_labels(session, items),
                  page_no=page, more=more, late_min=late_min)  # fmt: skip


@router.get("/app/console/anomalies.json")
def anomalies_json(console: ConsoleDep, session: SessionDep, page: PageQ = 1,
                   late_min: LateQ = LATE_ANCHOR_MIN) -> Response:  # fmt: skip
    items, more = feed(session, page, late_min)
    labels = lot_labels(session, items)
    return JSONResponse({"page": page, "more": more, "items": [as_dict(a, labels) for a in items]},
                        headers={"Cache-Control": "no-store"})  # fmt: skip
