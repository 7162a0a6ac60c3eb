"""Open data over HTTP: the public catalogue, files and proofs under ``/opendata`` (no sign-in,
rate-limited as public pages), and the authority's on-demand rebuild."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from consumer_site import render
from consumer_site.i18n import LANGS
from traceability_api.content_coding import pick_language
from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import Forbidden, NotFound
from traceability_api.opendata.build import build, current
from traceability_api.opendata.catalog import catalog
from traceability_api.opendata.encode import CONTENT_TYPES
from traceability_api.opendata.models import OpenDataFile
from traceability_api.opendata.page import catalog_page, wants_html
from traceability_api.opendata.proofs import file_proof
from traceability_api.parties.deps import PrincipalDep
from traceability_api.validation import DbId

router = APIRouter(tags=["open data"])
FileName = Annotated[str, Path(pattern=r"^[a-z_]{1,40}\.(csv|json)$", description="<dataset>.<csv|json>")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of a downloaded file")]
IfNoneMatch = Annotated[str | None, Header(max_length=1000, description="ETags the client holds (304 if current)")]
IMMUTABLE = "public, max-age=31536000, immutable"
CACHE = "public, max-age=300"
PageLang = Annotated[str | None, Query(max_length=8, description="language of the HTML page: vi (default) or en")]
# the page runs no script and loads nothing but its favicon (its stylesheet is inline, like the consumer pages')
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
FILE_METHODS = ["GET", "HEAD"]  # portals' link checkers ask with HEAD first


def _file_response(f: OpenDataFile, cache: str, if_none_match: str | None) -> Response:
    """The file, or 304 when the harvester already has these bytes (its ETag is the SHA-256)."""
    assert f.content is not None
    etag = f'"{f.sha256}"'
    if if_none_match is not None and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    digest = base64.b64encode(bytes.fromhex(f.sha256)).decode()
    headers = {"ETag": etag, "Repr-Digest": f"sha-256=:{digest}:", "Cache-Control": cache,
               "Content-Disposition": f'attachment; filename="{f.dataset}.{f.fmt}"'}  # fmt: skip
    return Response(f.content, media_type=CONTENT_TYPES[f.fmt], headers=headers)


@router.get("/opendata/catalog.jsonld", summary="DCAT-AP catalogue of the open datasets (JSON-LD)")
def open_catalog(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """The catalogue data portals harvest: a ``dcat:Catalog`` whose ``dcat:Dataset`` entries
    (title and description in Vietnamese and English, licence, publisher, last change) list each
    file (``dcat:Distribution``) with its download URL, media type, size, SPDX SHA-256 checksum and
    the URL of its Merkle proof.  No sign-in; rate-limited like the consumer pages."""
    return JSONResponse(catalog(session, settings), media_type="application/ld+json", headers={"Cache-Control": CACHE})


@router.get(
    "/opendata",
    summary="DCAT-AP catalogue of the open datasets (JSON-LD), or a page for browsers",
    responses={200: {"content": {"application/ld+json": {}, "text/html": {}}}},
)
def open_catalog_negotiated(
    request: Request, session: SessionDep, settings: SettingsDep, lang: PageLang = None
) -> Response:
    """The catalogue of ``/opendata/catalog.jsonld`` (JSON-LD) for every client but a browser: one
    whose ``Accept`` prefers ``text/html`` to JSON-LD and JSON gets the same datasets as a page
    (Vietnamese, or English by ``lang=en`` or the browser's ``Accept-Language``) with download
    links and how to check a download.  ``Vary: Accept, Accept-Language``."""
    vary = {"Vary": "Accept, Accept-Language", "Cache-Control": CACHE}
    if not wants_html(request.headers.get("accept")):
        return JSONResponse(catalog(session, settings), media_type="application/ld+json", headers=vary)
    chosen = pick_language(lang, request.headers.get("accept-language"), LANGS)
    html = render.opendata_page(catalog_page(session, settings, chosen))
    return HTMLResponse(html, headers=vary | PAGE_HEADERS | {"Content-Language": chosen})


@router.api_route(
    "/opendata/files/{file_id}/{name}", methods=FILE_METHODS, summary="One published file (never changes)"
)
def open_file(file_id: DbId, name: FileName, session: SessionDep, if_none_match: IfNoneMatch = None) -> Response:
    """A file exactly as published, at the address the catalogue lists; its bytes never change
    (``ETag`` and ``Repr-Digest`` carry its SHA-256).  Earlier versions stay downloadable."""
    f = session.get(OpenDataFile, file_id)
    if f is None or f"{f.dataset}.{f.fmt}" != name:
        raise NotFound(f"no open-data file {file_id}/{name}")
    if f.content is None:
        detail = (f"open-data file {file_id}/{name} is no longer kept (newer versions replaced it); its digest's "
                  f"proof remains at /opendata/proofs/{f.sha256}")  # fmt: skip
        return JSONResponse({"detail": detail}, status_code=410)
    return _file_response(f, IMMUTABLE, if_none_match)


@router.get("/opendata/proofs/{sha256}", summary="Merkle proof of a published file's SHA-256")
def open_proof(sha256: Sha256, session: SessionDep) -> dict[str, Any]:
    """Give the SHA-256 you computed over a download: its Merkle leaf, proof, the anchored root,
    transaction, block and contract (``status`` ``pending`` until the next anchoring batch).
    See docs/open-data.md for the checks."""
    return file_proof(session, sha256)


@router.api_route("/opendata/{name}", methods=FILE_METHODS, summary="The newest file of a dataset")
def open_latest(name: FileName, session: SessionDep, if_none_match: IfNoneMatch = None) -> Response:
    """The dataset's newest file (``products``, ``planting_areas``, ``monthly_volumes``,
    ``certifications``; ``.csv`` UTF-8 with BOM or ``.json``)."""
    dataset, fmt = name.rsplit(".", 1)
    f = current(session, dataset, fmt)
    if f is None:
        raise NotFound(f"no open-data file {name} (datasets are built on a schedule; not built yet)")
    return _file_response(f, CACHE, if_none_match)


@router.post("/api/v1/opendata/build", summary="Rebuild the open-data files now (authority)")
async def rebuild(p: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Regenerate every open-data file now (besides the schedule, ``AGRITRACE_OPENDATA_INTERVAL_H``);
    changed files are stored and queued for anchoring.  409 while another build runs."""
    if not p.reads_everything:
        raise Forbidden("members of a market authority only may rebuild open data")
    rep = await run_in_threadpool(build, runtime.engine, runtime.settings)
    return {"files": rep.files, "changed": rep.changed, "seconds": round(rep.seconds, 3)}
