"""Barcodes on an input's package, for the farm diary: decode a photo (zxing-cpp), read what a
code carries (a plain GTIN, a GS1 element string or a GS1 Digital Link URI, by ``biip``) and
name the product when AgriTrace knows its GTIN.  The phone decodes the camera itself (zxing-js);
both paths end in :func:`read_code`, so one place reads GS1 syntax."""

from __future__ import annotations

from dataclasses import dataclass

import biip
import zxingcpp
from biip.gs1_messages import GS1Message
from sqlmodel import Session, select

from traceability_api.images import UnreadableImage, read_whole
from traceability_api.lots.models import Product

# retail, logistics and GS1 2-D codes seen on fertiliser and pesticide packages
FORMATS = (
    zxingcpp.BarcodeFormat.EAN13 | zxingcpp.BarcodeFormat.EAN8 | zxingcpp.BarcodeFormat.UPCA
    | zxingcpp.BarcodeFormat.ITF | zxingcpp.BarcodeFormat.Code128 | zxingcpp.BarcodeFormat.DataMatrix
    | zxingcpp.BarcodeFormat.QRCode | zxingcpp.BarcodeFormat.DataBar | zxingcpp.BarcodeFormat.DataBarExp
)  # fmt: skip
IMAGE_TYPES = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP"})
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; larger is refused before decoding
MAX_CODE = 512  # characters of decoded text accepted from the phone


class NotAnImage(ValueError):
    """The upload is not a picture we read (or is too large to decode)."""


@dataclass(frozen=True)
class Scanned:
    gtin: str | None  # GTIN-14
    lot: str | None = None  # AI (10)
    expiry: str | None = None  # AI (17), ISO date
    text: str = ""  # what the code said, for a code that carries no GTIN
    name: str | None = None  # the product's name, when AgriTrace knows the GTIN

    def as_json(self) -> dict[str, str | None]:
        return {"gtin": self.gtin, "lot": self.lot, "expiry": self.expiry, "text": self.text, "name": self.name}


def decode_image(data: bytes) -> str | None:
    """The text of the first barcode found in a photo, or None; NotAnImage if it is no picture."""
    try:
        image = read_whole(data, MAX_PIXELS, IMAGE_TYPES).convert("L")
    except UnreadableImage as exc:
        raise NotAnImage(str(exc)) from exc
    for code in zxingcpp.read_barcodes(image, formats=FORMATS, try_rotate=True, try_downscale=True):
        if code.valid and code.text:  # a GS1 symbol reads as "(01)...(10)..."; a GS in another as <GS>
            return str(code.text).replace("<GS>", "\x1d")
    return None


def read_code(text: str) -> Scanned:
    """GTIN, lot and expiry from a barcode's text; a code without a GTIN comes back as its text."""
    text = text.strip()[:MAX_CODE]
    if text.startswith("("):
        try:
            text = GS1Message.parse_hri(text).value
        except biip.ParseError:
            return Scanned(None, text=text)
    try:
        result = biip.parse(text)
    except biip.ParseError:
        return Scanned(None, text=text)
    gtin = result.gtin.as_gtin_14() if result.gtin else None
    message = result.gs1_message
    if message is None and result.gs1_digital_link_uri is not None:
        message = result.gs1_digital_link_uri.as_gs1_message()
    lot = expiry = None
    if message is not None:
        for es in message.element_strings:
            if es.ai.ai == "10":
                lot = es.value
            elif es.ai.ai == "17" and es.date is not None:
                expiry = es.date.isoformat()
    return Scanned(gtin, lot, expiry, text=text if gtin is None else "")


def named(session: Session, org_id: int, scanned: Scanned) -> Scanned:
    """The product's name: the organisation's own product first, else any registered maker's (a
    product's name is public, on its consumer page); an unknown GTIN keeps no name."""
    if scanned.gtin is None:
        return scanned
    rows = session.exec(select(Product.name, Product.org_id).where(Product.gtin == scanned.gtin)).all()
    own = [name for name, org in rows if org == org_id]
    name = (own or [name for name, _ in rows] or [None])[0]  # type: ignore[list-item]
    return Scanned(scanned.gtin, scanned.lot, scanned.expiry, scanned.text, name)
