"""What open data may show: the few rules that decide it, each in one small function so that a
change elsewhere (event visibility, certification records, a commune field on places) is one edit.

* Organisations are legal entities: their name is published when their profile is public (the
  consumer page's rule), never their address, members, keys or contacts.
* Places: only the planting-area code, commune, area and crop; never the place's own name (farmers
  name plots after themselves: "Vườn xoài ông Sáu"), internal id or street address.
* Certifications: the certificate records consumer pages show (with their status, verified or
  not), and self-declared product strings marked so; never a certificate's note or document.
* Events: only public ones (``agri:visibility`` absent or ``public``, :func:`public_events`); a
  partners-only or private harvest does not count in the volumes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from traceability_api.events.models import Event
from traceability_api.lots.models import Product
from traceability_api.privacy.models import Visibility
from traceability_api.registries.certificates import label as cert_label
from traceability_api.registries.certificates import status_on
from traceability_api.registries.models import Certificate

HIDDEN_ORG = ""  # the organisation column of a producer whose profile is not public
# the commune part of a Vietnamese address: "xã Thạnh Phú", "phường An Hòa", "thị trấn Cờ Đỏ"
_COMMUNE = re.compile(r"(?<!\w)((?:xã|phường|thị trấn)\s+[^,;()]{1,60}?)\s*(?=[,;()]|$)", re.IGNORECASE)


def public_events() -> ColumnElement[bool]:
    """The condition an event row must meet to feed open data: its visibility is public (a
    partners-only or private event, even its quantity, stays out)."""
    return col(Event.visibility) == Visibility.public


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


@dataclass(frozen=True)
class Certification:
    """One certification as open data publishes it: a certificate record covering a product or a
    place (what consumer pages show, whatever its status), or a product's self-declared string."""

    product_id: int | None
    place_id: int | None
    org_id: int
    scheme: str
    label: str
    ocop_stars: int | None
    number: str | None
    issuer: str | None
    valid_from: date | None
    valid_until: date | None
    status: str  # active, expired, not_yet_valid, revoked (on the build's day) or self_declared
    verified: bool


def certifications(session: Session, day: date) -> list[Certification]:
    """Certificate records (never their note, revocation reason or document) with their status on
    ``day``, one per product or place they cover, then the free-text ``product.certifications``
    strings still given at product registration (self-declared, unverified)."""
    out: list[Certification] = []
    for c in session.exec(select(Certificate).order_by(col(Certificate.id))).all():
        common = {"org_id": c.org_id, "scheme": str(c.scheme), "label": cert_label(c), "ocop_stars": c.ocop_stars,
                  "number": c.number, "issuer": c.issuer, "valid_from": c.valid_from, "valid_until": c.valid_until,
                  "status": status_on(c, day), "verified": c.verified_at is not None}  # fmt: skip
        out += [Certification(product_id=int(p), place_id=None, **common) for p in c.product_ids]  # type: ignore[arg-type]
        out += [Certification(product_id=None, place_id=int(p), **common) for p in c.place_ids]  # type: ignore[arg-type]
    q = select(Product.id, Product.org_id, Product.certifications).order_by(col(Product.id))
    for pid, org_id, texts in session.exec(q).all():
        for text in texts or []:
            if str(text).strip():
                out.append(Certification(int(pid or 0), None, org_id, "self_declared", str(text).strip()[:200],
                                         None, None, None, None, None, "self_declared", False))  # fmt: skip
    return out
