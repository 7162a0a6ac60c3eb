"""Animals with their own identities -- pangasius broodstock tagged with a GS1 GIAI (AI 8004) or an
ISO 11784 chip number -- and their history of places (ponds, cages, hatcheries).  Flocks and fry are
lots of animals (``NAR``, counted in con), created by the stocking activity."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import or_
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.epcis.builder import object_event
from traceability_api.errors import Conflict, Forbidden, Invalid
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.husbandry.activities import ANIMAL_PLACES
from traceability_api.husbandry.models import Animal, AnimalPlacement
from traceability_api.parties.service import Principal, readable
from traceability_api.places.models import Place
from traceability_api.places.service import get_place, place_uri
from traceability_api.validation import DbId

# fullmatch and ASCII digits: '$' let a final newline through and '\d' takes every script's digits
GIAI_RE = re.compile(r"[0-9]{6,12}[!%-?A-Z_a-z\"]{1,24}")  # company prefix + asset reference, AI 82 characters
CHIP_RE = re.compile(r"[0-9]{15}")  # ISO 11784 FDX-B: country or manufacturer code + national id


class AnimalCreate(BaseModel):
    species: str = Field(min_length=2, max_length=100, examples=["Cá tra (Pangasianodon hypophthalmus)"])
    giai: str | None = Field(default=None, max_length=30, description="GS1 GIAI (AI 8004)")
    chip: str | None = Field(default=None, max_length=30, description="ISO 11784 chip number, 15 digits")
    sex: str | None = Field(default=None, pattern=r"^(male|female|unknown)$")
    note: str | None = Field(default=None, max_length=500)
    place_id: DbId = Field(description="where it is now: a pond, cage, hatchery, barn or flock house")
    time: datetime

    @model_validator(mode="after")
    def _identity(self) -> AnimalCreate:
        if not self.giai and not self.chip:
            raise ValueError("an animal needs a GIAI or a chip number")
        if self.giai and (len(self.giai) > 30 or not GIAI_RE.fullmatch(self.giai)):
            raise ValueError("giai must be a GS1 company prefix (6-12 digits) and an asset reference, 30 at most")
        if self.chip and not CHIP_RE.fullmatch(self.chip):
            raise ValueError("chip must be the 15-digit ISO 11784 number")
        return self


class Move(BaseModel):
    place_id: DbId
    time: datetime


def _own_animal_place(session: Session, p: Principal, place_id: int) -> Place:
    place = get_place(session, p, place_id)
    if place.org_id != p.org_id:
        raise Forbidden("animals are placed in your own places")
    if place.kind not in ANIMAL_PLACES:
        raise Invalid(f"place {place_id} is a {place.kind.value}, not a pond, cage, hatchery, barn or flock house")
    return place


def _aware(t: datetime, zone: tzinfo) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=zone)


def animal_uri(animal: Animal) -> str:
    """GS1 Digital Link of its GIAI, else an AgriTrace URN of its chip number."""
    return f"https://id.gs1.org/8004/{animal.giai}" if animal.giai else f"urn:agritrace:animal:chip:{animal.chip}"


def arrival_event(animal: Animal, place: Place, when: datetime, zone: tzinfo) -> dict[str, Any]:
    """The animal's arrival at a place as an EPCIS ``arriving`` ObjectEvent naming the animal, so its
    place history is hashed and anchored like every record."""
    return object_event("arriving", zone, when=when.isoformat(), epcs=[animal_uri(animal)],
                        bizLocation={"id": place_uri(place)}, readPoint={"id": place_uri(place)})  # fmt: skip


def register(session: Session, p: Principal, data: AnimalCreate, zone: tzinfo) -> Animal:
    p.require_write()
    _own_animal_place(session, p, data.place_id)
    clash = session.exec(select(Animal).where(or_(
        Animal.giai == data.giai if data.giai else False, Animal.chip == data.chip if data.chip else False)  # type: ignore[arg-type]
    )).first()  # fmt: skip
    if clash is not None:
        raise Conflict("an animal with this GIAI or chip number is already registered")
    animal = Animal(org_id=p.org_id, species=data.species, giai=data.giai, chip=data.chip, sex=data.sex,
                    note=data.note)  # fmt: skip
    session.add(animal)
    session.flush()
    row = AnimalPlacement(animal_id=animal.id or 0, place_id=data.place_id, moved_in_at=_aware(data.time, zone))
    session.add(row)
    session.flush()
    return animal


def get_animal(session: Session, p: Principal, animal_id: int) -> Animal:
    return readable(p, session.get(Animal, animal_id), f"animal {animal_id} not found")


def find_by_tag(session: Session, p: Principal, tag: str) -> Animal:
    a = session.exec(select(Animal).where(or_(Animal.giai == tag, Animal.chip == tag))).first()  # type: ignore[arg-type]
    return readable(p, a, f"no animal tagged {tag[:40]!r}")


def move(session: Session, p: Principal, animal_id: int, data: Move, zone: tzinfo) -> AnimalPlacement:
    p.require_write()
    animal = get_animal(session, p, animal_id)
    if animal.org_id != p.org_id:
        raise Forbidden("only the animal's organisation moves it")
    _own_animal_place(session, p, data.place_id)
    when = _aware(data.time, zone)
    current = session.exec(select(AnimalPlacement).where(
        AnimalPlacement.animal_id == animal_id, AnimalPlacement.moved_out_at == None)).first()  # noqa: E711  # fmt: skip
    if current is not None:
        if when <= current.moved_in_at:
            raise Invalid("a move must be later than the animal's last move")
        if current.place_id == data.place_id:
            raise Conflict(f"the animal is already in place {data.place_id}")
        current.moved_out_at = when
        session.add(current)
    row = AnimalPlacement(animal_id=animal_id, place_id=data.place_id, moved_in_at=when)
    session.add(row)
    session.flush()
    return row


def anchor_placement(
    session: Session, p: Principal, animal: Animal, settings: Settings, checks: Sequence[EventCheck]
) -> None:
    """Capture the arrival event of the animal's open placement and link it."""
    row = session.exec(select(AnimalPlacement).where(
        AnimalPlacement.animal_id == animal.id, AnimalPlacement.moved_out_at == None)).one()  # noqa: E711  # fmt: skip
    place = session.get(Place, row.place_id)
    assert place is not None
    event = arrival_event(animal, place, row.moved_in_at.astimezone(settings.zone), settings.zone)
    (c,) = capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks)
    row.event_id = c.id
    session.add(row)


def history(session: Session, animal: Animal) -> dict[str, Any]:
    rows = session.exec(select(AnimalPlacement, Place).join(Place, Place.id == AnimalPlacement.place_id)  # type: ignore[arg-type]
                        .where(AnimalPlacement.animal_id == animal.id)
                        .order_by(AnimalPlacement.moved_in_at)).all()  # type: ignore[arg-type]  # fmt: skip
    return {
        "id": animal.id, "species": animal.species, "giai": animal.giai, "chip": animal.chip, "sex": animal.sex,
        "uri": animal_uri(animal),
        "places": [{"placeId": pl.id, "name": pl.name, "kind": pl.kind.value, "sectorCode": pl.sector_code,
                    "uri": place_uri(pl), "from": r.moved_in_at.isoformat(), "eventId": r.event_id,
                    "to": r.moved_out_at.isoformat() if r.moved_out_at else None} for r, pl in rows],
    }  # fmt: skip
