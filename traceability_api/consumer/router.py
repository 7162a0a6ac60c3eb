"""GS1 Digital Link resolver (HTML for people, linkset for machines), embeds, oEmbed, badge."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from consumer_site import render
from consumer_site.i18n import pick_lang
from labels.digital_link import DigitalLinkError, gtin_in_link, parse
from labels.tokens import token_valid
from traceability_api.consumer.scans import ScanBuffer, client_hash, looks_copied, scan_row
from traceability_api.consumer.secrets import label_secret
from traceability_api.consumer.view import build_lot_view
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import Invalid, NotFound
from traceability_api.lots.models import Lot, Product
from traceability_api.lots.service import find_lot, find_serial_lot, lot_by_key, product_by_gtin

router = APIRouter(tags=["resolver and consumer pages"])


def strict_link(request: Request) -> None:
    """The whole requested Digital Link (path and query) follows GS1's syntax, or 400 with the reason."""
    try:
        parse(str(request.url))
    except DigitalLinkError as exc:
        raise BadLink(f"not a valid GS1 Digital Link: {exc}") from exc


class BadLink(Invalid):
    status_code = 400


_STRICT = [Depends(strict_link)]


class PageCache:
    """A micro-cache of rendered lot pages (AGRITRACE_CONSUMER_PAGE_CACHE_S, default 2 s): a
    burst of scans of one lot renders it once.  Verification is recomputed at least that often,
    so a record edited behind the service's back shows as not verified within that time."""

    def __init__(self) -> None:
        self._pages: dict[tuple[object, ...], tuple[float, str]] = {}

    def get(self, key: tuple[object, ...]) -> str | None:
        hit = self._pages.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: tuple[object, ...], html: str, ttl_s: float) -> None:
        if ttl_s > 0:
            if len(self._pages) > 10_000:
                self._pages.clear()
            self._pages[key] = (time.monotonic() + ttl_s, html)


def page_cache(runtime: RuntimeDep) -> PageCache:
    cache = runtime.extras.setdefault("page_cache", PageCache())
    assert isinstance(cache, PageCache)
    return cache


LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"


def _gtin(gtin: str) -> str:
    try:
        return gtin_in_link(gtin)  # 14 digits: GS1 refuses zero-suppressed GTINs in a Digital Link
    except DigitalLinkError as exc:
        raise Invalid(str(exc)) from exc


def scan_buffer(runtime: RuntimeDep) -> ScanBuffer:
    fresh = ScanBuffer(runtime.engine)
    buf = runtime.extras.setdefault("scan_buffer", fresh)  # atomic: one buffer per runtime
    if buf is fresh:
        runtime.on_close.append(fresh.close)
    assert isinstance(buf, ScanBuffer)
    return buf


def _product(session: SessionDep, gtin: str) -> Product:
    product = product_by_gtin(session, _gtin(gtin))
    if product is None:
        raise NotFound(f"no product with GTIN {gtin}")
    return product


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
                "href": f"{base}/api/v1/proofs/lots/{product.gtin}/{quote(lot.lot_code)}",
                "title": "Proof bundle (EPCIS events + Merkle proofs)",
                "type": "application/json",
            },
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
    return link_type in ("all", "linkset") or (accept is not None and LINKSET in accept)


def _product_page(product: Product, lang: str, base: str) -> str:
    vm = {  # type: ignore[var-annotated]
        "lang": lang,
        "product": {
            "name": product.name,
            "gtin": product.gtin,
            "brand": product.brand,
            "ocop_stars": product.ocop_stars,
            "certifications": list(product.certifications),
            "image_svg": render.PRODUCT_ICON,
        },
        "alt_lang": "en" if lang == "vi" else "vi",
        "alt_lang_url": f"{base}/01/{product.gtin}?lang={'en' if lang == 'vi' else 'vi'}",
        "producer": None,
        "origin": None,
        "lot": {"code": "—"},
        "timeline": [],
        "diary": [],
        "sensors": [],
        "verification": None,
        "recall": None,
        "copy_warning": False,
        "trace_url": f"{base}/01/{product.gtin}",
        "jsonld": "{}",
    }
    return render.lot_page(vm)


@router.get("/01/{gtin}", response_class=HTMLResponse, dependencies=_STRICT)
def resolve_product(
    gtin: str,
    session: SessionDep,
    runtime: RuntimeDep,
    accept: Annotated[str | None, Header()] = None,
    accept_language: Annotated[str | None, Header()] = None,
    lang: str | None = None,
    linkType: str | None = None,  # noqa: N803
) -> Response:
    product = _product(session, gtin)
    base = runtime.settings.public_base_url
    if _wants_linkset(accept, linkType):
        return JSONResponse(_linkset(base, product, None, f"/01/{product.gtin}"), media_type=LINKSET)
    return HTMLResponse(_product_page(product, pick_lang(lang, accept_language), base))


def _resolve(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    gtin: str,
    lot_code: str | None,
    serial: str | None,
    *,
    accept: str | None,
    accept_language: str | None,
    lang: str | None,
    link_type: str | None,
    token: str | None,
    geo: str | None,
) -> Response:
    product = _product(session, gtin)
    base = runtime.settings.public_base_url
    found: tuple[Lot, Product] | None
    if lot_code is not None:
        found = find_lot(session, product.gtin, lot_code)
    else:
        found = find_serial_lot(session, product.gtin, serial or "")
    if found is None:  # unknown lot (or serial) of a known product: the product
        return RedirectResponse(f"{base}/01/{product.gtin}", status_code=307)
    lot = found[0]
    if serial is not None and lot_code is None:
        return RedirectResponse(f"{base}/01/{product.gtin}/10/{quote(lot.lot_code)}/21/{quote(serial)}", 301)
    # a serial is genuine here only if it was commissioned in the lot this link names
    serial_lot = found if lot_code is None else (find_serial_lot(session, product.gtin, serial) if serial else None)
    serial_known = serial_lot is not None and serial_lot[0].id == lot.id
    path = f"/01/{product.gtin}/10/{quote(lot.lot_code)}" + (f"/21/{quote(serial)}" if serial else "")
    if _wants_linkset(accept, link_type):
        return JSONResponse(_linkset(base, product, lot, path), media_type=LINKSET)
    if link_type == "gs1:traceability":
        return RedirectResponse(f"{base}/api/v1/proofs/lots/{product.gtin}/{quote(lot.lot_code)}", 303)
    secret = label_secret(runtime.settings)
    token_ok = None
    copied = False
    assert lot.id is not None
    buffer = scan_buffer(runtime)
    if serial is not None:
        token_ok = serial_known and token_valid(secret, product.gtin, serial, token)
        copied = looks_copied(session, buffer, lot.id, serial, token_ok)
    client = request.client.host if request.client else None
    buffer.add(scan_row(lot_id=lot.id, serial=serial, client=client_hash(secret, client), geo=geo,
                        user_agent=request.headers.get("user-agent"), token_ok=token_ok))  # fmt: skip
    chosen = pick_lang(lang, accept_language)
    headers = {"Cache-Control": "no-store", "Link": f'<{base}{path}>; rel="linkset"; type="{LINKSET}"'}
    key = (lot.id, chosen, serial, copied)
    pages = page_cache(runtime)
    html = pages.get(key) if serial is None else None
    if html is None:
        contract = runtime.chain.contract if runtime.chain is not None else None
        vm = build_lot_view(session, lot=lot, product=product, lang=chosen, base_url=base, contract=contract,
                            serial=serial, copy_warning=copied)  # fmt: skip
        html = render.lot_page(vm)
        if serial is None:
            pages.put(key, html, runtime.settings.consumer_page_cache_s)
    return HTMLResponse(html, headers=headers)


@router.get("/01/{gtin}/10/{lot_code}", response_class=HTMLResponse, dependencies=_STRICT)
def resolve_lot(
    gtin: str,
    lot_code: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    accept: Annotated[str | None, Header()] = None,
    accept_language: Annotated[str | None, Header()] = None,
    lang: str | None = None,
    linkType: str | None = None,
    geo: str | None = None,  # noqa: N803
) -> Response:
    return _resolve(
        request,
        session,
        runtime,
        gtin,
        lot_code,
        None,
        accept=accept,
        accept_language=accept_language,
        lang=lang,
        link_type=linkType,
        token=None,
        geo=geo,
    )


@router.get("/01/{gtin}/10/{lot_code}/21/{serial}", response_class=HTMLResponse, dependencies=_STRICT)
def resolve_serial(
    gtin: str,
    lot_code: str,
    serial: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    accept: Annotated[str | None, Header()] = None,
    accept_language: Annotated[str | None, Header()] = None,
    lang: str | None = None,
    linkType: str | None = None,
    t: str | None = None,
    geo: str | None = None,  # noqa: N803
) -> Response:
    return _resolve(
        request,
        session,
        runtime,
        gtin,
        lot_code,
        serial,
        accept=accept,
        accept_language=accept_language,
        lang=lang,
        link_type=linkType,
        token=t,
        geo=geo,
    )


@router.get("/01/{gtin}/21/{serial}", response_class=HTMLResponse, dependencies=_STRICT)
def resolve_serial_only(gtin: str, serial: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    return _resolve(
        request,
        session,
        runtime,
        gtin,
        None,
        serial,
        accept=None,
        accept_language=None,
        lang=None,
        link_type=None,
        token=None,
        geo=None,
    )


def _lot_vm(session: SessionDep, runtime: RuntimeDep, gtin: str, lot_code: str, lang: str) -> dict[str, Any]:
    lot, product = lot_by_key(session, _product(session, gtin).gtin, lot_code)
    contract = runtime.chain.contract if runtime.chain is not None else None
    return build_lot_view(
        session, lot=lot, product=product, lang=lang, base_url=runtime.settings.public_base_url, contract=contract
    )


@router.get("/embed/01/{gtin}/10/{lot_code}", response_class=HTMLResponse, summary="Compact widget for an iframe")
def embed(
    gtin: str,
    lot_code: str,
    session: SessionDep,
    runtime: RuntimeDep,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    vm = _lot_vm(session, runtime, gtin, lot_code, pick_lang(lang, accept_language))
    return HTMLResponse(render.widget(vm), headers={"Content-Security-Policy": "frame-ancestors *"})


@router.get("/badge/01/{gtin}/10/{lot_code}.svg", summary="Verification badge (SVG)")
def badge(gtin: str, lot_code: str, session: SessionDep, runtime: RuntimeDep, lang: str = "vi") -> Response:
    vm = _lot_vm(session, runtime, gtin, lot_code, "vi")
    status = "recalled" if vm["recall"] is not None else vm["verification"]["status"]
    return Response(
        render.badge(status, lang if lang in ("vi", "en") else "vi"),
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=300"},
    )


@router.get("/oembed", summary="oEmbed (rich) for a trace link")
def oembed(
    session: SessionDep,
    runtime: RuntimeDep,
    url: str,
    format: str = "json",  # noqa: A002
    maxwidth: Annotated[int, Query(ge=200, le=2000)] = 360,
    maxheight: Annotated[int, Query(ge=100, le=2000)] = 170,
) -> dict[str, Any]:
    if format != "json":
        raise Invalid("only format=json is supported")  # oEmbed says 501; a 4xx with the reason is clearer
    try:
        dl = parse(url)
    except DigitalLinkError as exc:
        raise Invalid(f"url is not a Digital Link of a lot: {exc}") from exc
    if dl.lot is None or dl.gtin is None:
        raise Invalid("url must name a lot (/01/<GTIN>/10/<lot>)")
    vm = _lot_vm(session, runtime, dl.gtin, dl.lot, "vi")
    base = runtime.settings.public_base_url
    src = f"{base}/embed/01/{dl.gtin}/10/{quote(dl.lot)}"
    w, h = min(360, maxwidth), min(170, maxheight)
    return {
        "version": "1.0",
        "type": "rich",
        "provider_name": "AgriTrace",
        "provider_url": base,
        "title": vm["product"]["name"],
        "width": w,
        "height": h,
        "html": f'<iframe src="{src}" width="{w}" height="{h}" style="border:0" loading="lazy" '
        'title="AgriTrace"></iframe>',
    }
