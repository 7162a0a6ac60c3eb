"""Farm diary entries (nhật ký canh tác) as EPCIS ObjectEvents on a plot, with AgriTrace's
farm-step vocabulary and an ``agri:diary`` extension holding the details (product, active
ingredient, dose, pre-harvest interval, supplier lot, attachment hashes) -- so they are hashed
and anchored like every event.  And the food-safety rules checked at capture."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.builder import object_event
from traceability_api.errors import Conflict, Forbidden, Invalid
from traceability_api.events.models import Event
from traceability_api.evidence.attachments import CITE, check_digest, require_own
from traceability_api.evidence.banned import first_banned
from traceability_api.parties.models import Role
from traceability_api.parties.service import Principal
from traceability_api.places.models import PlaceKind
from traceability_api.places.service import find_place_by_uri, get_place, place_uri
from traceability_api.privacy.models import Visibility
from traceability_api.privacy.visibility import VISIBILITY_KEY

DIARY_KEY = "agri:diary"
OVERRIDE_KEY = "agri:phiOverride"
SPRAYING = voc.AGRI_NS + "BizStep-spraying"
MAX_ATTACHMENTS = 20


class Activity(StrEnum):
    land_preparation = "land_preparation"
    sowing = "sowing"
    planting = "planting"
    fertilising = "fertilising"
    spraying = "spraying"
    irrigating = "irrigating"
    pest_observation = "pest_observation"
    pruning = "pruning"
    bagging = "bagging"


class DiaryEntry(BaseModel):
    activity: Activity
    time: datetime = Field(
        description="ISO 8601; without a zone it is read in the place's zone (default AGRITRACE_TIME_ZONE, "
        "Asia/Ho_Chi_Minh)",
        examples=["2025-01-15T16:30:00+07:00", "2025-01-15T16:30"],
    )
    season: str | None = Field(default=None, max_length=60, description="e.g. Đông Xuân 2024-2025")
    product: str | None = Field(default=None, max_length=200, description="fertiliser / pesticide trade name")
    active_ingredient: str | None = Field(default=None, max_length=200)
    dose: float | None = Field(default=None, gt=0, le=100_000)
    dose_unit: str | None = Field(default=None, max_length=20, description="e.g. l/ha, kg/ha, ml/bình")
    area_ha: float | None = Field(default=None, gt=0, le=10_000)
    phi_days: int | None = Field(default=None, ge=0, le=365, description="pre-harvest interval (ngày cách ly)")
    supplier_lot: str | None = Field(default=None, max_length=60, description="lot of the input bought")
    water_mm: float | None = Field(default=None, ge=0, le=1000)
    pest: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    attachments: list[str] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="SHA-256 of files your organisation uploaded"
    )
    visibility: Visibility = Field(
        default=Visibility.public,
        description="public; partners (organisations in the custody chain, authorities); private (yours and "
        "authorities'). Non-public entries show the public only their time (and, for partners, kind and PHI)",
    )

    @model_validator(mode="after")
    def _inputs_complete(self) -> DiaryEntry:
        if self.activity in (Activity.spraying, Activity.fertilising):
            missing = [f for f in ("product", "active_ingredient", "dose", "dose_unit") if getattr(self, f) is None]
            if self.activity == Activity.spraying and self.phi_days is None:
                missing.append("phi_days")
            if missing:
                raise ValueError(f"{self.activity.value} needs {', '.join(missing)}")
        return self


def diary_event(session: Session, p: Principal, plot_id: int, entry: DiaryEntry, zone: tzinfo) -> dict[str, Any]:
    """The entry as an EPCIS event; a time without a zone is read in the place's zone, else ``zone``
    (the service's)."""
    plot = get_place(session, p, plot_id)
    if entry.time.tzinfo is None:
        place_zone = getattr(plot, "timezone", None)
        local: tzinfo = ZoneInfo(place_zone) if place_zone else zone
        entry = entry.model_copy(update={"time": entry.time.replace(tzinfo=local)})
    if plot.kind not in (PlaceKind.plot, PlaceKind.farm):
        raise Invalid(f"place {plot_id} is a {plot.kind.value}, not a plot or farm")
    details = entry.model_dump(
        mode="json", exclude_none=True, exclude={"activity", "time", "attachments", "visibility"}
    )
    if entry.attachments:
        details["attachments"] = [CITE + d.lower() for d in entry.attachments]
    step = voc.AGRI_NS + "BizStep-" + entry.activity.value
    zone = entry.time.tzinfo or zone  # the zone the farmer gave, else the service's
    when = entry.time.isoformat()
    event = object_event(step, zone, when=when, epcs=[], bizLocation={"id": place_uri(plot)})
    event[DIARY_KEY] = details
    if entry.visibility != Visibility.public:
        event[VISIBILITY_KEY] = entry.visibility.value
    return event


def _diary(event: dict[str, Any]) -> dict[str, Any] | None:
    for key in (DIARY_KEY, voc.AGRI_NS + "diary"):
        if isinstance(event.get(key), dict):
            return event[key]  # type: ignore[no-any-return]
    return None


def _check_attachments(session: Session, p: Principal, cited: Any) -> None:
    if cited is None:
        return
    if not isinstance(cited, list) or len(cited) > MAX_ATTACHMENTS or not all(isinstance(c, str) for c in cited):
        raise Invalid(f"diary attachments must be a list of at most {MAX_ATTACHMENTS} '{CITE}<hex>' strings")
    digests = [check_digest(c.removeprefix(CITE)) for c in cited]
    require_own(session, p, digests)


def check(session: Session, p: Principal, event: dict[str, Any], when: datetime, settings: Settings) -> None:
    """Food-safety rules at capture: no banned substance; no harvest inside a pre-harvest interval
    (unless an admin records an explicit, visible override)."""
    diary = _diary(event)
    if diary is not None:
        _check_attachments(session, p, diary.get("attachments"))
        banned = first_banned(session, settings, diary.get("active_ingredient"), diary.get("product"))
        if banned:
            what = diary.get("active_ingredient") or diary.get("product")
            raise Invalid(f"active ingredient {what!r} contains a banned substance ({banned})")
    step = voc.full_uri(event.get("bizStep"), voc.BIZSTEP)
    if not (event.get("type") == "ObjectEvent" and event.get("action") == "ADD" and step == voc.COMMISSIONING):
        return
    ilmd = event.get("ilmd") or {}
    plot = None
    for uri in (ilmd.get("agri:plot"), (event.get("bizLocation") or {}).get("id")):
        place = find_place_by_uri(session, str(uri)) if uri else None
        if place is not None and place.kind == PlaceKind.plot:
            plot = place
            break
    if plot is None:
        return
    sprays = session.exec(
        select(Event).where(Event.place_id == plot.id, Event.biz_step == SPRAYING, Event.event_time <= when)
        .order_by(Event.event_time.desc()).limit(20)  # type: ignore[attr-defined]
    ).all()  # fmt: skip
    for spray in sprays:
        d = _diary(spray.document) or {}
        safe_from = spray.event_time + timedelta(days=int(d.get("phi_days", 0)))
        if when < safe_from:
            override = ilmd.get(OVERRIDE_KEY)
            if override:
                if p.role != Role.admin:
                    raise Forbidden("only an organisation admin may override the pre-harvest interval")
                return
            local = _local_time(event.get("eventTimeZoneOffset"), settings)
            raise Conflict(
                f"harvest at {local(when)} is inside the pre-harvest interval: {d.get('product', 'a pesticide')} "
                f"({d.get('active_ingredient', '?')}) was sprayed at {local(spray.event_time)} with a "
                f"{d.get('phi_days')}-day interval, safe from {local(safe_from)}. An organisation admin may record "
                f"the harvest anyway, visibly flagged, with 'phi_override_reason' (POST /api/v1/lots) or, in an "
                f"EPCIS event, ilmd '{OVERRIDE_KEY}': {{'reason': ...}}"
            )


def _local_time(offset: object, settings: Settings) -> Callable[[datetime], str]:
    """Formats times in the harvest event's zone (its eventTimeZoneOffset), else the default zone."""
    tz: tzinfo = ZoneInfo(settings.time_zone)
    if isinstance(offset, str):
        try:
            tz = datetime.fromisoformat("2000-01-01T00:00:00" + offset).tzinfo or tz
        except ValueError:
            pass
    return lambda t: t.astimezone(tz).isoformat(sep=" ", timespec="minutes")
