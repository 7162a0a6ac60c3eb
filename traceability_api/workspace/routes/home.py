"""Home: my lots by stage, shipments to receive, alerts (pre-harvest intervals, withdrawal periods,
recalls, sensors)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.workspace import i18n, views
from traceability_api.workspace.web import Page, page_view, render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("")
async def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await page_view(request, session, settings, partial(_home, request, session))


def _home(request: Request, session: Session, page: Page) -> Response:
    h = views.home(session, page.user.principal)
    zone = page.settings.zone
    phi = [(a, i18n.when(a.safe_from, page.lang, zone)) for a in h.phi]
    withdrawal = [(a, i18n.when(a.safe_from, page.lang, zone)) for a in h.withdrawal]
    return render(
        request, "home.html", page=page, home=h, phi=phi, withdrawal=withdrawal, notice=_notice(request, page.lang),
        recall_notices=h.recall_notices, fsma=h.fsma,
    )  # fmt: skip


def _notice(request: Request, lang: str) -> str | None:
    key = request.query_params.get("done")
    return i18n.T[lang].get(key) if key in ("saved", "receipt_done", "shipped", "recall_acked") else None
