"""Registered planting-area codes (mã số vùng trồng) and packing-house codes (mã số cơ sở đóng gói):
the one format rule, registration by an authority, suspension, reinstatement, revocation, and the
status a code has on a given day.  See docs/registries.md for the accepted format and its source."""

from __future__ import annotations

import re
from datetime import date

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel import Session, col, or_, select

from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.parties.kinds import OrgKind
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place, PlaceKind
from traceability_api.registries.models import CodeKind, CodeStatus, RegisteredCode
from traceability_api.timeutil import utcnow
from traceability_api.validation import MAX_DB_ID, check_validity

# VN-<province letters><OR|PH>-<sequence>, as on the lists PPD (Cục Bảo vệ thực vật) sends to importing
# countries (e.g. VN-DTOR-0012 an orchard / planting area in Đồng Tháp, VN-DTPH-0005 a pack house).
_FORMAT = re.compile(r"^VN-?([A-Z]{2,4})(OR|PH)-?([0-9]{4,5})$")  # ASCII digits: \d takes any Unicode digit
_SUFFIX = {CodeKind.planting_area: "OR", CodeKind.packhouse: "PH"}
# Aquaculture (docs/registries.md): a pond's identification code AA-BB-CCCC-DDD (province, species: 01
# pangasius, facility 0001-9999, pond 001-999; Nghị định 55/2017/NĐ-CP Điều 4), and a fish processor's
# export establishment code: DL (frozen), DH (canned), HK (dried), NM (fish sauce), NT (bivalves), TS
# (other) + 3-4 digits (Thông tư 48/2013/TT-BNNPTNT Phụ lục VII), printed "DL 126", stored "DL-126".
_POND = re.compile(r"^(\d{2})[-.]?(\d{2})[-.]?(\d{4})[-.]?(\d{3})$")  # hyphens or dots
_ESTABLISHMENT = re.compile(r"^(DL|DH|HK|NM|NT|TS)-?(\d{3,4})$")
_EXAMPLE = {CodeKind.planting_area: "VN-<province letters>OR-<4 or 5 digits>, e.g. VN-DTOR-0012",
            CodeKind.packhouse: "VN-<province letters>PH-<4 or 5 digits>, e.g. VN-DTPH-0012",
            CodeKind.aquaculture: "AA-BB-CCCC-DDD (province, species, facility, pond), e.g. 87-01-0012-005",
            CodeKind.establishment: "DL|DH|HK|NM|NT|TS-<3 or 4 digits>, e.g. DL-126"}  # fmt: skip
MARKET_RE = re.compile(r"^[A-Z]{2}$")
MAX_MARKETS = 40


def normalise_code(raw: str, kind: CodeKind) -> str:
    """``VN-DTOR-0012``, ``87-01-0012-005``, ``DL-126``; spaces, lower case and missing hyphens are
    accepted and normalised."""
    text = re.sub(r"[\s_]+", "", raw).upper()
    if kind == CodeKind.aquaculture and (a := _POND.fullmatch(text)) is not None:
        return "-".join(a.groups())
    if kind == CodeKind.establishment and (e := _ESTABLISHMENT.fullmatch(text)) is not None:
        return f"{e.group(1)}-{e.group(2)}"
    m = _FORMAT.fullmatch(text) if kind in _SUFFIX else None
    if m is None:
        raise Invalid(
            f"{kind.value.replace('_', '-')} code {raw[:40]!r} is not in the registry format {_EXAMPLE[kind]}"
        )
    if m.group(2) != _SUFFIX[kind]:
        other = "a packing-house" if m.group(2) == "PH" else "a planting-area"
        raise Invalid(f"code {text} is {other} code ({m.group(2)}), not a {kind.value.replace('_', '-')} code")
    return f"VN-{m.group(1)}{m.group(2)}-{m.group(3)}"


def normalise_markets(markets: list[str]) -> list[str]:
    """ISO 3166-1 alpha-2 country codes (CN, US, JP, KR, AU ...) or EU, upper case, each once, sorted."""
    out = sorted({m.strip().upper() for m in markets})
    if not out:
        raise Invalid("a registered code names at least one importing market (ISO country code such as CN, US, EU)")
    if len(out) > MAX_MARKETS:
        raise Invalid(f"at most {MAX_MARKETS} markets")
    for m in out:
        if not MARKET_RE.fullmatch(m) or m not in _MARKETS:
            raise Invalid(f"market {m[:10]!r} is not an ISO 3166-1 alpha-2 country code (or EU)")
    return out


# the countries CLDR names (Babel's copy, kept with Babel), less its non-country codes; plus the EU
_MARKETS = frozenset(k for k in map(str, Locale("en").territories) if len(k) == 2 and k.isalpha()) - {
    "EZ", "QO", "UN", "XA", "XB", "XK", "ZZ"
} | {"EU"}  # fmt: skip


class CodeCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # spaces alone are no number, issuer or reason

    kind: CodeKind
    code: str = Field(
        min_length=1, max_length=40,
        description="VN-DTOR-0012 (planting area), VN-DTPH-0005 (packhouse), 87-01-0012-005 (aquaculture pond), "
        "DL-126 (fish processing establishment)",
    )  # fmt: skip
    org_id: int = Field(ge=1, le=MAX_DB_ID, description="the organisation that grows or packs under the code")
    issuer: str = Field(min_length=2, max_length=200, description="issuing body, e.g. Cục Bảo vệ thực vật")
    markets: list[str] = Field(min_length=1, max_length=MAX_MARKETS, description="importing markets: CN, US, EU ...")
    valid_from: date
    valid_until: date | None = None

    @field_validator("markets")
    @classmethod
    def _markets(cls, v: list[str]) -> list[str]:
        try:
            return normalise_markets(v)
        except Invalid as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _dates(self) -> CodeCreate:
        check_validity(self.valid_from, self.valid_until)
        return self


class StatusChange(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class CodePublic(BaseModel):
    id: int
    kind: CodeKind
    code: str
    org_id: int
    issuer: str
    markets: list[str]
    valid_from: date
    valid_until: date | None
    status: str = Field(description="active, suspended, revoked, expired or not_yet_valid (on today's date)")
    stored_status: CodeStatus
    status_reason: str | None
    places: list[int] = Field(description="the holder's places that carry the code")


def status_on(row: RegisteredCode, day: date) -> str:
    if row.status != CodeStatus.active:
        return str(row.status)
    if day < row.valid_from:
        return "not_yet_valid"
    if row.valid_until is not None and day > row.valid_until:
        return "expired"
    return "active"


def _places_of(session: Session, row: RegisteredCode) -> list[int]:
    """The holder's places whose code (as typed, normalised) is this one."""
    column = getattr(Place, _FIELD[CodeKind(row.kind)])
    q = select(Place).where(Place.org_id == row.org_id, col(column).is_not(None)).order_by(col(Place.id))
    return [
        pl.id
        for pl in session.exec(q.limit(10_000)).all()
        if pl.id is not None and place_code(pl) == (row.kind, row.code)
    ]


def places_by_code(session: Session, org_ids: set[int]) -> dict[tuple[int, str, str], list[Place]]:
    """The holders' places that carry a code, keyed (org, kind, code as the registry writes it):
    one query for a whole list of codes."""
    if not org_ids:
        return {}
    q = (select(Place).where(col(Place.org_id).in_(sorted(org_ids)))
         .where(or_(col(Place.planting_area_code).is_not(None), col(Place.packhouse_code).is_not(None),
                    col(Place.sector_code).is_not(None)))
         .order_by(col(Place.id)))  # fmt: skip
    out: dict[tuple[int, str, str], list[Place]] = {}
    for pl in session.exec(q.limit(50_000)):
        found = place_code(pl)
        if found is not None:
            out.setdefault((pl.org_id, str(found[0]), found[1]), []).append(pl)
    return out


def to_public_many(session: Session, rows: list[RegisteredCode], day: date) -> list[CodePublic]:
    """``to_public`` of a list, the places read in one query."""
    places = places_by_code(session, {r.org_id for r in rows})
    return [to_public(session, r, day, [pl.id for pl in places.get((r.org_id, str(r.kind), r.code), [])
                                         if pl.id is not None]) for r in rows]  # fmt: skip


def to_public(session: Session, row: RegisteredCode, day: date, place_ids: list[int] | None = None) -> CodePublic:
    assert row.id is not None
    return CodePublic(id=row.id, kind=CodeKind(row.kind), code=row.code, org_id=row.org_id, issuer=row.issuer,
                      markets=list(row.markets), valid_from=row.valid_from, valid_until=row.valid_until,
                      status=status_on(row, day), stored_status=CodeStatus(row.status),
                      status_reason=row.status_reason,
                      places=_places_of(session, row) if place_ids is None else place_ids)  # fmt: skip


def require_registrar(p: Principal) -> None:
    """Only members of an authority organisation with a write role keep the code registry."""
    if not p.is_authority:
        raise Forbidden(
            "only the authority registers, suspends, reinstates or revokes planting-area and packing-house codes"
        )
    p.require_write()


NOT_HOLDERS = frozenset({OrgKind.authority, OrgKind.certifier})


def register(session: Session, p: Principal, data: CodeCreate) -> RegisteredCode:
    require_registrar(p)
    code = normalise_code(data.code, data.kind)
    holder = session.get(Organisation, data.org_id)
    if holder is None:
        raise Invalid(f"organisation {data.org_id} does not exist")
    if holder.kind in NOT_HOLDERS:  # an area or house is grown, packed or processed by its holder
        raise Invalid(f"a registered code is held by a grower, packer or processor, not by a {holder.kind}",
                      details={"field": "org_id"})  # fmt: skip
    if session.exec(select(RegisteredCode).where(RegisteredCode.code == code)).first() is not None:
        raise Conflict(f"code {code} is already registered")
    row = RegisteredCode(kind=data.kind, code=code, org_id=data.org_id, issuer=data.issuer.strip(),
                         markets=data.markets, valid_from=data.valid_from, valid_until=data.valid_until,
                         registered_by_org_id=p.org_id)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def find(session: Session, code: str, *, for_update: bool = False) -> RegisteredCode | None:
    q = select(RegisteredCode).where(RegisteredCode.code == re.sub(r"\s+", "", code).upper())
    return session.exec(q.with_for_update() if for_update else q).first()


def get_code(session: Session, p: Principal, code: str, *, for_update: bool = False) -> RegisteredCode:
    row = find(session, code[:60], for_update=for_update)
    if row is None or not (p.reads_everything or row.org_id == p.org_id):
        raise NotFound(f"no registered code {code[:60]!r}")
    return row


_DONE = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}
_MOVES = {  # action -> (allowed from, to)
    "suspend": ({CodeStatus.active}, CodeStatus.suspended),
    "reinstate": ({CodeStatus.suspended}, CodeStatus.active),
    "revoke": ({CodeStatus.active, CodeStatus.suspended}, CodeStatus.revoked),
}


def change_status(session: Session, p: Principal, code: str, action: str, reason: str | None) -> RegisteredCode:
    require_registrar(p)
    row = get_code(session, p, code, for_update=True)
    allowed, target = _MOVES[action]
    if row.status not in allowed:
        raise Conflict(f"code {row.code} is {row.status}: it cannot be {_DONE[action]}")
    if action != "reinstate" and not (reason and reason.strip()):
        raise Invalid(f"say why the code is {_DONE[action]}: 'reason' is required")
    row.status, row.status_reason, row.status_changed_at = target, (reason or "").strip() or None, utcnow()
    session.add(row)
    session.flush()
    return row


def list_codes(session: Session, p: Principal, kind: CodeKind | None, market: str | None) -> list[RegisteredCode]:
    q = select(RegisteredCode).order_by(col(RegisteredCode.code))
    if not p.reads_everything:
        q = q.where(RegisteredCode.org_id == p.org_id)
    if kind is not None:
        q = q.where(RegisteredCode.kind == kind)
    rows = list(session.exec(q.limit(5000)).all())
    if market:
        rows = [r for r in rows if market.upper() in r.markets]
    return rows


def codes_by_value(session: Session, values: set[str]) -> dict[str, RegisteredCode]:
    if not values:
        return {}
    rows = session.exec(select(RegisteredCode).where(col(RegisteredCode.code).in_(sorted(values)))).all()
    return {r.code: r for r in rows}


def canonical(raw: str, kind: CodeKind) -> str:
    """A place's code as the registry writes it (``vndtor 0012`` -> ``VN-DTOR-0012``); a code in
    another format stays as typed (upper case): it is simply not registered."""
    try:
        return normalise_code(raw, kind)
    except Invalid:
        return re.sub(r"\s+", "", raw).upper()


# where a place writes each kind of code, and which places may carry it
_FIELD = {CodeKind.planting_area: "planting_area_code", CodeKind.packhouse: "packhouse_code",
          CodeKind.aquaculture: "sector_code", CodeKind.establishment: "sector_code"}  # fmt: skip
AQUACULTURE_PLACES = frozenset({PlaceKind.pond, PlaceKind.cage, PlaceKind.hatchery})
ESTABLISHMENT_PLACES = frozenset({PlaceKind.mill})  # a processing plant (xưởng chế biến)


_TARGET = {CodeKind.packhouse: "packhouse", CodeKind.aquaculture: "pond, cage or hatchery",
           CodeKind.establishment: "processing plant (mill)"}  # fmt: skip


def code_kind_of(place: Place) -> CodeKind:
    """The kind of registry code a place of this kind carries."""
    if place.kind == PlaceKind.packhouse:
        return CodeKind.packhouse
    if place.kind in AQUACULTURE_PLACES:
        return CodeKind.aquaculture
    if place.kind in ESTABLISHMENT_PLACES:
        return CodeKind.establishment
    return CodeKind.planting_area


def place_code(place: Place) -> tuple[CodeKind, str] | None:
    """The registry code a place carries, by its kind: a packhouse's packing-house code, a pond's, cage's
    or hatchery's aquaculture code and a processing plant's (mill) establishment code (both in its
    ``sector_code``), else its planting-area code."""
    kind = code_kind_of(place)
    raw: str | None = getattr(place, _FIELD[kind])
    return (kind, canonical(raw, kind)) if raw else None


def link_place(session: Session, p: Principal, row: RegisteredCode, place_id: int) -> Place:
    """The authority writes a just-registered code on the holder's place it was issued for (a plot's
    planting-area code, a packhouse's packing-house code): the place must be the holder's, of the
    matching kind."""
    require_registrar(p)
    place = session.get(Place, place_id)
    if place is None or place.org_id != row.org_id:
        raise Invalid(f"place {place_id} is not a place of the code's holder (organisation {row.org_id})")
    if code_kind_of(place) != row.kind:
        target = _TARGET.get(CodeKind(row.kind), "plot or farm")
        raise Invalid(
            f"place {place_id}: a {row.kind.replace('_', '-')} code goes on a {target}, not on a {place.kind}"
        )
    setattr(place, _FIELD[CodeKind(row.kind)], row.code)
    session.add(place)
    session.flush()
    return place
