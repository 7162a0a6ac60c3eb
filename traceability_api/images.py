"""Reading an uploaded picture through (Pillow), with a bound on its pixels checked before any
decoding: what an attachment check and the barcode reader both need."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError


class UnreadableImage(ValueError):
    """The bytes are no picture of the accepted formats, or it is damaged or cut short."""


class TooManyPixels(UnreadableImage):
    def __init__(self, width: int, height: int, most: int) -> None:
        super().__init__(f"the image has {width} x {height} pixels; at most {most:,} pixels are accepted")


def read_whole(data: bytes, max_pixels: int, formats: frozenset[str], *, jpeg_draft: bool = False) -> Image.Image:
    """The picture, decoded to its end (a file cut short fails here, not when shown).  Its format
    and pixel count are checked from the header first; ``jpeg_draft``: a JPEG is decoded at an
    eighth of its size (every byte is still read, at a fraction of the work)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in formats:
                raise UnreadableImage(f"{img.format or 'unknown'} pictures are not accepted")
            if img.width * img.height > max_pixels:
                raise TooManyPixels(img.width, img.height, max_pixels)
            if jpeg_draft and img.format == "JPEG":
                img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
            return img
    except UnreadableImage:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            SyntaxError, ValueError) as exc:  # fmt: skip
        raise UnreadableImage(str(exc)) from exc
