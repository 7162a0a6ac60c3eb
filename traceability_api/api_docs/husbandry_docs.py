"""Summaries, descriptions and examples of the husbandry operations (livestock, poultry, aquaculture,
flowers), merged into the catalogue by ``catalogue.py``."""

from __future__ import annotations

from typing import Any

_AUTH = " Needs an API key (Authorization: Bearer <key>)."
_PUBLIC = " Public: no API key."


def _ex(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


BODY_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/places/{place_id}/activities"): {
        "drug": _ex("A veterinary drug with its withdrawal period (pond)",
                    {"activity": "veterinary_drug", "time": "2025-06-01T07:00:00+07:00", "product": "Oxytetracyclin 50%",
                     "active_ingredient": "oxytetracycline", "dose": 3, "dose_unit": "g/kg thức ăn", "withdrawal_days": 28}),
        "stocking": _ex("Stocking fingerlings: a lot of animals counted in con (NAR)",
                        {"activity": "stocking", "time": "2025-03-01T07:00", "gtin": "08930000033013", "lot_code": "GT-2503",
                         "quantity": 180000, "source": "Trại cá giống Tân Thạnh"}),
        "eggs": _ex("Egg collection in a flock house (quả, H87)",
                    {"activity": "egg_collection", "time": "2025-10-02T06:30:00+07:00", "gtin": "08930000032023",
                     "lot_code": "TV-251002", "quantity": 1320, "grade": "A"}),
        "harvest": _ex("Fish harvest, an admin overriding a withdrawal period",
                       {"activity": "fish_harvest", "time": "2025-06-20T05:30:00+07:00", "gtin": "08930000033020",
                        "lot_code": "CT-TB-2506", "quantity": 96, "uom": "TNE",
                        "withdrawal_override_reason": "Residue test negative, report KN-0512"}),
    },
    ("POST", "/api/v1/banned-substances"): {
        "ban": _ex("Ban an antibiotic in aquaculture", {"name": "enrofloxacin", "sector": "aquaculture",
                                                        "legal_basis": "Thông tư 06/2016/TT-BNNPTNT"}),
    },
    ("POST", "/api/v1/animals"): {
        "broodstock": _ex("Pangasius broodstock with a chip, in a hatchery",
                          {"species": "Cá tra bố mẹ", "chip": "704000012345601", "sex": "female", "place_id": 3,
                           "time": "2024-11-01T08:00:00+07:00"}),
    },
    ("POST", "/api/v1/animals/{animal_id}/moves"): {
        "pond": _ex("Move to a pond", {"place_id": 4, "time": "2025-03-01T08:00:00+07:00"}),
    },
    ("PUT", "/api/v1/places/{place_id}/thresholds"): {
        "oxygen": _ex("Dissolved oxygen of a pond: alert below 3 mg/L, evidence after an hour",
                      {"kind": "dissolved_oxygen", "low": 3.0, "sustain_minutes": 60}),
        "salinity": _ex("Salinity intrusion on a rice field: above 2 ‰", {"kind": "salinity", "high": 2.0}),
    },
    ("POST", "/api/v1/alert-channels"): {
        "webhook": _ex("A webhook (public https URL)", {"kind": "webhook", "target": "https://hooks.example.vn/agritrace"}),
        "email": _ex("An e-mail address", {"kind": "email", "target": "ho.nuoi@example.vn"}),
    },
}  # fmt: skip

PARAM_EXAMPLES: dict[str, Any] = {"row_id": 1, "animal_id": 1, "tag": "704000012345601", "channel_id": 1}

DOCS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("GET", "/api/v1/activities"): (None, "Every diary activity (crops, livestock, poultry, aquaculture, flowers) with its Vietnamese and English label, its extension bizStep URI, the places it applies to, the fields it needs and the unit of its quantity in words." + _PUBLIC),
    ("POST", "/api/v1/places/{place_id}/activities"): (None, "One activity at one of your places, recorded as an EPCIS event (hashed and anchored): stocking, egg collection and fish harvest create lots; egg processing is a transformation; sale of pots is retail_selling. Refused (409) inside a withdrawal period unless an admin gives withdrawal_override_reason; 422 with a banned substance." + _AUTH),
    ("GET", "/api/v1/banned-substances"): (None, "The banned pesticides and veterinary drugs every diary entry is checked against (include_removed=true adds the removed ones)." + _AUTH),
    ("POST", "/api/v1/banned-substances"): (None, "Authority admins and recorders add an active ingredient to the banned list; 409 if already listed." + _AUTH),
    ("DELETE", "/api/v1/banned-substances/{row_id}"): (None, "Authority: takes a substance off the list (kept, marked removed)." + _AUTH),
    ("POST", "/api/v1/animals"): (None, "An animal with its own identity (GS1 GIAI or 15-digit ISO 11784 chip) placed in one of your ponds, cages, hatcheries, barns or flock houses." + _AUTH),
    ("GET", "/api/v1/animals"): (None, "Your tagged animals with their place histories (every organisation's for an authority)." + _AUTH),
    ("GET", "/api/v1/animals/by-tag/{tag}"): (None, "Find an animal by its GIAI or chip number." + _AUTH),
    ("GET", "/api/v1/animals/{animal_id}"): (None, "One animal and every place it has been, with dates." + _AUTH),
    ("POST", "/api/v1/animals/{animal_id}/moves"): (None, "Move an animal to another of your places; the current stay ends at the move's time." + _AUTH),
    ("PUT", "/api/v1/places/{place_id}/thresholds"): (None, "Set the low and/or high threshold of a sensor kind at your place, and after how many minutes a breach is recorded as anchored evidence." + _AUTH),
    ("GET", "/api/v1/places/{place_id}/thresholds"): (None, "The thresholds of a place." + _AUTH),
    ("POST", "/api/v1/alert-channels"): (None, "Admin: where sensor alerts go: a webhook (public http(s) URL, SSRF-guarded) or an e-mail address (sent through the configured SMTP server)." + _AUTH),
    ("GET", "/api/v1/alert-channels"): ("Alert channels", "Your organisation's active alert channels." + _AUTH),
    ("DELETE", "/api/v1/alert-channels/{channel_id}"): ("Remove an alert channel", "Admin: stop sending alerts to this channel (204)." + _AUTH),
    ("GET", "/api/v1/alerts"): (None, "Sensor alerts (runs of readings outside thresholds), newest first: your organisation's, or every one for an authority; open_only=true for current ones." + _AUTH),
    ("GET", "/api/v1/overrides"): (None, "Harvests and sales recorded inside a withdrawal period or pre-harvest interval, with the admin's reason: your own, or every organisation's for an authority." + _AUTH),
    ("GET", "/api/v1/trays/{gtin}/{serial}"): (None, "A serialised egg tray (its QR label): the lot, the flock house and flock the eggs came from, the collection day and the processing (salting, packing)." + _AUTH),
}  # fmt: skip
