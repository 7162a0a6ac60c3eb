"""Console recalls: the list, one recall's holders and quantities, its notices (delivered, retried,
acknowledged by whom and when), and closing it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from traceability_api.authority.models import Recall
from traceability_api.authority.recall_notices import close_recall, concerned, notices_of
from traceability_api.console.web import Console, ConsoleDep, ConsolePostDep, render
from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError, NotFound
from traceability_api.privacy.access import note_lot_reads
from traceability_api.validation import DbId
from traceability_api.workspace.messages import from_domain
from traceability_api.workspace.web import not_found, see_other

router = APIRouter(prefix="/app/console", include_in_schema=False)
LIST_SIZE = 100


@router.get("/recalls")
def recalls(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    rows = session.exec(select(Recall).order_by(col(Recall.id).desc()).limit(LIST_SIZE)).all()
    notices = notices_of(session, [r.id or 0 for r in rows])
    acked = {r.id: sum(1 for n in notices if n.recall_id == r.id and n.acknowledged_at) for r in rows}
    total = {r.id: sum(1 for n in notices if n.recall_id == r.id) for r in rows}
    return render(request, "console_recalls.html", console, recalls=rows, acked=acked, total=total)


def _page(request: Request, console: Console, session: Session, recall_id: int, status: int = 200,
          error: str | None = None) -> Response:  # fmt: skip
    r = session.get(Recall, recall_id)
    if r is None:
        return not_found(request, console.page)
    notices = notices_of(session, [recall_id])
    holders = [o for a in r.affected for o in concerned(a)] + [n.org_id for n in notices]
    note_lot_reads(session, console.page.user.principal, holders)  # holders' lots and quantities: logged
    return render(request, "console_recall.html", console, status, recall=r, notices=notices, error=error)


@router.get("/recalls/{recall_id}")
def recall(recall_id: DbId, request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    return _page(request, console, session, recall_id)


@router.post("/recalls/{recall_id}/close")
def close(recall_id: DbId, request: Request, console: ConsolePostDep, session: SessionDep) -> Response:
    """Close the recall; a member who may not (a viewer or auditor) is told so on the recall's page."""
    try:
        close_recall(session, console.page.user.principal, recall_id)
        session.commit()
    except DomainError as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            return not_found(request, console.page)
        words = next(iter(from_domain(exc, console.page.lang).values()))
        return _page(request, console, session, recall_id, exc.status_code, words)
    return see_other(f"/app/console/recalls/{recall_id}")
