"""GeoJSON Point / Polygon validation (WGS84 longitude, latitude)."""

from __future__ import annotations

from typing import Any


def _position(p: Any, where: str) -> list[float]:
    if not isinstance(p, list | tuple) or len(p) not in (2, 3) or not all(isinstance(x, int | float) for x in p):
        raise ValueError(f"{where}: a position is [longitude, latitude]")
    lon, lat = float(p[0]), float(p[1])
    if not -180 <= lon <= 180:
        raise ValueError(f"{where}: longitude {lon} outside -180..180")
    if not -90 <= lat <= 90:
        raise ValueError(f"{where}: latitude {lat} outside -90..90")
    return [lon, lat]


def validate_geometry(geo: dict[str, Any]) -> dict[str, Any]:
    kind = geo.get("type")
    coords = geo.get("coordinates")
    if kind == "Point":
        return {"type": "Point", "coordinates": _position(coords, "Point")}
    if kind == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise ValueError("Polygon: coordinates must be a list of linear rings")
        rings = []
        for i, ring in enumerate(coords):
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValueError(f"Polygon ring {i}: needs at least 4 positions")
            pts = [_position(p, f"Polygon ring {i}") for p in ring]
            if pts[0] != pts[-1]:
                raise ValueError(f"Polygon ring {i}: first and last positions must be equal (closed ring)")
            rings.append(pts)
        return {"type": "Polygon", "coordinates": rings}
    raise ValueError("geo must be a GeoJSON Point or Polygon")
