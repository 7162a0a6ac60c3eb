"""The banned-substance list (pesticides and veterinary drugs): data in the database that authority
members keep through the API, plus any extra names in ``AGRITRACE_BANNED_SUBSTANCES``.  Every input
recorded in a diary (``agri:diary`` ``active_ingredient``, ``product``) is checked against it."""

from __future__ import annotations

from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.errors import Conflict, Forbidden, NotFound
from traceability_api.evidence.models import BannedSubstance, BannedSubstanceCreate
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow

# seeded by the migration: Vietnam's banned plant-protection ingredients and veterinary drugs
# (Thông tư 10/2020/TT-BNNPTNT; Thông tư 06/2016/TT-BNNPTNT and 01/2016 for livestock and aquaculture)
DEFAULT_LIST: tuple[tuple[str, str, str], ...] = (
    ("paraquat", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("2,4-D", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("glyphosate", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("carbofuran", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("chlorpyrifos ethyl", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("endosulfan", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("methamidophos", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("trichlorfon", "crop", "Thông tư 10/2020/TT-BNNPTNT"),
    ("chloramphenicol", "all", "Thông tư 06/2016/TT-BNNPTNT"),
    ("furazolidone", "all", "Thông tư 06/2016/TT-BNNPTNT"),
    ("nitrofurazone", "all", "Thông tư 06/2016/TT-BNNPTNT"),
    ("malachite green", "aquaculture", "Thông tư 06/2016/TT-BNNPTNT"),
    ("crystal violet", "aquaculture", "Thông tư 06/2016/TT-BNNPTNT"),
    ("dimetridazole", "livestock", "Thông tư 06/2016/TT-BNNPTNT"),
    ("metronidazole", "all", "Thông tư 06/2016/TT-BNNPTNT"),
    ("ronidazole", "livestock", "Thông tư 06/2016/TT-BNNPTNT"),
    ("clenbuterol", "livestock", "Thông tư 01/2016/TT-BNNPTNT"),
    ("salbutamol", "livestock", "Thông tư 01/2016/TT-BNNPTNT"),
    ("ractopamine", "livestock", "Thông tư 01/2016/TT-BNNPTNT"),
)


def active_names(session: Session, settings: Settings) -> frozenset[str]:
    rows = session.exec(select(BannedSubstance.name).where(BannedSubstance.active == True)).all()  # noqa: E712
    return frozenset(n.strip().lower() for n in rows if n.strip()) | settings.banned


def first_banned(session: Session, settings: Settings, *texts: object) -> str | None:
    """The first banned name contained in any of ``texts`` (case-insensitive), else None."""
    lowered = [str(t).lower() for t in texts if t]
    if not lowered:
        return None
    for name in sorted(active_names(session, settings)):
        if any(name in t for t in lowered):
            return name
    return None


def list_banned(session: Session, *, include_removed: bool = False) -> list[BannedSubstance]:
    q = select(BannedSubstance).order_by(BannedSubstance.name)  # type: ignore[arg-type]
    if not include_removed:
        q = q.where(BannedSubstance.active == True)  # noqa: E712
    return list(session.exec(q).all())


def _require_authority(p: Principal) -> None:
    if not p.is_authority or not p.can_write:
        raise Forbidden("only an admin or recorder of an authority organisation keeps the banned-substance list")


def add_banned(session: Session, p: Principal, data: BannedSubstanceCreate) -> BannedSubstance:
    _require_authority(p)
    name = data.name.strip()
    existing = session.exec(select(BannedSubstance).where(BannedSubstance.name == name)).first()
    if existing is not None and existing.active:
        raise Conflict(f"{name!r} is already on the banned list")
    row = BannedSubstance(name=name, sector=data.sector, legal_basis=data.legal_basis, added_by_org_id=p.org_id)
    session.add(row)
    session.flush()
    return row


def remove_banned(session: Session, p: Principal, row_id: int) -> BannedSubstance:
    _require_authority(p)
    row = session.get(BannedSubstance, row_id)
    if row is None or not row.active:
        raise NotFound(f"banned substance {row_id} not found (or already removed)")
    row.active, row.removed_at = False, utcnow()
    session.add(row)
    return row
