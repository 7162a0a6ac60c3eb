"""Real, small pictures for tests that upload photos (the service decodes what it stores)."""

from __future__ import annotations

import io
import random

from PIL import Image


def picture(kind: str = "JPEG", seed: int = 0, size: tuple[int, int] = (32, 24)) -> bytes:
    """A real image of ``kind`` (JPEG, PNG or WEBP) whose pixels depend on ``seed``, so two seeds
    give two different files."""
    rnd = random.Random(seed)
    img = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    img.putpixel((rnd.randrange(size[0]), rnd.randrange(size[1])), (rnd.randrange(256), 0, 0))
    out = io.BytesIO()
    img.save(out, kind)
    return out.getvalue()
