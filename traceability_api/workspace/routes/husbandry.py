"""Sector activities (chăn nuôi, thủy sản, hoa kiểng): pick a place and an activity of the
husbandry catalogue, then fill the fields that activity needs.  Stored by ``record_activity``, the
API's own path, so the place-kind rule, the withdrawal period (thời gian ngưng thuốc) and the
banned-substance list are checked once, in the husbandry domain; refusals are worded next to their
field by ``messages``.  Two plain forms (choose, then record): no JavaScript needed."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.errors import DomainError
from traceability_api.husbandry.activities import SPEC, UOMS, Activity, ActivityEntry, catalogue
from traceability_api.husbandry.record import record_activity
from traceability_api.parties.models import Role
from traceability_api.places.models import Place
from traceability_api.validation import db_id_of
from traceability_api.workspace import views
from traceability_api.workspace.i18n import unit
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.numbers import plain
from traceability_api.workspace.web import Page, PageDep, PostDep, form_idempotency_key, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=1000)]
# what the form offers besides the fields an activity needs (SPEC): optional details people give
EXTRAS: dict[Activity, tuple[str, ...]] = {
    Activity.stocking: (),
    Activity.feeding: ("supplier_lot",),
    Activity.vaccination: ("quantity", "supplier_lot"),
    Activity.veterinary_drug: ("disease", "supplier_lot"),
    Activity.water_treatment: ("active_ingredient", "dose", "dose_unit", "supplier_lot"),
    Activity.mortality: ("disease",),
    Activity.egg_collection: ("flock_gtin", "flock_lot_code"),
    Activity.egg_processing: (),
    Activity.fish_harvest: (),
    Activity.flower_planting: (),
    Activity.pot_sale: (),
}
OVERRIDABLE = {Activity.fish_harvest, Activity.pot_sale}  # harvest or sale: an admin may override a withdrawal
FIELDS = ("product", "active_ingredient", "dose", "dose_unit", "withdrawal_days", "supplier_lot", "disease", "source",
          "grade", "method", "quantity", "uom", "gtin", "lot_code", "input_gtin", "input_lot_code", "input_quantity",
          "flock_gtin", "flock_lot_code", "withdrawal_override_reason", "note")  # fmt: skip
NUMBERS = {"dose", "quantity", "input_quantity"}
GTINS = {"gtin", "input_gtin", "flock_gtin"}


def activities(lang: str) -> dict[str, str]:
    """The sector activities with their label in ``lang`` (from the husbandry catalogue)."""
    out = {}
    for a in catalogue():
        if a["endpoint"].endswith("/activities"):
            label = a["label"][lang]
            out[a["activity"]] = label[:1].upper() + label[1:]
    return out


def _fields(act: Activity, admin: bool) -> list[str]:
    needs = SPEC[act][1]
    wanted = set(needs) | set(EXTRAS[act]) | ({"withdrawal_override_reason"} if admin and act in OVERRIDABLE else set())
    return [f for f in FIELDS if f in wanted]


def _places_for(session: Session, page: Page, act: Activity | None) -> list[Place]:
    kinds = SPEC[act][0] if act else None
    return [pl for pl in views.places(session, page.user.principal) if kinds is None or pl.kind in kinds]


def _form(request: Request, page: Page, session: Session, v: dict[str, Any], errors: Errors,
          status: int = 200) -> Response:  # fmt: skip
    act = Activity(v["activity"]) if v.get("activity") in Activity.__members__ else None
    p = page.user.principal
    units = {code: unit(code, page.lang) for code in UOMS}
    return render(request, "husbandry.html", status, page=page, v=v, errors=errors, acts=activities(page.lang),
                  act=act.value if act else None, places=_places_for(session, page, act),
                  all_places=views.places(session, p), fields=_fields(act, p.role == Role.admin) if act else [],
                  needs=SPEC[act][1] if act else (), unit_words=units, default_uom=SPEC[act][2] if act else None,
                  products=views.products(session, p))  # fmt: skip


@router.get("/activities")
def activity_form(request: Request, page: PageDep, session: SessionDep, place_id: str = "",
                  activity: str = "") -> Response:  # fmt: skip
    now = datetime.now(page.settings.zone).strftime("%Y-%m-%dT%H:%M")
    v = {"place_id": place_id[:11], "activity": activity[:40], "time": now, "idem": secrets.token_urlsafe(16)}
    return _form(request, page, session, v, {})


@router.post("/activities")
async def activity_save(
    request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep, place_id: Opt = "",
    activity: Opt = "", time: Opt = "", idem: Opt = "",
) -> Response:  # fmt: skip
    form = await request.form()
    v = {f: str(form.get(f) or "").strip()[:1000] for f in FIELDS}
    v |= {"place_id": place_id, "activity": activity, "time": time, "idem": idem}
    if activity not in Activity.__members__:
        return _form(request, page, session, v, {"activity": page.t["required"]}, 422)
    if (place := db_id_of(place_id)) is None:
        return _form(request, page, session, v, {"place_id": page.t["required"]}, 422)
    allowed = set(_fields(Activity(activity), page.user.principal.role == Role.admin)) | {"note"}
    raw: dict[str, Any] = {"activity": activity, "time": time}
    for f in allowed:
        x = v[f]
        if not x:
            continue
        if f in NUMBERS:
            x = plain(x, page.lang)
        if f in GTINS and x.isdigit() and len(x) < 14:
            x = x.zfill(14)
        raw[f] = x
    if "quantity" in raw and v["uom"] in UOMS:
        raw["uom"] = v["uom"]
    try:
        entry = ActivityEntry.model_validate(raw)
    except ValidationError as exc:
        return _form(request, page, session, v, from_validation(exc, page.lang), 422)
    key = form_idempotency_key("activity", idem, v)
    try:
        record_activity(session, page.user.principal, place, entry, runtime.settings, runtime.capture_checks,
                        idempotency_key=key)  # fmt: skip
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _form(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app?done=saved")
