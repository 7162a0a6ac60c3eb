"""Location trace codes (mã truy vết địa điểm, TCVN 12850:2019 / GS1 GTS2: "where"): the place's GLN
when it has one, else a documented fallback, most specific first:

1. ``GLN``: the place's Global Location Number (with its extension, GS1 AI 254), as ``gln`` and the
   GS1 Digital Link ``https://id.gs1.org/414/<gln>[/254/<ext>]``;
2. ``PAC``: the planting-area code (mã số vùng trồng) a plot was granted;
3. ``FAC``: the sector's facility code (mã cơ sở nuôi / vùng nuôi) of a barn, pond or cage;
4. ``URN``: the service's own place identifier ``urn:agritrace:place:<id>``, unique and stable;
5. ``URI``: a readPoint/bizLocation an event named that is not one of our places, as written."""

from __future__ import annotations

from typing import Any

from traceability_api.places.models import Place
from traceability_api.places.service import place_uri


def place_code(place: Place) -> dict[str, Any]:
    base = {"placeName": place.name, "uri": place_uri(place)}
    if place.gln:
        code = place.gln + (f"/254/{place.gln_extension}" if place.gln_extension else "")
        return {"scheme": "GLN", "code": code, **base}
    if place.planting_area_code:
        return {"scheme": "PAC", "code": place.planting_area_code, **base}
    if place.sector_code:
        return {"scheme": "FAC", "code": place.sector_code, **base}
    return {"scheme": "URN", "code": base["uri"], **base}


def named_location(document: dict[str, Any]) -> str | None:
    """The bizLocation (else readPoint) an event names, if any."""
    for key in ("bizLocation", "readPoint"):
        ref = document.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("id"), str) and ref["id"]:
            return str(ref["id"])[:500]
    return None


def stage_location(place: Place | None, document: dict[str, Any]) -> dict[str, Any] | None:
    if place is not None:
        return place_code(place)
    uri = named_location(document)
    return {"scheme": "URI", "code": uri, "placeName": None, "uri": uri} if uri else None
