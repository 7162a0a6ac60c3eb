"""The DCAT-AP catalogue (JSON-LD) of the open datasets, for data portals to harvest.

Self-contained: the ``@context`` is inline (no remote context to fetch), each text in Vietnamese
and English (language-tagged), each distribution with its download URL, IANA media type, size and
SPDX SHA-256 checksum, and a link to the Merkle proof of that checksum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from traceability_api.config import Settings
from traceability_api.opendata.datasets import datasets
from traceability_api.opendata.encode import FORMATS
from traceability_api.opendata.models import OpenDataFile

IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"  # DCAT-AP's vocabulary for dct:format
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "agri": "https://ns.agritrace.vn/voc/",
}


def _text(vi: str, en: str) -> list[dict[str, str]]:
    return [{"@value": vi, "@language": "vi"}, {"@value": en, "@language": "en"}]


def _time(at: datetime) -> dict[str, str]:
    return {"@value": at.isoformat(), "@type": "xsd:dateTime"}


def base_url(settings: Settings) -> str:
    return settings.public_base_url + "/opendata"


def file_url(settings: Settings, f: OpenDataFile) -> str:
    """The file's own, unchanging address (a later build gets a new one)."""
    return f"{base_url(settings)}/files/{f.id}/{f.dataset}.{f.fmt}"


def proof_url(settings: Settings, sha256: str) -> str:
    return f"{base_url(settings)}/proofs/{sha256}"


def current_files(session: Session) -> dict[tuple[str, str], OpenDataFile]:
    """The newest file of each (dataset, format), without its bytes."""
    ids = select(func.max(OpenDataFile.id)).group_by(col(OpenDataFile.dataset), col(OpenDataFile.fmt))
    q = select(OpenDataFile).where(col(OpenDataFile.id).in_(ids)).options(defer(OpenDataFile.content))  # type: ignore[arg-type]
    return {(f.dataset, f.fmt): f for f in session.exec(q).all()}


def _distribution(settings: Settings, f: OpenDataFile, licence: dict[str, str]) -> dict[str, Any]:
    return {
        "@id": f"{file_url(settings, f)}#distribution",
        "@type": "dcat:Distribution",
        "dct:title": f"{f.dataset}.{f.fmt}",
        "dcat:downloadURL": {"@id": file_url(settings, f)},
        "dcat:accessURL": {"@id": f"{base_url(settings)}/{f.dataset}.{f.fmt}"},
        "dcat:mediaType": {"@id": IANA + FORMATS[f.fmt]},
        "dct:format": {"@id": FILE_TYPE + f.fmt.upper()},
        "dcat:byteSize": {"@value": str(f.size), "@type": "xsd:nonNegativeInteger"},
        "dct:license": licence,
        "dct:modified": _time(f.created_at),
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
            "spdx:checksumValue": {"@value": f.sha256, "@type": "xsd:hexBinary"},
        },
        "agri:merkleProof": {"@id": proof_url(settings, f.sha256)},
    }


def catalog(session: Session, settings: Settings) -> dict[str, Any]:
    base = base_url(settings)
    licence = {"@id": settings.opendata_license}
    publisher = {"@id": f"{base}#publisher", "@type": "foaf:Agent", "foaf:name": settings.opendata_publisher}
    files = current_files(session)
    entries = []
    for ds in datasets(settings):
        own = [files[(ds.slug, fmt)] for fmt in FORMATS if (ds.slug, fmt) in files]
        entry: dict[str, Any] = {
            "@id": f"{base}/datasets/{ds.slug}",
            "@type": "dcat:Dataset",
            "dct:identifier": ds.slug,
            "dct:title": _text(ds.title_vi, ds.title_en),
            "dct:description": _text(ds.description_vi, ds.description_en),
            "dct:license": licence,
            "dct:publisher": {"@id": publisher["@id"]},
            "dct:language": [
                {"@id": "http://publications.europa.eu/resource/authority/language/VIE"},
                {"@id": "http://publications.europa.eu/resource/authority/language/ENG"},
            ],  # fmt: skip
            "dcat:distribution": [_distribution(settings, f, licence) for f in own],
        }
        if own:
            entry["dct:modified"] = _time(max(f.created_at for f in own))
        entries.append(entry)
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"{base}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _text("Dữ liệu mở truy xuất nguồn gốc nông sản", "Open data of farm-product traceability"),
        "dct:description": _text(
            "Dữ liệu tổng hợp, công khai: sản phẩm, vùng trồng, sản lượng theo tháng, chứng nhận. Không có dữ"
            " liệu cá nhân. Mỗi tệp có mã SHA-256 được neo trên blockchain.",
            "Aggregated public data: products, planting areas, monthly volumes, certifications. No personal"
            " data. Each file's SHA-256 is anchored on chain.",
        ),
        "dct:publisher": publisher,
        "dct:license": licence,
        "dcat:dataset": entries,
    }
    if files:
        body["dct:modified"] = _time(max(f.created_at for f in files.values()))
    return body
