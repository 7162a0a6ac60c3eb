"""Places: plots with planting-area code (mã số vùng trồng), area and a point taken from the
form or the phone's location button; stored by ``create_place`` like the API's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError
from traceability_api.limits import parse_json_bounded
from traceability_api.places.models import PlaceCreate, PlaceKind
from traceability_api.places.service import create_place
from traceability_api.registries.router import today
from traceability_api.registries.views import place_codes
from traceability_api.workspace import views
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.numbers import plain
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=5000)]  # beyond the place's own limits: those are said next to the field
KINDS = (PlaceKind.plot, PlaceKind.farm, PlaceKind.packhouse, PlaceKind.mill, PlaceKind.warehouse, PlaceKind.store,
         PlaceKind.barn, PlaceKind.flock_house, PlaceKind.pond, PlaceKind.cage, PlaceKind.hatchery)  # fmt: skip
KIND_VI = {"plot": "Thửa / vùng trồng", "farm": "Trang trại", "packhouse": "Nhà sơ chế", "mill": "Nhà máy xay",
           "warehouse": "Kho", "store": "Cửa hàng", "barn": "Chuồng trại", "flock_house": "Trại gia cầm",
           "pond": "Ao nuôi", "cage": "Lồng bè", "hatchery": "Trại giống"}  # fmt: skip


def _page(request: Request, page: Page, session: Session, v: dict[str, Any], errors: Errors,
          status: int = 200) -> Response:  # fmt: skip
    names = KIND_VI if page.lang == "vi" else {k.value: k.value for k in KINDS}
    places = views.places(session, page.user.principal)
    shapes = [{"type": "Feature", "geometry": pl.geo, "properties": {"name": pl.name}} for pl in places if pl.geo]
    st = page.settings
    codes = place_codes(session, places, today(st))  # each code's status in the registry, today
    return render(request, "places.html", status, page=page, v=v, errors=errors, kinds=names, places=places,
                  codes=codes, shapes=shapes, tiles=st.workspace_map_tiles,
                  tiles_attribution=st.workspace_map_attribution)  # fmt: skip


@router.get("/places")
def places(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _page(request, page, session, {"kind": "plot"}, {})


def _geo(lat: str, lon: str, drawn: str, page: Page) -> tuple[dict[str, Any] | None, Errors]:
    """A drawn outline (GeoJSON, checked by the places domain's own geometry rules), else a point."""
    if drawn:
        try:
            shape = parse_json_bounded(drawn)  # depth checked first: json.loads recurses per bracket
        except ValueError:
            return None, {"geo": page.t["bad_format"]}
        return (shape, {}) if isinstance(shape, dict) else (None, {"geo": page.t["bad_format"]})
    if not lat and not lon:
        return None, {}
    try:
        y, x = float(lat.replace(",", ".")), float(lon.replace(",", "."))
    except ValueError:
        return None, {"lat": page.t["not_number"]}
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        return None, {"lat": page.t["bad_format"]}
    return {"type": "Point", "coordinates": [x, y]}, {}


@router.post("/places")
def add_place(
    request: Request, page: PostDep, session: SessionDep, kind: Opt = "plot", name: Opt = "",
    planting_area_code: Opt = "", sector_code: Opt = "", area_ha: Opt = "", lat: Opt = "", lon: Opt = "",
    address: Opt = "", packhouse_code: Opt = "", commune: Opt = "", district: Opt = "", province: Opt = "",
    geo: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:  # fmt: skip
    v = {"kind": kind, "name": name, "planting_area_code": planting_area_code, "sector_code": sector_code,
         "packhouse_code": packhouse_code, "area_ha": area_ha, "lat": lat,
         "lon": lon, "address": address, "commune": commune, "district": district, "province": province,
         "geo": geo}  # fmt: skip
    shape, errors = _geo(lat.strip(), lon.strip(), geo.strip(), page)
    if errors:
        return _page(request, page, session, v, errors, 422)
    raw = {k: plain(x, page.lang) if k == "area_ha" else x.strip() for k, x in v.items()
           if x.strip() and k not in ("lat", "lon", "geo")}  # fmt: skip
    try:
        data = PlaceCreate.model_validate(raw | ({"geo": shape} if shape else {}))
    except ValidationError as exc:
        return _page(request, page, session, v, from_validation(exc, page.lang), 422)
    try:
        create_place(session, page.user.principal, data)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _page(request, page, session, v, from_domain(exc, page.lang), exc.status_code)
    return see_other("/app/places")
