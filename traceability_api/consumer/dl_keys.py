"""The resolver for Digital Link forms other than ``/01/<GTIN>[/10/<lot>][/21/<serial>]``: GS1 short
names (``/gtin/...``) redirect to the numeric form; SSCC, GLN and GIAI links are parsed and checked
(400 with the reason if GS1's syntax refuses them) and answered 404 until this service holds records for them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from consumer_site import render
from consumer_site.i18n import LANGS
from consumer_site.viewmodel import InvalidCode
from labels.digital_link import SHORT_NAMES, DigitalLinkError, parse
from traceability_api.content_coding import media_ranges, pick_language, quality
from traceability_api.deps import SettingsDep
from traceability_api.errors import Invalid, NotFound

router = APIRouter(tags=["resolver and consumer pages"])


class BadLink(Invalid):
    status_code = 400


SHOWN = 300  # characters of the code and of the reason on the page (a scanned link may be very long)


def _wants_page(request: Request) -> bool:
    """A person's browser: ``text/html`` named in Accept, weighed no lower than JSON (``*/*`` alone,
    as curl and API clients send, keeps the JSON refusal)."""
    ranges = media_ranges(request.headers.get("accept") or "")
    html = quality(ranges, "text/html", named=True)
    return html > 0 and html >= quality(ranges, "application/json", named=True)


def _bad_link(request: Request, exc: DigitalLinkError) -> BadLink:
    """The 400 of a code that is not a Digital Link; a browser gets a warning page in its language
    (a shopper scanning a misprinted or forged label read English JSON about check digits)."""
    err = BadLink(f"not a valid GS1 Digital Link: {exc}")
    if _wants_page(request):
        lang = pick_language(request.query_params.get("lang"), request.headers.get("accept-language"), LANGS)
        alt = "en" if lang == "vi" else "vi"
        url = request.url.include_query_params(lang=alt)
        err.html = render.invalid_code(InvalidCode(
            lang=lang, code=request.url.path[:SHOWN], reason=str(exc)[:SHOWN],
            alt_lang_url=f"{url.path}?{url.query}",
        ))  # fmt: skip
    return err


def requested_link(request: Request) -> str:
    """The link as the client sent it: the server has decoded the path (``%2F`` became ``/``, which
    would split a GS1 value in two), so the path is taken as sent when the server kept it."""
    url, raw = request.url, request.scope.get("raw_path")
    if not raw:
        return str(url)
    return f"{url.scheme}://{url.netloc}{raw.decode('latin-1')}" + (f"?{url.query}" if url.query else "")


async def strict_link(request: Request) -> None:  # async: a short parse needs no thread hop
    """The whole requested Digital Link (path and query) follows GS1's syntax, or 400 with the reason."""
    try:
        parse(requested_link(request))
    except DigitalLinkError as exc:
        raise _bad_link(request, exc) from exc


STRICT = [Depends(strict_link)]
_KEYS = ("00", "414", "417", "8004", *(k for k, ai in SHORT_NAMES.items() if ai in ("01", "00", "414", "417", "8004")))


def _resolve_key(request: Request, settings: SettingsDep) -> RedirectResponse:
    try:
        dl = parse(requested_link(request))
    except DigitalLinkError as exc:
        raise _bad_link(request, exc) from exc
    if dl.key_ai == "01":
        return RedirectResponse(dl.uri(settings.public_base_url), status_code=301)
    raise NotFound(f"no records for ({dl.key_ai}) {dl.key} here")


for _key in _KEYS:
    router.add_api_route(f"/{_key}/{{rest:path}}", _resolve_key, methods=["GET"], name=f"resolve_{_key}",
                         summary=f"Digital Link /{_key}/...: short names redirect; SSCC/GLN/GIAI checked")  # fmt: skip
