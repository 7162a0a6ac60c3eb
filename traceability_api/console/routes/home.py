"""Console home: the overview figures and the sections."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.console.cache import figure_cache
from traceability_api.console.overview import overview
from traceability_api.console.web import ConsoleDep, render
from traceability_api.deps import SessionDep
from traceability_api.workspace.web import see_other

router = APIRouter(include_in_schema=False)


@router.get("/app/console")
def home(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    st = console.page.settings
    cache = figure_cache(request.app.state, st.console_cache, st.console_cache_stale_s)
    return render(request, "console_home.html", console, overview=cache.get(session, "overview", overview))


@router.get("/console")
def short() -> Response:
    return see_other("/app/console")
