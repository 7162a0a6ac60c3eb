"""Home: my lots by stage, shipments to receive, alerts (pre-harvest intervals, withdrawal periods,
recalls, sensors)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.authority.recall_notices import open_notices_for
from traceability_api.deps import SessionDep
from traceability_api.fsma.check import own_gaps
from traceability_api.workspace import i18n, views
from traceability_api.workspace.web import PageDep, render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("")
def home(request: Request, page: PageDep, session: SessionDep) -> Response:
    h = views.home(session, page.user.principal)
    zone = page.settings.zone
    phi = [(a, i18n.when(a.safe_from, page.lang, zone)) for a in h.phi]
    withdrawal = [(a, i18n.when(a.safe_from, page.lang, zone)) for a in h.withdrawal]
    recall_notices = open_notices_for(session, page.user.principal.org_id)
    return render(
        request, "home.html", page=page, home=h, phi=phi, withdrawal=withdrawal, notice=_notice(request, page.lang),
        recall_notices=recall_notices, fsma=own_gaps(session, page.user.principal.org_id),
    )  # fmt: skip


def _notice(request: Request, lang: str) -> str | None:
    key = request.query_params.get("done")
    return i18n.T[lang].get(key) if key in ("saved", "receipt_done", "shipped", "recall_acked") else None
