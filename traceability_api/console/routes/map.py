"""Console map: the page (a table of the places, drawn on a Leaflet map by ``console-map.js``) and
its GeoJSON, both for authority members only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from traceability_api.console.map_data import feature_collection, map_places
from traceability_api.console.web import ConsoleDep, render
from traceability_api.deps import SessionDep
from traceability_api.workspace.web import HEADERS

router = APIRouter(include_in_schema=False)


@router.get("/app/console/map")
def map_page(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    st = console.page.settings
    return render(request, "console_map.html", console, data=map_places(session), tiles=st.workspace_map_tiles,
                  tiles_attribution=st.workspace_map_attribution)  # fmt: skip


@router.get("/app/console/map.geojson")
def map_geojson(console: ConsoleDep, session: SessionDep) -> Response:
    headers = {k: v for k, v in HEADERS.items() if k != "Content-Security-Policy"}
    return JSONResponse(feature_collection(map_places(session)), media_type="application/geo+json", headers=headers)
