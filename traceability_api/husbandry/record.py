"""Recording one sector activity at one of the organisation's places: the single path the API
(``POST /api/v1/places/{id}/activities``) and the workspace's form both take, so the place-kind
rule, the withdrawal period and the banned-substance list are checked in one place."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.errors import Forbidden
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.husbandry.activities import ActivityEntry, activity_event
from traceability_api.husbandry.withdrawal import OVERRIDE_KEY
from traceability_api.parties.service import Principal
from traceability_api.places.service import get_place


def record_activity(
    session: Session, p: Principal, place_id: int, entry: ActivityEntry, settings: Settings,
    checks: Sequence[EventCheck], idempotency_key: str | None = None,
) -> tuple[int, str]:  # fmt: skip
    """Capture the entry as one EPCIS event (the caller commits); returns (event id, hash id)."""
    place = get_place(session, p, place_id)
    if place.org_id != p.org_id:
        raise Forbidden("activities are recorded at your own places")
    event = activity_event(place, entry, settings.zone)
    if entry.withdrawal_override_reason and event.get("bizStep") == "retail_selling":
        event[OVERRIDE_KEY] = {"reason": entry.withdrawal_override_reason}
    (c,) = capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks,
                          idempotency_key=idempotency_key)  # fmt: skip
    return c.id, c.hash_id
