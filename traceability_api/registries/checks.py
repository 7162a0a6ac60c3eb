"""Capture checks of the registries (``runtime.capture_checks``, wired in compose.py):

- ``harvest``: a commissioning (harvest) on a plot whose planting-area code is suspended, revoked or
  expired in the registry is refused, naming the code and its status.
- ``export``: a shipping event with a destination market (the event-level extension field
  ``agri:destinationMarket``, an ISO 3166-1 alpha-2 code or EU) is refused unless every lot it ships
  comes, through its lineage, from planting areas and packhouses (for fish: ponds, cages or
  hatchery and processing establishments) whose codes are active and registered for that market."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Invalid
from traceability_api.events.refs import extract
from traceability_api.lots.service import find_lot
from traceability_api.parties.service import Principal
from traceability_api.places.models import Place, PlaceKind
from traceability_api.places.service import find_place_by_uri
from traceability_api.registries.codes import find, normalise_markets, place_code, status_on
from traceability_api.registries.lot_codes import lot_codes
from traceability_api.registries.models import ORIGIN_KINDS, CodeKind, RegisteredCode

MARKET_KEY = "agri:destinationMarket"
KIND_VI = {CodeKind.planting_area: "mã số vùng trồng", CodeKind.packhouse: "mã số cơ sở đóng gói",
           CodeKind.aquaculture: "mã số nhận diện ao nuôi", CodeKind.establishment: "mã số cơ sở chế biến"}  # fmt: skip
WHAT = {CodeKind.planting_area: "planting-area code", CodeKind.packhouse: "packing-house code",
        CodeKind.aquaculture: "aquaculture code", CodeKind.establishment: "establishment code"}  # fmt: skip


def check(session: Session, p: Principal, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    step = voc.full_uri(event.get("bizStep"), voc.BIZSTEP)
    if event.get("type") == "ObjectEvent" and event.get("action") == "ADD" and step == voc.COMMISSIONING:
        _check_harvest(session, event, when, settings)
    elif MARKET_KEY in event:
        _check_export(session, event, when, settings, step)


def _day(when: datetime, settings: Settings) -> Any:
    return when.astimezone(ZoneInfo(settings.time_zone)).date()


def _check_harvest(session: Session, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    ilmd = event.get("ilmd") or {}
    for uri in (ilmd.get("agri:plot"), (event.get("bizLocation") or {}).get("id")):
        place = find_place_by_uri(session, str(uri)) if isinstance(uri, str) and uri else None
        if place is None or place.kind == PlaceKind.packhouse:
            continue
        found = place_code(place)
        row = find(session, found[1]) if found else None
        if row is not None and found is not None and row.kind in ORIGIN_KINDS and row.kind == found[0]:
            status = status_on(row, _day(when, settings))
            if status != "active":
                why = f" ({row.status_reason})" if row.status_reason else ""
                raise Invalid(
                    f"{WHAT[CodeKind(row.kind)]} {row.code} of {place.name!r} is {status}{why}: no new harvest may be "
                    f"recorded on it until the authority reinstates the code"
                )
        return


def _check_export(
    session: Session, event: dict[str, Any], when: datetime, settings: Settings, step: str | None
) -> None:
    raw = event.get(MARKET_KEY)
    if step != voc.full_uri("shipping", voc.BIZSTEP):
        raise Invalid(f"{MARKET_KEY} belongs on a shipping event (bizStep shipping)")
    if not isinstance(raw, str):
        raise Invalid(f"{MARKET_KEY} must be one ISO 3166-1 alpha-2 country code (CN, US, JP ...) or EU")
    market = normalise_markets([raw])[0]
    day = _day(when, settings)
    here = tuple(
        pl for uri in ((event.get("bizLocation") or {}).get("id"), (event.get("readPoint") or {}).get("id"))
        if isinstance(uri, str) and (pl := find_place_by_uri(session, uri)) is not None
    )  # fmt: skip
    problems: list[str] = []
    for item in extract(event).items:
        if not (item.ref.gtin and item.ref.code):
            continue
        found = find_lot(session, item.ref.gtin, item.ref.code)
        if found is not None:
            problems += _lot_problems(session, found[0], market, day, here)
    if problems:
        raise Invalid(f"shipment to {market} refused: " + "; ".join(dict.fromkeys(problems)), details=problems)


def _lot_problems(session: Session, lot: Any, market: str, day: Any, here: tuple[Place, ...]) -> list[str]:
    codes = lot_codes(session, lot, here)
    out: list[str] = []
    for o in codes.origins:
        where = f"lot {o.lot.lot_code}"
        if o.place is None:
            out.append(f"{where} has no origin plot on record, so no planting-area code")
        else:
            out += _code_problem(where, o.place, o.code, o.record, o.kind, market, day)
    kinds = {h.kind for h in codes.packhouses}
    if any(o.kind == CodeKind.planting_area for o in codes.origins) and CodeKind.packhouse not in kinds:
        out.append(f"lot {lot.lot_code} passed through no packhouse on record, so no packing-house code")
    if codes.aquaculture() and not kinds:
        out.append(f"lot {lot.lot_code} passed through no processing plant (place of kind mill) or packhouse on "
                   f"record, so no establishment code")  # fmt: skip
    for h in codes.packhouses:
        out += _code_problem(f"lot {lot.lot_code}", h.place, h.code, h.record, h.kind, market, day)
    return out


def _code_problem(
    where: str, place: Place, code: str | None, rec: RegisteredCode | None, kind: CodeKind, market: str, day: Any
) -> list[str]:
    what = WHAT[kind]
    if code is None:
        return [f"{where}: {place.name!r} has no {what} ({KIND_VI[kind]})"]
    if rec is None:
        return [f"{where}: {what} {code} of {place.name!r} is not registered"]
    status = status_on(rec, day)
    if status != "active":
        return [f"{where}: {what} {code} of {place.name!r} is {status}"]
    if market not in rec.markets:
        return [f"{where}: {what} {code} of {place.name!r} is not registered for {market} "
                f"(registered for {', '.join(rec.markets)})"]  # fmt: skip
    return []
