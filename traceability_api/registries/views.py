"""View models of the registries for people's pages (the console's code and certificate lists, the
workspace's certificates and places): plain rows built over ``codes`` and ``certificates``, whose
rules (who reads what, status on a day) they reuse and never restate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from traceability_api.lots.models import Product
from traceability_api.parties.models import Organisation, OrgKind
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place, PlaceKind
from traceability_api.registries import certificates as certs
from traceability_api.registries import codes
from traceability_api.registries.models import Certificate, CodeKind, RegisteredCode

STATUSES = ("active", "suspended", "revoked", "expired", "not_yet_valid")
CERT_STATUSES = ("unverified", "verified", "expired", "revoked", "not_yet_valid")


@dataclass(frozen=True)
class CodeFilter:
    kind: CodeKind | None = None
    status: str | None = None
    market: str | None = None
    org_id: int | None = None
    commune: str | None = None  # matched in the addresses of the code's places and of its holder


@dataclass
class CodeRow:
    record: RegisteredCode
    status: str
    holder: str
    places: list[Place] = field(default_factory=list)

    @property
    def where(self) -> str:
        return "; ".join(f"{pl.name}" + (f" ({pl.address})" if pl.address else "") for pl in self.places)


def _names(session: Session, org_ids: set[int]) -> dict[int, Organisation]:
    if not org_ids:
        return {}
    return {o.id or 0: o for o in session.exec(select(Organisation).where(col(Organisation.id).in_(sorted(org_ids))))}


def code_rows(session: Session, p: Principal, f: CodeFilter, day: date) -> list[CodeRow]:
    """The codes ``p`` may read (``codes.list_codes``), with status on ``day``, holder and places, filtered."""
    rows = codes.list_codes(session, p, f.kind, f.market)
    if f.org_id is not None:
        rows = [r for r in rows if r.org_id == f.org_id]
    with_status = [(r, codes.status_on(r, day)) for r in rows]
    if f.status:
        with_status = [(r, st) for r, st in with_status if st == f.status]
    org_ids = {r.org_id for r, _ in with_status}
    places = codes.places_by_code(session, org_ids)
    orgs = _names(session, org_ids)
    needle = f.commune.casefold() if f.commune else None
    out = []
    for r, st in with_status:
        holder = orgs.get(r.org_id)
        row = CodeRow(r, st, holder.name if holder else str(r.org_id), places.get((r.org_id, str(r.kind), r.code), []))
        if needle is not None:
            texts = [pl.address or "" for pl in row.places] + [holder.address or "" if holder else ""]
            if not any(needle in t.casefold() for t in texts):
                continue
        out.append(row)
    return out


def organisations(session: Session) -> list[Organisation]:
    """Every organisation, by name (the console's holder select and filter)."""
    return list(session.exec(select(Organisation).order_by(col(Organisation.name)).limit(5000)))


@dataclass
class CertRow:
    record: Certificate
    label: str
    status: str  # active / expired / not_yet_valid / revoked (certificates.status_on)
    shown: str  # what a person reads first: revoked, expired, not_yet_valid, else verified / unverified
    holder: str
    certifier: str | None
    scope: list[str]


def cert_rows(session: Session, p: Principal, day: date, *, naming_me: bool = False) -> list[CertRow]:
    """The certificates ``p`` may read (``certificates.list_for``); ``naming_me``: only those whose
    certifier is ``p``'s organisation (a certifier's screen)."""
    rows = certs.list_for(session, p)
    if naming_me:
        rows = [c for c in rows if c.certifier_org_id == p.org_id]
    orgs = _names(session, {c.org_id for c in rows} | {c.certifier_org_id for c in rows if c.certifier_org_id})
    pids = sorted({i for c in rows for i in c.product_ids})
    lids = sorted({i for c in rows for i in c.place_ids})
    products = {x.id: x.name for x in session.exec(select(Product).where(col(Product.id).in_(pids)))} if pids else {}
    places = {x.id: x.name for x in session.exec(select(Place).where(col(Place.id).in_(lids)))} if lids else {}
    out = []
    for c in rows:
        status = certs.status_on(c, day)
        shown = status if status != "active" else ("verified" if c.verified_at else "unverified")
        holder = orgs.get(c.org_id)
        certifier = orgs.get(c.certifier_org_id or 0)
        scope = [products.get(i, f"#{i}") for i in c.product_ids] + [places.get(i, f"#{i}") for i in c.place_ids]
        out.append(CertRow(c, certs.label(c), status, shown, holder.name if holder else str(c.org_id),
                           certifier.name if certifier else None, scope))  # fmt: skip
    return out


@dataclass(frozen=True)
class PlaceCode:
    code: str
    registered: bool
    status: str | None  # on the day, when registered to the place's organisation
    reason: str | None


def place_codes(session: Session, places: list[Place], day: date) -> dict[int, PlaceCode]:
    """For each place carrying a code (a plot's planting-area code, a packhouse's packing-house
    code): is it in the registry for the place's organisation, and its status on ``day``."""
    found = {pl.id or 0: fc for pl in places if (fc := codes.place_code(pl)) is not None}
    records = codes.codes_by_value(session, {c for _, c in found.values()})
    out = {}
    for pl in places:
        fc = found.get(pl.id or 0)
        if fc is None:
            continue
        rec = records.get(fc[1])
        if rec is not None and rec.kind == fc[0] and rec.org_id == pl.org_id:
            out[pl.id or 0] = PlaceCode(fc[1], True, codes.status_on(rec, day), rec.status_reason)
        else:
            out[pl.id or 0] = PlaceCode(fc[1], False, None, None)
    return out


def code_places(session: Session) -> list[tuple[Place, str]]:
    """Places a code may be written on (plots, farms, packhouses; ponds, cages, hatcheries and fish
    processing plants), with their organisation's name."""
    kinds = [PlaceKind.plot, PlaceKind.farm, PlaceKind.packhouse, PlaceKind.pond, PlaceKind.cage, PlaceKind.hatchery,
             PlaceKind.mill]  # fmt: skip
    q = (select(Place, Organisation.name).join(Organisation, col(Organisation.id) == Place.org_id)
         .where(col(Place.kind).in_(kinds)).order_by(col(Organisation.name), col(Place.name)).limit(5000))  # fmt: skip
    return [(pl, name) for pl, name in session.exec(q)]


def certifiers(session: Session) -> list[Organisation]:
    """Certifier organisations on AgriTrace (the certificate form's select)."""
    q = select(Organisation).where(Organisation.kind == OrgKind.certifier).order_by(col(Organisation.name))
    return list(session.exec(q.limit(1000)))
