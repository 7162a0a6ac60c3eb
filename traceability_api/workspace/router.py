"""Mounts the workspace on the app: its page routers, its static files (versioned, cached), and
what a page does when nobody is signed in (to the sign-in form) or a form lacks its CSRF token."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from traceability_api.route_prefix import include as include_router
from traceability_api.workspace import i18n
from traceability_api.workspace.web import (
    STATIC,
    CsrfRefused,
    FormRefused,
    SignInRequired,
    bad_request_page,
    lang_of,
    render,
    see_other,
)

static_router = APIRouter(prefix="/app/static", include_in_schema=False)
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES}


@static_router.get("/{name}")
def static_file(name: str) -> Response:
    path = _FILES.get(name)
    if path is None:
        return Response(status_code=404)
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix], headers=headers)


def include(app: FastAPI) -> None:
    from traceability_api.workspace.routes import (
        auth,
        certificates,
        diary,
        diary_import,
        grants,
        harvest,
        home,
        husbandry,
        keys,
        lots,
        members,
        places,
        process,
        products,
        pwa,
        reads,
        recall_ack,
        receipt,
        scan,
        ship,
    )

    modules = (auth, home, diary, husbandry, diary_import, harvest, receipt, ship, process, places, products, lots,
               members, grants, reads, certificates, keys, pwa)  # fmt: skip
    for module in modules:
        include_router(app, module.router)
    include_router(app, scan.router)  # the diary's barcode scanning
    include_router(app, recall_ack.router)  # holders acknowledge recalls
    include_router(app, diary_import.api)
    include_router(app, static_router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        if request.method == "GET":
            return see_other("/app/login?next=" + quote(request.url.path))
        return see_other("/app/login")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        return render(request, "message.html", 403, message=i18n.T[lang_of(request)]["csrf"])

    @app.exception_handler(FormRefused)
    async def _form(request: Request, _exc: FormRefused) -> Response:
        return bad_request_page(request)
