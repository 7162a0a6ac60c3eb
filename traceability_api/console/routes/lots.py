"""Console lots: search, a lot's lineage graph (SVG drawn on the server) and opening a recall from it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from traceability_api.authority.recall import REASON_MAX, open_recall
from traceability_api.console.lineage_view import lineage
from traceability_api.console.lot_search import FIELDS, MAX_QUERY, search
from traceability_api.console.web import Console, ConsoleDep, ConsolePostDep, render
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError
from traceability_api.lots.models import Lot
from traceability_api.privacy.access import note_lot_reads
from traceability_api.runtime import Runtime
from traceability_api.validation import DbId
from traceability_api.workspace.messages import Errors, from_domain
from traceability_api.workspace.web import not_found, see_other

router = APIRouter(prefix="/app/console", include_in_schema=False)
FORM_MAX = 10_000  # longer fields are the form parser's 422; up to this, the page says what is wrong


@router.get("/lots")
def lots(request: Request, console: ConsoleDep, session: SessionDep, by: str = "code", q: str = "",
         page: int = 1) -> Response:  # fmt: skip
    errors: Errors = {}
    if by not in FIELDS:
        errors["by"] = console.ct["search_by_invalid"]
    if len(q) > MAX_QUERY:
        errors["q"] = console.ct["search_too_long"]
    if errors:
        return render(request, "console_lots.html", console, 422, by="code", q="", result=None, errors=errors,
                      fields=FIELDS)  # fmt: skip
    result = search(session, by, q.strip(), page) if q.strip() else None
    if result is not None:
        note_lot_reads(session, console.page.user.principal, result.orgs)  # other organisations' lots: logged
    return render(request, "console_lots.html", console, by=by, q=q, result=result, errors={}, fields=FIELDS)


def _graph(request: Request, console: Console, session: SessionDep, runtime: Runtime, lot_id: int, status: int = 200,
           errors: Errors | None = None, reason: str = "") -> Response:  # fmt: skip
    if session.get(Lot, lot_id) is None:
        return not_found(request, console.page)
    contract = runtime.chain.contract if runtime.chain is not None else None
    view = lineage(session, lot_id, contract)
    note_lot_reads(session, console.page.user.principal, view.orgs)  # other organisations' lots: logged
    return render(request, "console_lot.html", console, status, view=view, errors=errors or {}, reason=reason)


@router.get("/lots/{lot_id}")
def lot_graph(
    lot_id: DbId, request: Request, console: ConsoleDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return _graph(request, console, session, runtime, lot_id)


@router.post("/lots/{lot_id}/recall")
def recall_lot(
    lot_id: DbId, request: Request, console: ConsolePostDep, session: SessionDep, runtime: RuntimeDep,
    reason: Annotated[str, Form(max_length=FORM_MAX)] = "",
    scope: Annotated[str, Form(max_length=FORM_MAX)] = "downstream",
) -> Response:  # fmt: skip
    """Open a recall of the lot (and, by default, everything made from it); its holders are notified
    after the commit by the recall notifier.  A bad field is said next to it on the page (a reason over
    500 characters was a JSON 422 from the form parser)."""
    if len(reason.strip()) < 3:
        return _graph(request, console, session, runtime, lot_id, 422, {"reason": console.ct["reason_required"]})
    if len(reason.strip()) > REASON_MAX:
        return _graph(request, console, session, runtime, lot_id, 422, {"reason": console.ct["reason_too_long"]},
                      reason[:REASON_MAX])  # fmt: skip
    if scope not in ("lot", "downstream"):
        return _graph(request, console, session, runtime, lot_id, 422, {"scope": console.ct["scope_invalid"]}, reason)
    try:
        recall = open_recall(session, console.page.user.principal, [lot_id], reason.strip(), scope,
                             runtime.settings, checks=runtime.capture_checks)  # fmt: skip
        session.commit()
    except DomainError as exc:
        session.rollback()
        errors = from_domain(exc, console.page.lang, "reason")
        return _graph(request, console, session, runtime, lot_id, exc.status_code, errors, reason)
    if runtime.recall_notices is not None:
        runtime.recall_notices.wake()
    return see_other(f"/app/console/recalls/{recall.id}")
