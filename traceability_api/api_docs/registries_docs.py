"""Summaries, descriptions and examples of the registries' operations (registered codes,
certificates), merged into the catalogue by ``catalogue.py``."""

from __future__ import annotations

from typing import Any

_AUTH = " Needs an API key (Authorization: Bearer <key>)."
_AUTHORITY = " Authority members with a write role only (403 otherwise)."
_VOUCH = " An authority member or the certifier organisation the certificate names (403 otherwise)."


def _ex(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


BODY_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/registry/codes"): {
        "area": _ex("A mango planting area registered for China and the US",
                    {"kind": "planting_area", "code": "VN-DTOR-0012", "org_id": 2, "issuer": "Cục Bảo vệ thực vật",
                     "markets": ["CN", "US"], "valid_from": "2024-01-01", "valid_until": "2027-12-31"}),
        "packhouse": _ex("A packing house registered for China",
                         {"kind": "packhouse", "code": "VN-DTPH-0005", "org_id": 2, "issuer": "Cục Bảo vệ thực vật",
                          "markets": ["CN"], "valid_from": "2024-01-01"}),
    },
    ("POST", "/api/v1/registry/codes/{code}/suspend"): {
        "residue": _ex("Suspend after a residue finding", {"reason": "Phát hiện dư lượng vượt mức, thông báo 12/BVTV"}),
    },
    ("POST", "/api/v1/registry/codes/{code}/reinstate"): {"ok": _ex("Reinstate", {"reason": "Khắc phục xong"})},
    ("POST", "/api/v1/registry/codes/{code}/revoke"): {"closed": _ex("Revoke", {"reason": "Vùng trồng giải thể"})},
    ("POST", "/api/v1/certificates"): {
        "vietgap": _ex("A VietGAP certificate of a product and its plot, with its scanned document",
                       {"scheme": "vietgap", "number": "VietGAP-TT-12-34-0001", "issuer": "Trung tâm Chứng nhận VietGAP",
                        "product_ids": [1], "place_ids": [2], "valid_from": "2024-06-01", "valid_until": "2026-06-01",
                        "document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}),
        "ocop": _ex("OCOP 4 stars", {"scheme": "ocop", "ocop_stars": 4, "number": "OCOP-DT-2024-0042",
                                     "issuer": "UBND tỉnh Đồng Tháp", "product_ids": [1],
                                     "valid_from": "2024-01-15", "valid_until": "2027-01-15"}),
    },
    ("POST", "/api/v1/certificates/{cert_id}/revoke"): {
        "lapsed": _ex("Revoke", {"reason": "Không duy trì điều kiện chứng nhận"}),
    },
}  # fmt: skip

PARAM_EXAMPLES: dict[str, Any] = {"code": "VN-DTOR-0012", "cert_id": 1}

DOCS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("POST", "/api/v1/registry/codes"): (
        None,
        "Register a planting-area code (VN-<province>OR-<n>) or packing-house code (VN-<province>PH-<n>) for an organisation, with the importing markets (ISO country codes, EU) it is registered for and its validity."
        + _AUTHORITY,
    ),
    ("GET", "/api/v1/registry/codes"): (
        None,
        "Registered codes with their status today and the places that carry them: every code for the authority, the caller's own codes otherwise."
        + _AUTH,
    ),
    ("GET", "/api/v1/registry/codes/{code}"): (
        "Read a registered code",
        "One registered code with its status today, markets and places." + _AUTH,
    ),
    ("POST", "/api/v1/registry/codes/{code}/suspend"): (
        None,
        "Suspend a code (reason required): harvests on its area and export shipments through it are refused until reinstated."
        + _AUTHORITY,
    ),
    ("POST", "/api/v1/registry/codes/{code}/reinstate"): (
        "Reinstate a suspended code",
        "Lift a suspension: harvests and export shipments go through again." + _AUTHORITY,
    ),
    ("POST", "/api/v1/registry/codes/{code}/revoke"): (None, "Revoke a code for good (reason required)." + _AUTHORITY),
    ("GET", "/api/v1/certificates"): (
        "List certificates",
        "Certificates of the caller's organisation, or naming it as certifier; every certificate for the authority. Status today: active, expired, not_yet_valid, revoked."
        + _AUTH,
    ),
    ("POST", "/api/v1/certificates"): (
        None,
        "Record a certificate of your organisation (scheme, number, issuer, scope, validity, document uploaded first). It starts unverified."
        + _AUTH,
    ),
    ("GET", "/api/v1/certificates/{cert_id}"): (
        "Read a certificate",
        "One certificate with its status today and whether it was verified." + _AUTH,
    ),
    ("GET", "/api/v1/certificates/{cert_id}/document"): (
        "Download a certificate's document",
        "The certificate's document (PDF or photo), for whoever may read the certificate." + _AUTH,
    ),
    ("POST", "/api/v1/certificates/{cert_id}/verify"): (None, "Mark a certificate verified." + _VOUCH),
    ("POST", "/api/v1/certificates/{cert_id}/revoke"): (
        None,
        "Revoke a certificate (reason required); consumer pages show it revoked." + _VOUCH,
    ),
}
