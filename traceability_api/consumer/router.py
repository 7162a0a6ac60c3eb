"""GS1 Digital Link resolver: HTML for people, linkset for machines, a warning page for unknown codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from consumer_site import render
from consumer_site.i18n import LANGS
from consumer_site.viewmodel import LotInfo, LotPage, ProductView
from labels.digital_link import DigitalLinkError, build, gtin_in_link
from labels.tokens import token_valid
from traceability_api.consumer import encoding
from traceability_api.consumer.caches import CachedPage, PageCache, Stamp, page_cache, scan_buffer
from traceability_api.consumer.dl_keys import STRICT
from traceability_api.consumer.embeds import router as embeds_router
from traceability_api.consumer.freshness import data_stamp
from traceability_api.consumer.reports import router as reports_router
from traceability_api.consumer.reports import unknown_page
from traceability_api.consumer.scans import client_hash, looks_copied, scan_row
from traceability_api.consumer.secrets import label_secret
from traceability_api.consumer.view import build_lot_view, proof_bundle_url
from traceability_api.content_coding import media_ranges, pick_language, quality
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import Invalid, NotFound
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.lots.service import find_lot, find_serial_lot, product_by_gtin
from traceability_api.runtime import Runtime

router = APIRouter(tags=["resolver and consumer pages"])


LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"
# the same address answers by Accept (page or linkset) and Accept-Language (vi or en): a shared cache
# that keys on the URL alone would hand a browser the linkset, or a Vietnamese shopper the English page
VARY = "Accept, Accept-Language, Accept-Encoding"


JSONLD = "application/ld+json"
# GS1-Conformant Resolver 1.x: the context that reads a linkset as JSON-LD, named in a Link header of
# every linkset, and put in the body when the client asks for JSON-LD
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
CONTEXT_LINK = f'<{LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="{JSONLD}"'


def _linkset_response(body: dict[str, Any], accept: str | None) -> JSONResponse:
    headers = {"Vary": VARY, "Link": CONTEXT_LINK}
    ranges = media_ranges(accept or "")
    if quality(ranges, JSONLD, named=True) > quality(ranges, LINKSET, named=True):
        return JSONResponse({"@context": LINKSET_CONTEXT, **body}, media_type=JSONLD, headers=headers)
    return JSONResponse(body, media_type=LINKSET, headers=headers)


def _gtin(gtin: str) -> str:
    try:
        return gtin_in_link(gtin)  # 14 digits: GS1 refuses zero-suppressed GTINs in a Digital Link
    except DigitalLinkError as exc:
        raise Invalid(str(exc)) from exc


class _Unknown(Exception):
    """The scanned code names a GTIN, lot or serial that is not registered."""


def _linkset(base: str, product: Product, lot: Lot | None, path: str) -> dict[str, Any]:
    anchor = f"{base}{path}"
    links: dict[str, Any] = {
        "anchor": anchor,
        f"{GS1}pip": [
            {"href": f"{anchor}?linkType=gs1:pip", "title": product.name, "type": "text/html", "hreflang": ["vi", "en"]}
        ],
        f"{GS1}defaultLink": [{"href": anchor, "title": product.name, "type": "text/html"}],
    }
    if lot is not None:
        links[f"{GS1}traceability"] = [
            {
                "href": proof_bundle_url(base, product.gtin, lot.lot_code),
                "title": "Proof bundle (EPCIS events + Merkle proofs)",
                "type": "application/json",
            },
        ]
    if lot is not None and lot.status == LotStatus.recalled:  # the page says so at its top, with the reason
        links[f"{GS1}recallStatus"] = [
            {
                "href": anchor,
                "title": "Lô đã bị thu hồi / This lot is recalled",
                "type": "text/html",
                "hreflang": ["vi", "en"],
            }
        ]
    if product.certifications:
        links[f"{GS1}certificationInfo"] = [
            {
                "href": f"{anchor}?linkType=gs1:certificationInfo",
                "title": ", ".join(product.certifications),
                "type": "text/html",
            }
        ]
    return {"linkset": [links]}


def _wants_linkset(accept: str | None, link_type: str | None) -> bool:
    """The linkset when asked for by linkType, or when Accept names it (or JSON-LD) with a weight above 0 and at
    least that of HTML (``*/*`` alone, as browsers send among others, is the page)."""
    if link_type in ("all", "linkset"):
        return True
    if not accept:
        return False
    ranges = media_ranges(accept)
    wanted = max(quality(ranges, LINKSET, named=True), quality(ranges, JSONLD, named=True))
    return wanted > 0 and wanted >= quality(ranges, "text/html")


def _product_page(product: Product, lang: str, base: str) -> str:
    alt = "en" if lang == "vi" else "vi"
    name = product.name_en if lang == "en" and product.name_en else product.name
    vm = LotPage(
        lang=lang, alt_lang=alt, alt_lang_url=f"{build(product.gtin).uri(base)}?lang={alt}",
        product=ProductView(name, product.gtin, product.brand, product.ocop_stars, list(product.certifications),
                            render.PRODUCT_ICON),
        lot=LotInfo(code="—"), trace_url=build(product.gtin).uri(base), product_only=True,
    )  # fmt: skip
    return render.lot_page(vm)


@dataclass
class Scan:
    """What the browser asked for, beyond the code itself."""

    accept: str | None = None
    accept_language: str | None = None
    lang: str | None = None
    link_type: str | None = None
    token: str | None = None
    geo: str | None = None


PAGE = ["GET", "HEAD"]
AcceptH = Annotated[str | None, Header()]


@router.api_route("/01/{gtin}", methods=PAGE, response_class=HTMLResponse, dependencies=STRICT)
def resolve_product(
    gtin: str, request: Request, session: SessionDep, runtime: RuntimeDep, accept: AcceptH = None,
    accept_language: AcceptH = None, lang: str | None = None, linkType: str | None = None,  # noqa: N803
) -> Response:  # fmt: skip
    product = product_by_gtin(session, _gtin(gtin))
    chosen = pick_language(lang, accept_language, LANGS)
    base = runtime.settings.public_base_url
    if product is None:
        if _wants_linkset(accept, linkType):
            raise NotFound(f"no product with GTIN {gtin}")
        return unknown_page(request, runtime.settings, build(_gtin(gtin)).uri(""), chosen)
    if _wants_linkset(accept, linkType):
        return _linkset_response(_linkset(base, product, None, build(product.gtin).uri("")), accept)
    html = _product_page(product, chosen, base).encode()
    return _encoded(request, CachedPage(html, None, 0.0), _page_headers(base, build(product.gtin).uri("")))


def _page_headers(base: str, path: str) -> dict[str, str]:
    """A resolver page's headers: not kept by caches (a recall shows at once), and the linkset of
    the same code announced for machines (GS1 Digital Link: ``Link: <...>; rel="linkset"``)."""
    return {"Cache-Control": "no-store", "Link": f'<{base}{path}>; rel="linkset"; type="{LINKSET}"'}


def _find(session: Session, gtin: str, lot_code: str | None, serial: str | None) -> tuple[Lot, Product, bool]:
    """The lot a code names, and whether its serial (if any) was commissioned in that lot."""
    product = product_by_gtin(session, gtin)
    if product is None:
        raise _Unknown
    serial_lot = find_serial_lot(session, product.gtin, serial) if serial else None
    found = find_lot(session, product.gtin, lot_code) if lot_code is not None else serial_lot
    if found is None or (serial and serial_lot is None):
        raise _Unknown
    return found[0], product, serial_lot is not None and serial_lot[0].id == found[0].id


def _resolve(
    request: Request, session: Session, runtime: Runtime, gtin: str, lot_code: str | None,
    serial: str | None, scan: Scan,
) -> Response:  # fmt: skip
    base, settings = runtime.settings.public_base_url, runtime.settings
    try:
        link = build(gtin, lot_code, serial)
    except DigitalLinkError as exc:
        raise Invalid(str(exc)) from exc
    gtin, path, chosen = link.key, link.uri(""), pick_language(scan.lang, scan.accept_language, LANGS)
    headers = _page_headers(base, path)
    pages = page_cache(runtime)
    # a lot's own page (no serial, no linkset) comes straight from the kept pages: no lookups at all
    plain = serial is None and not _wants_linkset(scan.accept, scan.link_type) and scan.link_type != "gs1:traceability"
    key: tuple[object, ...] = (gtin, lot_code, chosen)
    page, stamp = _kept(session, runtime, pages, key) if plain else (None, None)
    if page is not None:
        _log_scan(request, runtime, page.lot_id, None, scan, None)
        return _encoded(request, page, headers)
    try:
        lot, product, serial_known = _find(session, gtin, lot_code, serial)
    except _Unknown:
        if _wants_linkset(scan.accept, scan.link_type):
            raise NotFound(f"{link.uri('')} is not registered") from None
        return unknown_page(request, runtime.settings, link.uri(""), chosen)
    if serial is not None and lot_code is None:  # the full link, with the label's token: it tells copies apart
        target = build(product.gtin, lot.lot_code, serial, token=scan.token or None).uri(base)
        return RedirectResponse(target, 301)
    if _wants_linkset(scan.accept, scan.link_type):
        return _linkset_response(_linkset(base, product, lot, path), scan.accept)
    if scan.link_type == "gs1:traceability":
        return RedirectResponse(proof_bundle_url(base, product.gtin, lot.lot_code), 303)
    assert lot.id is not None
    token_ok, copied = None, False
    if serial is not None:
        token_ok = serial_known and token_valid(label_secret(settings), product.gtin, serial, scan.token)
        copied = looks_copied(session, scan_buffer(runtime), lot.id, serial, token_ok)
        key = (gtin, lot_code, chosen, serial, copied)
        page, stamp = _kept(session, runtime, pages, key)
    _log_scan(request, runtime, lot.id, serial, scan, token_ok)
    if page is None:
        contract = runtime.chain.contract if runtime.chain is not None else None
        vm = build_lot_view(session, lot=lot, product=product, lang=chosen, base_url=base, contract=contract,
                            serial=serial, copy_warning=copied)  # fmt: skip
        page = pages.put(key, render.lot_page(vm), stamp, settings.consumer_page_cache_s, lot_id=lot.id)
    return _encoded(request, page, headers)


def _kept(
    session: Session, runtime: Runtime, pages: PageCache, key: tuple[object, ...]
) -> tuple[CachedPage | None, Stamp | None]:
    """The kept page of ``key`` if nothing was written since it was rendered, else the data stamp to
    file the new one under (read here, BEFORE the page's data is loaded; see consumer.freshness)."""
    page = pages.fresh(key)
    if page is not None or not runtime.settings.consumer_view_cache:
        return pages.counted(page), None
    stamp = data_stamp(session)
    return pages.counted(pages.current(key, stamp, runtime.settings.consumer_page_cache_s)), stamp


def _log_scan(request: Request, runtime: Runtime, lot_id: int, serial: str | None, scan: Scan,
              token_ok: bool | None) -> None:  # fmt: skip
    client = request.client.host if request.client else None
    scan_buffer(runtime).add(scan_row(
        lot_id=lot_id, serial=serial, client=client_hash(label_secret(runtime.settings), client), geo=scan.geo,
        user_agent=request.headers.get("user-agent"), token_ok=token_ok,
    ))  # fmt: skip


def _encoded(request: Request, page: CachedPage, headers: dict[str, str]) -> Response:
    """The page in the best content coding the browser accepts (compressed once per cached page)."""
    coding = encoding.choose(request.headers.get("accept-encoding"))
    extra = {"Vary": VARY} | ({"Content-Encoding": coding} if coding != "identity" else {})
    return Response(page.body(coding), media_type="text/html; charset=utf-8", headers=headers | extra)


# The page routes are async and run the whole lookup in ONE worker thread with its own session: a
# kept page costs one thread hop instead of three (SessionDep's sync enter and exit, the endpoint).
async def _in_thread(request: Request, runtime: Runtime, gtin: str, lot_code: str | None, serial: str | None,
                     scan: Scan) -> Response:  # fmt: skip
    def run() -> Response:
        with Session(runtime.engine, expire_on_commit=False) as session:
            return _resolve(request, session, runtime, gtin, lot_code, serial, scan)

    return await run_in_threadpool(run)


@router.api_route("/01/{gtin}/10/{lot_code}", methods=PAGE, response_class=HTMLResponse, dependencies=STRICT)
async def resolve_lot(
    gtin: str, lot_code: str, request: Request, runtime: RuntimeDep, accept: AcceptH = None,
    accept_language: AcceptH = None, lang: str | None = None, linkType: str | None = None,  # noqa: N803
    geo: str | None = None,
) -> Response:  # fmt: skip
    scan = Scan(accept, accept_language, lang, linkType, None, geo)
    return await _in_thread(request, runtime, gtin, lot_code, None, scan)


@router.api_route(
    "/01/{gtin}/10/{lot_code}/21/{serial}", methods=PAGE, response_class=HTMLResponse, dependencies=STRICT
)
async def resolve_serial(
    gtin: str, lot_code: str, serial: str, request: Request, runtime: RuntimeDep,
    accept: AcceptH = None, accept_language: AcceptH = None, lang: str | None = None,
    linkType: str | None = None, t: str | None = None, geo: str | None = None,  # noqa: N803
) -> Response:  # fmt: skip
    scan = Scan(accept, accept_language, lang, linkType, t, geo)
    return await _in_thread(request, runtime, gtin, lot_code, serial, scan)


@router.api_route("/01/{gtin}/21/{serial}", methods=PAGE, response_class=HTMLResponse, dependencies=STRICT)
async def resolve_serial_only(
    gtin: str, serial: str, request: Request, runtime: RuntimeDep, accept: AcceptH = None,
    accept_language: AcceptH = None, lang: str | None = None, linkType: str | None = None,  # noqa: N803
    t: str | None = None,
) -> Response:  # fmt: skip
    scan = Scan(accept, accept_language, lang, linkType, t)
    return await _in_thread(request, runtime, gtin, None, serial, scan)


# GS1 allows '/' in a lot code (%2F in the link), which the server decodes before routing; lot
# codes here never hold one (lots.models.check_lot_code), so such a link is an unknown lot's page.
# Added after the serial routes, so /10/<lot>/21/<serial> still reaches them.
router.add_api_route("/01/{gtin}/10/{lot_code:path}", resolve_lot, methods=PAGE, response_class=HTMLResponse,
                     dependencies=STRICT, include_in_schema=False, name="resolve_lot_with_slash")  # fmt: skip


@router.get("/.well-known/gs1resolver", summary="GS1-Conformant Resolver description file")
def resolver_description(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse({
        "name": "AgriTrace", "resolverRoot": runtime.settings.public_base_url, "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1, "prefix": "gs1:"}], "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": LINKSET_CONTEXT,
    }, headers={"Access-Control-Allow-Origin": "*"})  # fmt: skip


@router.api_route("/favicon.svg", methods=PAGE, include_in_schema=False)
@router.api_route("/favicon.ico", methods=PAGE, include_in_schema=False)
def favicon() -> Response:
    return Response(render.FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


router.include_router(reports_router)
router.include_router(embeds_router)
