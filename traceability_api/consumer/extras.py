"""Evidence shown on consumer pages (farm-diary highlights, sensor summaries): filled in by the
evidence domain; empty until it exists."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from traceability_api.lots.models import Lot


def page_extras(session: Session, lot: Lot, lang: str) -> dict[str, Any]:
    return {}
