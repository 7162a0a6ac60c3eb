"""Numbers typed by people on a phone: a decimal comma is accepted ("12,5")."""

from __future__ import annotations

import math

from traceability_api.workspace.i18n import T


def parse_quantity(raw: str, lang: str, default: float | None = None) -> tuple[float, str | None]:
    """(value, None) or (0, the message to show next to the field)."""
    raw = raw.strip().replace(",", ".")
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
