"""An event's visibility, read from its ``agri:visibility`` member (hashed like any extension
member, so it cannot be changed after capture; absent = public), and the fields of a non-public
event that the public sees (the rest stay behind the disclosure commitment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traceability_api.epcis import vocabulary as voc
from traceability_api.errors import Invalid
from traceability_api.privacy.models import Visibility

VISIBILITY_KEY = "agri:visibility"
_KEYS = (VISIBILITY_KEY, voc.AGRI_NS + "visibility")

# Always public: when the step happened (and the visibility itself).
_ALWAYS = ("/eventTime", "/eventTimeZoneOffset", "/agri:visibility")
# A partners-only step also shows its kind and, for an input, that a pre-harvest interval applies
# and how long (so "pesticide applied, pre-harvest interval respected" can be checked against the
# harvest) -- not the product, the active ingredient, the dose or the supplier's lot.
_PARTNERS = ("/type", "/action", "/bizStep", "/agri:diary/phi_days", "/agri:diary/season", "/agri:buyer/kind")
PUBLIC_FIELDS: dict[Visibility, tuple[str, ...]] = {
    Visibility.public: (),  # the whole event is public
    Visibility.partners: _ALWAYS + _PARTNERS,
    Visibility.private: _ALWAYS,
}


def visibility_of(event: Mapping[str, Any]) -> Visibility:
    """The event's visibility; Invalid (422) for a value that is not one of the three, or for two
    that disagree (``agri:visibility`` and its full IRI are one member once expanded)."""
    given = [event[key] for key in _KEYS if key in event]
    if len(given) > 1 and any(v != given[0] for v in given):
        raise Invalid(f"{VISIBILITY_KEY} is given twice with different values (as agri:visibility and as its IRI)")
    for key in _KEYS:
        if key in event:
            value = event[key]
            try:
                return Visibility(value)
            except ValueError:
                allowed = ", ".join(v.value for v in Visibility)
                raise Invalid(f"{VISIBILITY_KEY} must be one of {allowed}, not {str(value)[:40]!r}") from None
    return Visibility.public


def public_paths(visibility: str) -> tuple[str, ...]:
    return PUBLIC_FIELDS[Visibility(visibility)]
