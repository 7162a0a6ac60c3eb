"""Mounts the console: its page routers and the answer to a member who is not an authority's."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from traceability_api.console import i18n
from traceability_api.console.web import NotAuthority
from traceability_api.route_prefix import include as include_router
from traceability_api.workspace.web import lang_of, render


def include(app: FastAPI) -> None:
    from traceability_api.console.routes import (
        anomalies,
        certificates,
        codes,
        figures,
        home,
        keys,
        lots,
        map,
        national_record,
        recalls,
    )

    for module in (home, lots, recalls, codes, certificates, keys, national_record, map, figures, anomalies):
        include_router(app, module.router)

    @app.exception_handler(NotAuthority)
    async def _not_authority(request: Request, _exc: NotAuthority) -> Response:
        return render(request, "message.html", 403, message=i18n.T[lang_of(request)]["only_authority"])
