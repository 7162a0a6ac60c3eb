"""HTTP routes of the husbandry domain (thin: parse, call the service, commit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from sqlalchemy import Text, cast, or_
from sqlmodel import select

from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.events.models import Event
from traceability_api.evidence import banned
from traceability_api.evidence.models import BannedSubstanceCreate
from traceability_api.husbandry import animals, thresholds
from traceability_api.husbandry.activities import ActivityEntry, catalogue
from traceability_api.husbandry.models import AlertChannel, AlertChannelCreate, Animal, SensorAlert, ThresholdSet
from traceability_api.husbandry.record import record_activity
from traceability_api.husbandry.trays import resolve_tray
from traceability_api.parties.deps import PrincipalDep
from traceability_api.places.service import get_place
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["husbandry"])
Gtin = Annotated[str, Path(pattern=r"^\d{14}$")]
Tag = Annotated[str, Path(min_length=6, max_length=30)]


@router.get("/activities", summary="Catalogue of diary activities with Vietnamese and English labels")
def list_activities() -> list[dict[str, Any]]:
    return catalogue()


@router.post("/places/{place_id}/activities", status_code=status.HTTP_201_CREATED,
             summary="Record a livestock, poultry, aquaculture or flower activity")  # fmt: skip
def add_activity(
    place_id: DbId, entry: ActivityEntry, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Recorded as one EPCIS event (hashed and anchored); see ``GET /api/v1/activities`` for what each
    activity needs.  Refused inside a withdrawal period (harvest, sale) unless an admin gives
    ``withdrawal_override_reason``; refused with a banned substance."""
    event_id, hash_id = record_activity(session, p, place_id, entry, runtime.settings, runtime.capture_checks)
    session.commit()
    return {"eventId": event_id, "hashId": hash_id}


@router.get("/banned-substances", summary="The banned-substance list (pesticides and veterinary drugs)")
def list_banned(p: PrincipalDep, session: SessionDep, include_removed: bool = False) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in banned.list_banned(session, include_removed=include_removed)]


@router.post("/banned-substances", status_code=status.HTTP_201_CREATED, summary="Authority: ban a substance")
def add_banned(data: BannedSubstanceCreate, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    row = banned.add_banned(session, p, data)
    session.commit()
    return row.model_dump(mode="json")


@router.delete("/banned-substances/{row_id}", summary="Authority: take a substance off the list")
def remove_banned(row_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    row = banned.remove_banned(session, p, row_id)
    session.commit()
    return row.model_dump(mode="json")


@router.post("/animals", status_code=status.HTTP_201_CREATED, summary="Register a tagged animal (GIAI or chip)")
def add_animal(data: animals.AnimalCreate, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> dict[str, Any]:
    a = animals.register(session, p, data, runtime.settings.zone)
    animals.anchor_placement(session, p, a, runtime.settings, runtime.capture_checks)
    session.commit()
    return animals.history(session, a)


@router.get("/animals", summary="Your tagged animals")
def list_animals(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    q = select(Animal).order_by(Animal.id)  # type: ignore[arg-type]
    if not p.reads_everything:
        q = q.where(Animal.org_id == p.org_id)
    return [animals.history(session, a) for a in session.exec(q.limit(1000)).all()]


@router.get("/animals/by-tag/{tag}", summary="An animal by its GIAI or chip number, with its place history")
def animal_by_tag(tag: Tag, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    return animals.history(session, animals.find_by_tag(session, p, tag))


@router.get("/animals/{animal_id}", summary="An animal with its place history (ponds, cages, hatcheries)")
def read_animal(animal_id: DbId, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    return animals.history(session, animals.get_animal(session, p, animal_id))


@router.post("/animals/{animal_id}/moves", status_code=status.HTTP_201_CREATED, summary="Move an animal")
def move_animal(
    animal_id: DbId, data: animals.Move, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    animals.move(session, p, animal_id, data, runtime.settings.zone)
    animals.anchor_placement(session, p, animals.get_animal(session, p, animal_id), runtime.settings,
                             runtime.capture_checks)  # fmt: skip
    session.commit()
    return animals.history(session, animals.get_animal(session, p, animal_id))


@router.put("/places/{place_id}/thresholds", summary="Set a sensor threshold of a place (pond, field)")
def put_threshold(place_id: DbId, data: ThresholdSet, p: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    row = thresholds.set_threshold(session, p, place_id, data)
    session.commit()
    return row.model_dump(mode="json")


@router.get("/places/{place_id}/thresholds", summary="The sensor thresholds of a place")
def get_thresholds(place_id: DbId, p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    get_place(session, p, place_id)
    return [r.model_dump(mode="json") for r in thresholds.thresholds_of(session, place_id)]


@router.post("/alert-channels", status_code=status.HTTP_201_CREATED, summary="Admin: alerts to a webhook or e-mail")
def add_channel(
    data: AlertChannelCreate, p: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    row = thresholds.add_channel(session, p, data, settings.webhook_allow_private)
    session.commit()
    return row.model_dump(mode="json")


@router.get("/alert-channels", summary="Where your organisation's alerts go")
def list_channels(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    rows = session.exec(select(AlertChannel).where(AlertChannel.org_id == p.org_id, AlertChannel.active == True))  # noqa: E712
    return [r.model_dump(mode="json") for r in rows.all()]


@router.delete("/alert-channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_channel(channel_id: DbId, p: PrincipalDep, session: SessionDep) -> None:
    thresholds.remove_channel(session, p, channel_id)
    session.commit()


@router.get("/alerts", summary="Sensor alerts: your organisation's, or every one for an authority")
def list_alerts(p: PrincipalDep, session: SessionDep, open_only: bool = False) -> list[dict[str, Any]]:
    q = select(SensorAlert).order_by(SensorAlert.id.desc())  # type: ignore[union-attr]
    if not p.reads_everything:
        q = q.where(SensorAlert.org_id == p.org_id)
    if open_only:
        q = q.where(SensorAlert.open == True)  # noqa: E712
    return [a.model_dump(mode="json") for a in session.exec(q.limit(500)).all()]


@router.get("/overrides", summary="Harvests and sales recorded inside a withdrawal or pre-harvest interval")
def list_overrides(p: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    """Every override with its reason: an authority sees all organisations', others their own."""
    text = cast(Event.document, Text)
    q = select(Event).where(or_(text.contains("withdrawalOverride"), text.contains("phiOverride")))
    if not p.reads_everything:
        q = q.where(Event.org_id == p.org_id)
    out = []
    for ev in session.exec(q.order_by(Event.event_time.desc()).limit(500)).all():  # type: ignore[attr-defined]
        doc = ev.document
        ilmd = doc.get("ilmd") or {}
        for key in ("agri:withdrawalOverride", "agri:phiOverride"):
            found = ilmd.get(key) or doc.get(key)
            if isinstance(found, dict):
                out.append({"eventId": ev.id, "hashId": ev.hash_id, "orgId": ev.org_id, "rule": key.split(":")[1],
                            "reason": found.get("reason"), "eventTime": ev.event_time.isoformat(),
                            "bizStep": ev.biz_step})  # fmt: skip
    return out


@router.get("/trays/{gtin}/{serial}", summary="A serialised egg tray: flock, collection day, processing")
def tray(gtin: Gtin, serial: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,20}$")], p: PrincipalDep,
         session: SessionDep, settings: SettingsDep) -> dict[str, Any]:  # fmt: skip
    return resolve_tray(session, p, gtin, serial, settings.public_base_url)
