"""Geometry to GeoJSON for drawing: simplified polygons, outlines, H3 hexagons."""

from __future__ import annotations

import json

import numpy as np
import shapely
from h3ronpy import vector as _h3v

COORD_DIGITS = 5
"""About 1 m: enough for a city map, and it keeps payloads small."""


def _round(geoms: np.ndarray) -> np.ndarray:
    return shapely.set_precision(geoms, 10.0**-COORD_DIGITS, mode="pointwise")


def simplify(geoms: np.ndarray, tolerance_deg: float) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    if tolerance_deg > 0:
        geoms = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    return _round(geoms)


def feature_collection(ids, geoms: np.ndarray, tolerance_deg: float = 0.0) -> dict:
    """GeoJSON FeatureCollection with ``id`` set to each id (what Plotly's ``locations`` match)."""
    geoms = simplify(geoms, tolerance_deg)
    texts = shapely.to_geojson(geoms)
    features = [
        {"type": "Feature", "id": str(i), "properties": {}, "geometry": json.loads(t)}
        for i, t in zip(ids, texts, strict=True)
        if t is not None and t != "null"
    ]
    return {"type": "FeatureCollection", "features": features}


def lines_collection(geoms: np.ndarray, tolerance_deg: float = 0.0) -> dict:
    """One MultiLineString feature holding every line (a single map layer)."""
    geoms = simplify(geoms, tolerance_deg)
    merged = shapely.multilinestrings(shapely.get_parts(geoms)) if len(geoms) else None
    if merged is None or shapely.is_empty(merged):
        return {"type": "FeatureCollection", "features": []}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(merged))}],
    }


def outlines(geoms: np.ndarray, tolerance_deg: float = 0.0) -> dict:
    """Polygon boundaries as lines."""
    return lines_collection(shapely.boundary(np.asarray(geoms, dtype=object)), tolerance_deg)


def hexagons(cells: np.ndarray) -> np.ndarray:
    """Shapely polygons of H3 cells."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.array([], dtype=object)
    return shapely.from_wkb(np.asarray(_h3v.cells_to_wkb_polygons(cells), dtype=object))


def bounds_view(bounds: tuple[float, float, float, float], width_px: int = 820, height_px: int = 620):
    """Map centre and zoom that fit ``bounds`` into a view of the given size (MapLibre: 512-pixel tiles)."""
    west, south, east, north = bounds
    centre = {"lon": (west + east) / 2, "lat": (south + north) / 2}
    span_lon = max(east - west, 1e-5)
    lat_rad = np.radians([south, north])
    merc = np.log(np.tan(np.pi / 4 + lat_rad / 2))
    span_merc = max(float(merc[1] - merc[0]), 1e-7)
    zoom_x = np.log2(width_px * 360.0 / (512 * span_lon))
    zoom_y = np.log2(height_px * 2 * np.pi / (512 * span_merc))
    return centre, float(min(zoom_x, zoom_y) - 0.2)
