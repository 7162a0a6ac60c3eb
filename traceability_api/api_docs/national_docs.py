"""Summaries, descriptions and examples of the national traceability record's operations (and the
product and organisation fields it needs), merged into the catalogue by ``catalogue.py``."""

from __future__ import annotations

from typing import Any

_AUTH = " Needs an API key (Authorization: Bearer <key>)."
_PUBLIC = " Public: no API key."


def _ex(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


BODY_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/products/{product_id}"): {
        "complete": _ex("Brand, image, shelf life and the standards the rice is made to",
                        {"brand": "Gạo Thạnh Phú", "image_url": "https://trace.example.vn/static/st25.jpg",
                         "shelf_life_days": 365,
                         "standards": [{"kind": "TCVN", "number": "11888:2017", "title": "Gạo trắng"},
                                       {"kind": "TCCS", "number": "01:2025/HTXTP", "title": "Gạo ST25 Thạnh Phú"}]}),
    },
    ("PATCH", "/api/v1/organisations/me"): {
        "address": _ex("The cooperative's address (required for public national records)",
                       {"address": "Ấp Thạnh Phú, xã Thạnh Phú, huyện Cờ Đỏ, Cần Thơ", "province": "Cần Thơ"}),
    },
}  # fmt: skip

PARAM_EXAMPLES: dict[str, Any] = {
    "product_id": 1,
    "after_id": 0,
    "format": "json",
    "until": "2025-04-01T00:00:00+07:00",
}

_FORMAT = " Format agritrace-national-record/1 (JSON, or XML with format=xml; schemas at /api/v1/national-record/schema.json and .xsd; mapping in docs/national-record.md)."
DOCS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("PATCH", "/api/v1/products/{product_id}"): (None, "The product's organisation (admin or recorder) completes what the national record needs: brand, image_url (https or a path on this service), shelf_life_days, name_en, and standards applied [{kind: TCVN|QCVN|TCCS, number, title}] (the list is replaced). 404 for another organisation's product." + _AUTH),
    ("PATCH", "/api/v1/organisations/me"): (None, "An admin sets the organisation's address and province (the national record and consumer pages show them) or public_profile." + _AUTH),
    ("GET", "/api/v1/lots/{lot_id}/national-record"): (None, "The lot's national traceability record (Circular 02/2024/TT-BKHCN, TCVN 12850:2019): product name and image, producer name and address, stages with product and location trace codes and times, production time, trace code, brand, serials, shelf life and expiry, standards applied, what is missing, and the lot's proof bundle (bundle=false leaves it out). For the lot's owner and authorities: 404 for a lot you cannot read, 403 for another organisation's." + _FORMAT + _AUTH),
    ("GET", "/api/v1/lots/{lot_id}/national-record/completeness"): (None, "Which mandatory items of the lot's national record are missing, each with its name and what to do, in Vietnamese (lang=en: English). Same access as the record." + _AUTH),
    ("GET", "/api/v1/exports/national-record"): (None, "The national records of the lots recorded in [since, until) (times with a zone), at most 100 per page: continue with after_id = nextAfterId. An authority exports every organisation's lots (or org_id's); an organisation its own (another org_id: 403). bundles=false leaves the proof bundles out." + _FORMAT + _AUTH),
    ("GET", "/api/v1/national-record/completeness"): (None, "By organisation, for the lots recorded in [since, until): lots, complete records, their share, and how many lots lack each mandatory item. Authorities see every organisation; others their own." + _AUTH),
    ("GET", "/api/v1/national-record/schema.json"): (None, "The JSON Schema (2020-12) of agritrace-national-record/1." + _PUBLIC),
    ("GET", "/api/v1/national-record/schema.xsd"): (None, "The XML Schema of agritrace-national-record/1 (XML binding)." + _PUBLIC),
}  # fmt: skip
