"""Who read our data: the organisation's admins and auditors see the logged reads of its non-public
data by other organisations, through ``authority.read_log`` (the path ``/api/v1/audit-log/reads``
takes too)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.authority.read_log import may_see_reads, reads_of
from traceability_api.deps import SessionDep
from traceability_api.workspace import i18n
from traceability_api.workspace.web import PageDep, render

router = APIRouter(prefix="/app", include_in_schema=False)
PAGE_ROWS = 200


@router.get("/reads")
def reads(request: Request, page: PageDep, session: SessionDep) -> Response:
    p = page.user.principal
    if not may_see_reads(p):
        return render(request, "message.html", 403, page=page, message=page.t["reads_forbidden"])
    rows = reads_of(session, p, limit=PAGE_ROWS)[::-1]  # newest first on the page
    shown = [(i18n.when(r.at, page.lang, page.settings.zone), r) for r in rows]
    return render(request, "reads.html", page=page, rows=shown)
