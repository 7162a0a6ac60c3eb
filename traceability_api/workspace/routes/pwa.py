"""The installable app: the web manifest, the service worker at ``/app/sw.js`` (scope ``/app``, so
that the home page ``/app`` itself, where receipts are tapped, is served offline too; no other path
of the service starts with ``/app``):
pages network-first with the last copy kept for offline use, static files cache-first) and its
icon.  The worker's cache name carries the static files' hashes, so a new release replaces it."""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache

from fastapi import APIRouter
from fastapi.responses import Response

from traceability_api.workspace.web import HERE, asset

router = APIRouter(prefix="/app", include_in_schema=False)
# zxing-js is kept for offline scanning with the camera; pages load it only when the scan button is tapped
ASSETS = ("app.css", "app.js", "htmx-2.0.11.min.js", "idb-keyval-6.3.0.umd.js", "offline.js", "scan.js", "sign.js",
          "zxing-library-0.21.3.min.js")  # fmt: skip
PAGES = ("/app", "/app/diary", "/app/harvest")  # the pages recorded offline (receipts are on home)
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"><rect width="96" height="96" rx="18" fill="#1b5e20"/>'
    '<path d="M48 18c-16 14-20 30-12 44 4 6 8 9 12 16 4-7 8-10 12-16 8-14 4-30-12-44z" fill="#c8e6c9"/></svg>'
)


@lru_cache
def worker_source() -> str:
    urls = [asset(name) for name in ASSETS]
    version = hashlib.sha256("".join(urls).encode()).hexdigest()[:10]
    template = (HERE / "static" / "sw.js").read_text(encoding="utf-8")
    return template.replace("__VERSION__", version).replace("__ASSETS__", json.dumps(urls)).replace(
        "__PAGES__", json.dumps(list(PAGES)))  # fmt: skip


@router.get("/sw.js")
def service_worker() -> Response:
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app", "X-Content-Type-Options": "nosniff"}
    return Response(worker_source(), media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": "AgriTrace — Sổ tay hợp tác xã", "short_name": "AgriTrace", "lang": "vi", "start_url": "/app",
        "scope": "/app/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#1b5e20",
        "icons": [{"src": "/app/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                  *({"src": f"/app/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
                    for n in PNG_SIZES)],
    }  # fmt: skip
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})  # fmt: skip


PNG_SIZES = (192, 512)  # what Android's installer asks for besides the SVG


@lru_cache
def icon_png(size: int) -> bytes:
    """The SVG icon drawn as a PNG with Pillow (no SVG renderer needed): the same green tile and leaf."""
    from PIL import Image, ImageDraw

    s = size / 96
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=round(18 * s), fill="#1b5e20")
    leaf = [(48, 18), (36, 30), (31, 44), (36, 62), (42, 70), (48, 78), (54, 70), (60, 62), (65, 44), (60, 30)]
    d.polygon([(x * s, y * s) for x, y in leaf], fill="#c8e6c9")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


@router.get("/icon-{size}.png")
def icon_png_route(size: int) -> Response:
    if size not in PNG_SIZES:
        return Response(status_code=404)
    return Response(icon_png(size), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/icon.svg")
def icon() -> Response:
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
