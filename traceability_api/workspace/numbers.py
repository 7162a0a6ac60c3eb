"""Numbers typed by people on a phone: a decimal comma is accepted ("12,5"), and a number written
as the pages write it ("1.000,5" in Vietnamese, "1,000.5" in English) is read as they mean it."""

from __future__ import annotations

import math
import re

from traceability_api.workspace.i18n import T

# digits in groups of three after a first group of one to three (not starting 0): the thousands of
# the page's language, with its decimal part ("2.500" and "1.000,5" in Vietnamese)
_GROUPED = {
    "vi": re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?"),
    "en": re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?"),
}


def plain(raw: str, lang: str) -> str:
    """A typed number as Python reads it.  The pages write 2500 kg "2.500 kg" in Vietnamese, and
    "2.500" typed back was read as 2.5 (a harvest of 2,5 kg), "1.000,5" refused as no number; a
    comma alone is the decimal comma, as before ("12,5"); spaces are dropped ("10 000")."""
    s = re.sub(r"\s", "", raw)
    if (grouped := _GROUPED.get(lang)) is not None and grouped.fullmatch(s):
        s = s.replace("." if lang == "vi" else ",", "")
    return s.replace(",", ".")


def parse_quantity(raw: str, lang: str, default: float | None = None) -> tuple[float, str | None]:
    """(value, None) or (0, the message to show next to the field)."""
    raw = plain(raw, lang)
    if not raw:
        return (default, None) if default is not None else (0.0, T[lang]["required"])
    try:
        value = float(raw)
    except ValueError:
        return 0.0, T[lang]["not_number"]
    if not math.isfinite(value) or value <= 0:
        return 0.0, T[lang]["must_be_positive"]
    if value > 1e9:
        return 0.0, T[lang]["too_large"]
    return value, None
