"""What a consumer page shows of the registries: the certificates covering the product or its origin
plots (with their status today: an expired or revoked certificate is shown as such, never hidden)
and the registered codes behind the lot (planting areas, packhouses)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from consumer_site.viewmodel import CertificateChip, CodeChip
from traceability_api.consumer.lot_dates import day_text
from traceability_api.lots.models import Lot, Product
from traceability_api.registries import certificates, codes
from traceability_api.registries.lot_codes import LotCodes, lot_codes
from traceability_api.registries.models import CodeKind, RegisteredCode

PROVINCE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> date:
    return datetime.now(PROVINCE_ZONE).date()


def registry_chips(
    session: Session, lot: Lot, product: Product, lang: str, day: date | None = None
) -> tuple[list[CertificateChip], list[CodeChip]]:
    day = day or today()
    found = lot_codes(session, lot)
    places = [o.place for o in found.origins if o.place is not None]
    chips = [
        CertificateChip(
            certificates.label(c),
            certificates.status_on(c, day),
            c.number,
            c.issuer,
            day_text(c.valid_until, lang),
            c.verified_at is not None,
        )  # fmt: skip
        for c in certificates.for_product(session, product, places)
    ]
    return chips, _code_chips(found, day)


def _code_chips(found: LotCodes, day: date) -> list[CodeChip]:
    seen: dict[str, CodeChip] = {}
    pairs: list[tuple[str | None, RegisteredCode | None, CodeKind]] = [
        *((o.code, o.record, o.kind) for o in found.origins),
        *((h.code, h.record, h.kind) for h in found.packhouses),
    ]
    for code, rec, kind in pairs:
        if code is None or rec is None or code in seen:  # an unregistered code shows as the origin's free field
            continue
        seen[code] = CodeChip(kind.value, code, codes.status_on(rec, day), ", ".join(rec.markets))
    return list(seen.values())
