"""Scanning an input's package in the farm diary.  ``POST /app/scan`` takes either the text the
phone's camera decoded (``code``) or a photo of the barcode (``photo``, decoded here by zxing-cpp)
and answers JSON: the GTIN-14, the lot and expiry a GS1 code carries, and the product's name when
AgriTrace knows the GTIN.  A signed-in member's POST with the session's CSRF token, like every form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from traceability_api.deps import SessionDep
from traceability_api.workspace import barcodes
from traceability_api.workspace.web import Page, PostDep

router = APIRouter(prefix="/app", include_in_schema=False)
MESSAGES = {
    "vi": {
        "none": "Không có mã vạch hoặc ảnh.", "too_large": "Ảnh quá lớn.",
        "not_image": "Tệp không phải ảnh (JPEG, PNG, WebP).", "not_found": "Không đọc được mã vạch trong ảnh.",
    },
    "en": {
        "none": "No barcode or photo sent.", "too_large": "The photo is too large.",
        "not_image": "The file is not a picture (JPEG, PNG, WebP).",
        "not_found": "No barcode could be read in the photo.",
    },
}  # fmt: skip
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _refuse(page: Page, status: int, key: str) -> Response:
    return JSONResponse({"error": MESSAGES[page.lang][key]}, status_code=status, headers=HEADERS)


@router.post("/scan")
async def scan(
    page: PostDep, session: SessionDep,
    photo: Annotated[UploadFile | None, File()] = None, code: Annotated[str, Form(max_length=512)] = "",
) -> Response:  # fmt: skip
    limit = page.settings.scan_photo_max_bytes
    if photo is not None and photo.filename:
        if photo.content_type and not photo.content_type.startswith("image/"):
            return _refuse(page, 415, "not_image")
        data = await photo.read(limit + 1)
        if len(data) > limit:
            return _refuse(page, 413, "too_large")
        try:
            text = barcodes.decode_image(data)
        except barcodes.NotAnImage:
            return _refuse(page, 415, "not_image")
        if text is None:
            return _refuse(page, 422, "not_found")
    elif code.strip():
        text = code
    else:
        return _refuse(page, 422, "none")
    scanned = barcodes.named(session, page.user.principal.org_id, barcodes.read_code(text))
    return JSONResponse(scanned.as_json(), headers=HEADERS)
