"""The typed view model of a consumer page: everything the templates show, already formatted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProductView:
    name: str
    gtin: str
    brand: str | None = None
    ocop_stars: int | None = None
    certifications: list[str] = field(default_factory=list)
    image_svg: str = ""
    image_url: str | None = None


@dataclass
class CertificateChip:
    """A certificate record: its status on the page's day (active, expired, not_yet_valid, revoked)."""

    label: str
    status: str
    number: str | None = None
    issuer: str | None = None
    valid_until: str | None = None
    verified: bool = False


@dataclass
class CodeChip:
    """A registered planting-area or packing-house code behind the lot, with its status and markets."""

    kind: str  # planting_area | packhouse | aquaculture | establishment
    code: str
    status: str  # active | suspended | revoked | expired | not_yet_valid | unregistered
    markets: str = ""


@dataclass
class Producer:
    name: str
    address: str | None = None


@dataclass
class Origin:
    name: str
    area_code: str | None = None
    province: str | None = None
    growing_area: bool = True  # False: a packhouse, mill or warehouse is "made at", not a growing area
    raised: bool = False  # a pond, cage, barn, flock house or hatchery: "raised at", with its sector code


@dataclass
class LotInfo:
    code: str
    serial: str | None = None
    harvest_date: str | None = None
    expiry: str | None = None
    holder: str | None = None
    market: str | None = None  # destination market of an exported lot (country name)


@dataclass
class Step:
    stage: str
    title: str
    time: str
    who: str | None = None
    where: str | None = None
    quantity: str = ""
    inputs: str = ""
    outputs: str = ""
    note: str | None = None
    signed: str | None = None  # who signed the record (own key, or AgriTrace on an organisation's behalf)
    private: str = ""  # a non-public step: what the public is told instead of its content


@dataclass
class DiaryItem:
    date: str
    text: str
    note: str | None = None


@dataclass
class SensorItem:
    label: str
    unit: str
    min: str
    max: str
    mean: str
    out: str
    chart_label: str
    svg: str


@dataclass
class Verification:
    status: str  # verified | pending | not_verified
    summary: str  # what exactly was checked, in plain words
    anchor: dict[str, Any] | None
    anchored_at: str | None
    bundle_url: str


@dataclass
class LotPage:
    lang: str
    alt_lang: str
    alt_lang_url: str
    product: ProductView
    lot: LotInfo
    trace_url: str
    producer: Producer | None = None
    origin: Origin | None = None
    timeline: list[Step] = field(default_factory=list)
    diary: list[DiaryItem] = field(default_factory=list)
    sensors: list[SensorItem] = field(default_factory=list)
    verification: Verification | None = None
    recall: str | None = None  # the reason, when the lot is recalled ("" when none was given)
    copy_warning: bool = False
    jsonld: str = "{}"
    certificates: list[CertificateChip] = field(default_factory=list)
    codes: list[CodeChip] = field(default_factory=list)
    product_only: bool = False  # a code with the GTIN alone: no lot, so no journey to show


@dataclass
class UnknownCode:
    """A Digital Link whose GTIN, lot or serial is not registered: maybe a counterfeit."""

    lang: str
    code: str
    report_url: str
    csrf: str
    alt_lang_url: str
    reported_id: int | None = None


@dataclass
class InvalidCode:
    """A scanned address that is not a valid GS1 Digital Link (bad check digit, refused AI ...)."""

    lang: str
    code: str
    reason: str
    alt_lang_url: str


@dataclass
class UnknownWidget:
    """The embed (iframe) or badge of a code that is not registered, or not a Digital Link at all."""

    lang: str
    code: str
    page_url: str  # the resolver's page of the code: the full warning and the report form
    invalid: bool = False


@dataclass
class OpenDataDownload:
    """One file of a dataset: its newest address, its own unchanging one, and how to check it."""

    fmt: str  # CSV | JSON
    latest_url: str
    file_url: str
    size: str  # formatted for the page's language
    sha256: str
    proof_url: str


@dataclass
class OpenDataSet:
    slug: str
    title: str
    description: str
    modified: str | None  # the day its newest file changed; None: not built yet
    rows: str | None
    downloads: list[OpenDataDownload] = field(default_factory=list)


@dataclass
class OpenDataPage:
    """The open-data catalogue as a page for people (the same datasets as the DCAT-AP JSON-LD)."""

    lang: str
    alt_lang: str
    alt_lang_url: str
    publisher: str
    licence_url: str
    licence_name: str
    catalogue_url: str
    modified: str | None
    datasets: list[OpenDataSet] = field(default_factory=list)
