"""ReDoc from the local asset of fastapi-offline, with its one remaining remote reference (the
Redocly logo on cdn.redoc.ly) replaced by an inline image, so /redoc makes no external request."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

_ASSET = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
_REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_BLANK = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
REDOC_JS = "/docs-assets/redoc.standalone.js"


@lru_cache(maxsize=1)
def _redoc_js() -> bytes:
    return _ASSET.read_text(encoding="utf-8").replace(_REMOTE_LOGO, _BLANK).encode()


def add_redoc(app: FastAPI, url: str = "/redoc") -> None:
    @app.get(url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{REDOC_JS}",
            redoc_favicon_url=f"{root}/static-offline-docs/favicon.png",
            with_google_fonts=False,
        )

    @app.get(REDOC_JS, include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(_redoc_js(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
