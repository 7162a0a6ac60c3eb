"""What open data may show: the few rules that decide it, each in one small function so that a
change elsewhere (event visibility, certification records, a commune field on places) is one edit.

* Organisations are legal entities: their name is published when their profile is public (the
  consumer page's rule), never their address, members, keys or contacts.
* Places: only the planting-area code, commune, area and crop; never the place's own name (farmers
  name plots after themselves: "Vườn xoài ông Sáu"), internal id or street address.
* Events: today every event is public (the consumer page shows them all); when events get a
  visibility, :func:`public_events` is where open data follows it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select

from traceability_api.lots.models import Product
from traceability_api.parties.models import Organisation

HIDDEN_ORG = ""  # the organisation column of a producer whose profile is not public
# the commune part of a Vietnamese address: "xã Thạnh Phú", "phường An Hòa", "thị trấn Cờ Đỏ"
_COMMUNE = re.compile(r"(?<!\w)((?:xã|phường|thị trấn)\s+[^,;()]{1,60}?)\s*(?=[,;()]|$)", re.IGNORECASE)


def public_events() -> ColumnElement[bool]:
    """The condition an event row must meet to feed open data (today: every event)."""
    return true()


def org_name(org: Any) -> str:
    """The name open data gives an organisation (blank when its profile is not public)."""
    return str(org.name) if org is not None and org.public_profile else HIDDEN_ORG


def commune_of(*texts: str | None) -> str:
    """The commune (xã / phường / thị trấn) named in the first text that names one (an address, a
    place's name), as "Xã Mỹ Xương"; blank if none does.  Only the commune is taken from a text."""
    for text in texts:
        m = _COMMUNE.search(text or "")
        if m is not None:
            words = m.group(1).split()
            return " ".join([words[0][0].upper() + words[0][1:], *words[1:]])
    return ""


def certifications(session: Session) -> list[tuple[int, str]]:
    """(product id, certification) pairs: today the free-text ``product.certifications`` strings.
    When certifications become records, read the valid public ones here instead."""
    rows = session.exec(select(Product.id, Product.certifications).order_by(col(Product.id))).all()
    return [(int(pid or 0), str(c).strip()) for pid, certs in rows for c in (certs or []) if str(c).strip()]


def organisations(session: Session) -> dict[int, str]:
    """Published name of every organisation by id."""
    return {o.id: org_name(o) for o in session.exec(select(Organisation)).all() if o.id is not None}
