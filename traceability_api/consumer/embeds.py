"""Embeds of a lot's verification: the iframe widget, the SVG badge and oEmbed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, Response

from consumer_site import render
from consumer_site.i18n import LANGS
from consumer_site.viewmodel import LotPage, UnknownWidget
from labels.digital_link import DigitalLinkError, build, normalise_gtin, parse
from traceability_api.consumer.view import build_lot_view
from traceability_api.content_coding import pick_language
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import Invalid, NotFound
from traceability_api.lots.service import lot_by_key

router = APIRouter(tags=["resolver and consumer pages"])
FRAMEABLE = {"Content-Security-Policy": "frame-ancestors *"}  # any shop may frame the widget
SHOWN = 200  # characters of a refused code shown in the widget


def _gtin(gtin: str) -> str:
    try:
        return normalise_gtin(gtin)
    except DigitalLinkError as exc:
        raise Invalid(str(exc)) from exc


def _lot_vm(session: SessionDep, runtime: RuntimeDep, gtin: str, lot_code: str, lang: str) -> LotPage:
    lot, product = lot_by_key(session, _gtin(gtin), lot_code)
    contract = runtime.chain.contract if runtime.chain is not None else None
    return build_lot_view(
        session, lot=lot, product=product, lang=lang, base_url=runtime.settings.public_base_url, contract=contract
    )


@router.api_route(
    "/embed/01/{gtin}/10/{lot_code}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    summary="Compact widget for an iframe",
)
def embed(
    gtin: str,
    lot_code: str,
    session: SessionDep,
    runtime: RuntimeDep,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    chosen = pick_language(lang, accept_language, LANGS)
    try:
        vm = _lot_vm(session, runtime, gtin, lot_code, chosen)
    except (NotFound, Invalid) as exc:  # a shop's iframe (maybe a fake listing): the warning, not JSON
        html = render.unknown_widget(_unknown(runtime, gtin, lot_code, chosen, exc))
        return HTMLResponse(html, status_code=exc.status_code, headers=FRAMEABLE)
    return HTMLResponse(render.widget(vm), headers=FRAMEABLE)


def _unknown(runtime: RuntimeDep, gtin: str, lot_code: str, lang: str, exc: Exception) -> UnknownWidget:
    code = f"/01/{quote(gtin, safe='')}/10/{quote(lot_code, safe='')}"
    page = f"{runtime.settings.public_base_url}{code}"  # the resolver's page: full warning, report form
    return UnknownWidget(lang=lang, code=code[:SHOWN], page_url=page, invalid=isinstance(exc, Invalid))


@router.api_route("/badge/01/{gtin}/10/{lot_code}.svg", methods=["GET", "HEAD"], summary="Verification badge (SVG)")
def badge(gtin: str, lot_code: str, session: SessionDep, runtime: RuntimeDep, lang: str = "vi") -> Response:
    lang = lang if lang in ("vi", "en") else "vi"
    try:
        vm = _lot_vm(session, runtime, gtin, lot_code, "vi")
    except (NotFound, Invalid) as exc:  # an <img> of JSON is a broken image: a red badge saying why
        status = "invalid_title" if isinstance(exc, Invalid) else "unknown_title"
        return Response(render.badge(status, lang), status_code=exc.status_code, media_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
    assert vm.verification is not None
    status = "recalled" if vm.recall is not None else vm.verification.status
    # kept by browsers and shops' caches no longer than the consumer page keeps its view: a badge
    # kept 300 s still said "verified" for 5 minutes after a recall
    fresh = int(runtime.settings.consumer_page_cache_s)
    return Response(render.badge(status, lang), media_type="image/svg+xml",
                    headers={"Cache-Control": f"max-age={fresh}, must-revalidate"})  # fmt: skip


@router.get("/oembed", summary="oEmbed (rich) for a trace link")
def oembed(
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    url: str,
    format: str = "json",  # noqa: A002
    maxwidth: Annotated[int, Query(ge=200, le=2000)] = 360,
    maxheight: Annotated[int, Query(ge=100, le=2000)] = 170,
) -> dict[str, Any]:
    if format != "json":
        raise Invalid("only format=json is supported")  # oEmbed says 501; a 4xx with the reason is clearer
    base = runtime.settings.public_base_url
    if urlsplit(url.strip()).netloc.lower() != urlsplit(base).netloc.lower():
        raise NotFound(f"oEmbed answers only for links of this service ({base}/01/...)")
    try:
        dl = parse(url)
    except DigitalLinkError as exc:
        raise Invalid(f"url is not a Digital Link of a lot: {exc}") from exc
    if dl.lot is None or dl.gtin is None:
        raise Invalid("url must name a lot (/01/<GTIN>/10/<lot>)")
    vm = _lot_vm(session, runtime, dl.gtin, dl.lot, "vi")
    src = build(dl.gtin, dl.lot).uri(f"{base}/embed")
    w, h = min(360, maxwidth), min(170, maxheight)
    # public data, no credentials: a shop's own script may read it (oEmbed is often fetched in the browser)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return {
        "version": "1.0",
        "type": "rich",
        "provider_name": "AgriTrace",
        "provider_url": base,
        "title": vm.product.name,
        "width": w,
        "height": h,
        "html": f'<iframe src="{src}" width="{w}" height="{h}" style="border:0;max-width:100%" loading="lazy" '
        'title="AgriTrace"></iframe>',
    }
