"""``/opendata`` for people: which answer a client asked for (content negotiation), and the
catalogue as a consumer-site page (its template, stylesheet and ``?lang=`` switch) listing the same
datasets and files as the DCAT-AP JSON-LD, with addresses relative to the host the page came from."""

from __future__ import annotations

from sqlmodel import Session

from consumer_site.formatting import day, number
from consumer_site.i18n import STRINGS
from consumer_site.viewmodel import OpenDataDownload, OpenDataPage, OpenDataSet
from traceability_api.config import Settings
from traceability_api.content_coding import media_ranges, quality
from traceability_api.opendata.catalog import current_files
from traceability_api.opendata.datasets import datasets
from traceability_api.opendata.encode import FORMATS

JSON_TYPES = ("application/ld+json", "application/json")  # first: preferred on a tie (the answer so far)
HTML = "text/html"
LICENCE_NAMES = {
    "https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC BY-SA 4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
    "http://opendatacommons.org/licenses/odbl/1-0/": "ODbL 1.0",
}
PATH = "/opendata"


def wants_html(accept: str | None) -> bool:
    """Whether the client prefers the HTML page to the JSON-LD: only when it accepts HTML with a
    higher weight than JSON-LD and JSON.  No Accept, ``*/*``, a tie or neither acceptable: JSON-LD,
    as every harvester got before there was a page."""
    if not accept:
        return False
    ranges = media_ranges(accept)
    html = quality(ranges, HTML)
    return html > 0 and html > max(quality(ranges, t) for t in JSON_TYPES)


def _size(n: int, lang: str) -> str:
    return f"{number(n, lang)} {STRINGS[lang]['od_sizes']}"


def catalog_page(session: Session, settings: Settings, lang: str) -> OpenDataPage:
    """The view model of the page: each dataset in the page's language, its newest files (as the
    catalogue lists them) with their newest and own addresses, size, SHA-256 and proof."""
    files = current_files(session)
    entries = []
    for ds in datasets(settings):
        own = [files[(ds.slug, fmt)] for fmt in FORMATS if (ds.slug, fmt) in files]
        downloads = [
            OpenDataDownload(
                fmt=f.fmt.upper(),
                latest_url=f"{PATH}/{f.dataset}.{f.fmt}",
                file_url=f"{PATH}/files/{f.id}/{f.dataset}.{f.fmt}",
                size=_size(f.size, lang),
                sha256=f.sha256,
                proof_url=f"{PATH}/proofs/{f.sha256}",
            )  # fmt: skip
            for f in own
        ]
        entries.append(
            OpenDataSet(
                slug=ds.slug,
                title=ds.title_vi if lang == "vi" else ds.title_en,
                description=ds.description_vi if lang == "vi" else ds.description_en,
                modified=day(max(f.created_at for f in own), lang, settings.zone) if own else None,
                rows=number(own[0].rows, lang) if own else None,
                downloads=downloads,
            )  # fmt: skip
        )
    alt = "en" if lang == "vi" else "vi"
    licence = settings.opendata_license
    newest = max((f.created_at for f in files.values()), default=None)
    return OpenDataPage(
        lang=lang, alt_lang=alt, alt_lang_url=f"{PATH}?lang={alt}", publisher=settings.opendata_publisher,
        licence_url=licence, licence_name=LICENCE_NAMES.get(licence, licence), catalogue_url=f"{PATH}/catalog.jsonld",
        modified=day(newest, lang, settings.zone) if newest else None, datasets=entries,
    )  # fmt: skip
