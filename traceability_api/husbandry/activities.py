"""The sector activities (livestock, poultry, aquaculture, ornamentals) as EPCIS events in
AgriTrace's extension vocabulary (``agri:BizStep-<activity>``, details in ``agri:diary``), and the
catalogue of every activity with its Vietnamese and English label, the places it applies to and the
fields it needs.  Activities that create lots are CBV ``commissioning`` (stocking, egg collection,
fish harvest) with ``ilmd.agri:activity`` naming them; egg processing is a TransformationEvent;
sale of pots is ``retail_selling``."""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator

from consumer_site import formatting as fmt
from traceability_api.epcis import vocabulary as voc
from traceability_api.epcis.builder import object_event, zone_offset
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import Invalid
from traceability_api.evidence.diary import DIARY_KEY
from traceability_api.evidence.diary import Activity as CropActivity
from traceability_api.lots.models import LOT_CODE_RE
from traceability_api.places.models import Place, PlaceKind
from traceability_api.places.service import place_uri

ACTIVITY_KEY = "agri:activity"
ANIMAL_PLACES = frozenset({PlaceKind.barn, PlaceKind.flock_house, PlaceKind.pond, PlaceKind.cage, PlaceKind.hatchery})
CROP_PLACES = frozenset({PlaceKind.plot, PlaceKind.farm})


class Activity(StrEnum):
    stocking = "stocking"
    feeding = "feeding"
    vaccination = "vaccination"
    veterinary_drug = "veterinary_drug"
    water_treatment = "water_treatment"
    mortality = "mortality"
    egg_collection = "egg_collection"
    egg_processing = "egg_processing"
    fish_harvest = "fish_harvest"
    flower_planting = "flower_planting"
    pot_sale = "pot_sale"


# activity -> (places it is recorded at, required fields, default unit of its quantity)
SPEC: dict[Activity, tuple[frozenset[PlaceKind] | None, tuple[str, ...], str | None]] = {
    Activity.stocking: (ANIMAL_PLACES, ("gtin", "lot_code", "quantity", "source"), "NAR"),
    Activity.feeding: (ANIMAL_PLACES, ("product", "quantity"), "KGM"),
    Activity.vaccination: (ANIMAL_PLACES, ("product", "disease"), "NAR"),
    Activity.veterinary_drug: (
        ANIMAL_PLACES, ("product", "active_ingredient", "dose", "dose_unit", "withdrawal_days"), None),
    Activity.water_treatment: (frozenset({PlaceKind.pond, PlaceKind.cage, PlaceKind.hatchery}), ("product",), None),
    Activity.mortality: (ANIMAL_PLACES, ("quantity",), "NAR"),
    Activity.egg_collection: (frozenset({PlaceKind.flock_house, PlaceKind.barn}),
                              ("gtin", "lot_code", "quantity", "grade"), "H87"),
    Activity.egg_processing: (None, ("input_gtin", "input_lot_code", "input_quantity", "gtin", "lot_code",
                                     "quantity", "method"), "H87"),
    Activity.fish_harvest: (frozenset({PlaceKind.pond, PlaceKind.cage}), ("gtin", "lot_code", "quantity"), "KGM"),
    Activity.flower_planting: (CROP_PLACES, ("product", "quantity"), "XPT"),
    Activity.pot_sale: (None, ("gtin", "lot_code", "quantity"), "XPT"),
}  # fmt: skip
LOT_ACTIVITIES = {Activity.stocking, Activity.egg_collection, Activity.fish_harvest}
# the units an activity's quantity may be in; people read them in the one unit table's words
# (consumer_site.formatting.UNITS: con, quả, kg, tấn, chậu), as on the consumer page of the lot
UOMS = ("NAR", "H87", "KGM", "TNE", "XPT")


class ActivityEntry(BaseModel):
    activity: Activity
    time: datetime = Field(description="ISO 8601; without a zone it is read in the service's zone")
    product: str | None = Field(default=None, max_length=200, description="feed, vaccine, drug, treatment, variety")
    active_ingredient: str | None = Field(default=None, max_length=200)
    dose: float | None = Field(default=None, gt=0, le=100_000)
    dose_unit: str | None = Field(default=None, max_length=20, description="e.g. g/kg thức ăn, ml/con, kg/1000 m³")
    withdrawal_days: int | None = Field(default=None, ge=0, le=365, description="thời gian ngưng thuốc")
    supplier_lot: str | None = Field(default=None, max_length=60, description="lot of the feed or drug bought")
    disease: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=200, description="hatchery or seller of fry/ducklings")
    grade: str | None = Field(default=None, max_length=20, description="egg grade, e.g. A, B, loại 1")
    method: Literal["salting", "packing"] | None = None
    quantity: float | None = Field(default=None, gt=0, le=1e9)
    uom: str | None = Field(default=None, pattern=rf"^({'|'.join(UOMS)})$")
    gtin: str | None = Field(default=None, pattern=r"^\d{14}$")
    lot_code: str | None = Field(default=None, pattern=LOT_CODE_RE)
    input_gtin: str | None = Field(default=None, pattern=r"^\d{14}$")
    input_lot_code: str | None = Field(default=None, pattern=LOT_CODE_RE)
    input_quantity: float | None = Field(default=None, gt=0, le=1e9)
    flock_lot_code: str | None = Field(default=None, pattern=LOT_CODE_RE, description="egg collection: the flock")
    flock_gtin: str | None = Field(default=None, pattern=r"^\d{14}$")
    withdrawal_override_reason: str | None = Field(
        default=None, max_length=300, description="admin only: harvest or sale inside a withdrawal period, flagged"
    )
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _complete(self) -> ActivityEntry:
        missing = [f for f in SPEC[self.activity][1] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.activity.value} needs {', '.join(missing)}")
        return self


def catalogue() -> list[dict[str, Any]]:
    """Every activity a diary may hold (crops and the sectors), with its labels and needs."""
    out: list[dict[str, Any]] = []
    for a in CropActivity:
        en, _, vi = voc.FARM_STEPS[a.value].partition(" / ")
        out.append(
            {
                "activity": a.value,
                "bizStep": voc.AGRI_NS + "BizStep-" + a.value,
                "label": {"vi": vi, "en": en},
                "sector": "crop",
                "places": sorted(CROP_PLACES),
                "endpoint": "/api/v1/places/{id}/diary",
            }
        )
    for act, (places, needs, unit) in SPEC.items():
        en, _, vi = voc.FARM_STEPS[act.value].partition(" / ")
        out.append({
            "activity": act.value, "bizStep": voc.AGRI_NS + "BizStep-" + act.value, "label": {"vi": vi, "en": en},
            "sector": "crop" if places == CROP_PLACES else "husbandry",
            "places": sorted(places) if places else "any", "needs": list(needs),
            "unit": unit, "unitWords": {lang: fmt.unit(unit, lang) for lang in ("vi", "en")} if unit else None,
            "creates": "lot" if act in LOT_ACTIVITIES else ("lot (transformation)" if act == Activity.egg_processing
                                                            else None),
            "endpoint": "/api/v1/places/{id}/activities",
        })  # fmt: skip
    return out


def _details(e: ActivityEntry) -> dict[str, Any]:
    keep = ("product", "active_ingredient", "dose", "dose_unit", "withdrawal_days", "supplier_lot", "disease",
            "source", "grade", "method", "quantity", "note")  # fmt: skip
    d = {k: getattr(e, k) for k in keep if getattr(e, k) is not None}
    if e.quantity is not None:
        d["uom"] = e.uom or SPEC[e.activity][2]
    return d


def activity_event(place: Place, e: ActivityEntry, zone: tzinfo) -> dict[str, Any]:
    """The entry as one EPCIS event at ``place`` (checked by the caller to be the recorder's)."""
    places = SPEC[e.activity][0]
    if places is not None and place.kind not in places:
        allowed = ", ".join(sorted(k.value for k in places))
        raise Invalid(f"{e.activity.value} is recorded at a {allowed}; place {place.id} is a {place.kind.value}")
    when = e.time if e.time.tzinfo is not None else e.time.replace(tzinfo=zone)
    loc = {"id": place_uri(place)}
    uom = e.uom or SPEC[e.activity][2]
    step = voc.AGRI_NS + "BizStep-" + e.activity.value
    if e.activity in LOT_ACTIVITIES:
        assert e.gtin and e.lot_code
        ilmd: dict[str, Any] = {
            "agri:plot": place_uri(place),
            ACTIVITY_KEY: e.activity.value,
            "agri:harvestDate": when.astimezone(_zone(when, zone)).date().isoformat(),
        }
        for key, value in (("agri:stockingSource", e.source), ("agri:grade", e.grade), ("agri:feedNote", e.note)):
            if value:
                ilmd[key] = value
        if e.flock_gtin and e.flock_lot_code:
            ilmd["agri:flock"] = lot_uri(e.flock_gtin, e.flock_lot_code)
        if e.withdrawal_override_reason:
            ilmd["agri:withdrawalOverride"] = {"reason": e.withdrawal_override_reason}
        return object_event("commissioning", zone, when=when.isoformat(), action="ADD", disposition="active",
                            lot=lot_uri(e.gtin, e.lot_code), quantity=e.quantity, uom=uom, bizLocation=loc,
                            ilmd=ilmd)  # fmt: skip
    if e.activity == Activity.egg_processing:
        assert e.input_gtin and e.input_lot_code and e.gtin and e.lot_code
        t = when.isoformat()
        return {
            "type": "TransformationEvent", "eventTime": t, "eventTimeZoneOffset": zone_offset(t, zone),
            "bizStep": "commissioning", "readPoint": loc, "bizLocation": loc,
            "inputQuantityList": [{"epcClass": lot_uri(e.input_gtin, e.input_lot_code),
                                   "quantity": e.input_quantity, "uom": "H87"}],
            "outputQuantityList": [{"epcClass": lot_uri(e.gtin, e.lot_code), "quantity": e.quantity, "uom": uom}],
            "ilmd": {ACTIVITY_KEY: e.activity.value, "agri:processing": e.method},
            DIARY_KEY: _details(e),
        }  # fmt: skip
    if e.activity == Activity.pot_sale:
        assert e.gtin and e.lot_code
        event = object_event("retail_selling", zone, when=when.isoformat(), lot=lot_uri(e.gtin, e.lot_code),
                             quantity=e.quantity, uom=uom, bizLocation=loc)  # fmt: skip
        event[DIARY_KEY] = _details(e)
        return event
    event = object_event(step, zone, when=when.isoformat(), epcs=[], bizLocation=loc)
    event[DIARY_KEY] = _details(e)
    return event


def _zone(when: datetime, fallback: tzinfo) -> tzinfo:
    return when.tzinfo or fallback or ZoneInfo("Asia/Ho_Chi_Minh")
