"""The MapLibre style every map is drawn on: dark ground, place names, 3D buildings and H3 columns, all offline.

Why a style object (and not plotly's ``layout.map.layers`` or another map component):

- plotly's layout layers know only circle/line/fill/symbol/raster, so extruded buildings and H3 columns
  (``fill-extrusion``) go into the MapLibre style that plotly passes through unchanged (``layout.map.style``
  may be a whole style-spec object); plotly keeps drawing its traces (choropleth, heat, points) on top of
  it and keeps the click and hover events the pages drill down with.
- Place names are ``symbol`` layers of that style.  The style has **no** ``glyphs`` URL on purpose: the
  MapLibre bundled in plotly.js (v5) then draws every glyph in the browser with the page's own fonts
  (TinySDF on a canvas), so Chinese names need no glyph server and nothing is fetched from the internet.
- A Dash map component that bundles its own renderer (dash-deck, dash-leaflet) would be a new dependency,
  a second map library beside plotly, and would lose the plotly figure the other pages share.

Everything here is a pure function of frames and GeoJSON (no database, no Dash).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

LABEL_FONT = ["Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC"]
"""CSS font families MapLibre draws names with (locally, see the module note); 'sans-serif' is appended."""
UNIT_SCALE = [0, "#0f2f4f", 0.35, "#1f6f8b", 0.7, "#f4a261", 1, "#ff4d5e"]
"""The indicator's colours (stops of a 0..1 value), shared by the choropleth and the extruded buildings."""
COLUMN_SCALE = [0, "#2c7bb6", 0.25, "#00a6ca", 0.5, "#f9d057", 0.75, "#f29e2e", 1, "#d7191c"]
"""H3 columns: cool to hot by incident count (as Kepler.gl's hexagon layer)."""
BELOW_ORDER = ("gt-buildings", "gt-columns", "gt-labels")
"""Style layers drawn above plotly's area traces; an area trace goes below the first of these present."""
M_PER_DEG = 111_320.0
UNIT_SUFFIXES = ("社区", "街道", "村", "镇", "区")


def style(
    background: str,
    tile_url: str | None = None,
    *,
    labels: dict | None = None,
    buildings: dict | None = None,
    columns: dict | None = None,
    text_scale: float = 1.0,
    text_colour: str = "#e6f0ff",
) -> dict:
    """A MapLibre style: background, optional raster tiles, then buildings, H3 columns and names (bottom up).

    ``labels``, ``buildings`` and ``columns`` are GeoJSON FeatureCollections from the functions below.
    The same inputs give the same style, so a live refresh that changed nothing does not re-load it.
    """
    # never an empty ``sources``: plotly prunes empty objects from a re-drawn layout and MapLibre then
    # rejects the style ("missing required property sources"); an empty names source is always valid
    sources: dict = {"labels": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}}
    layers: list[dict] = [{"id": "gt-ground", "type": "background", "paint": {"background-color": background}}]
    if tile_url:
        sources["tiles"] = {"type": "raster", "tiles": [tile_url], "tileSize": 256}
        layers.append({"id": "gt-tiles", "type": "raster", "source": "tiles", "paint": {"raster-opacity": 0.55}})
    if buildings and buildings["features"]:
        sources["buildings"] = {"type": "geojson", "data": buildings}
        layers.append(_extrusion("gt-buildings", "buildings", UNIT_SCALE, 0.88))
    if columns and columns["features"]:
        sources["columns"] = {"type": "geojson", "data": columns}
        layers.append(_extrusion("gt-columns", "columns", COLUMN_SCALE, 0.8))
    if labels and labels["features"]:
        sources["labels"] = {"type": "geojson", "data": labels}
        layers.extend(_label_layers(text_scale, text_colour, background))
    # no paint transitions: each transition step is one more whole frame (software WebGL) after a redraw
    return {"version": 8, "sources": sources, "layers": layers, "transition": {"duration": 0, "delay": 0}}


def below_for(map_style: dict | str) -> str | None:
    """The style layer plotly's area traces must be inserted below (None: on top of everything)."""
    if not isinstance(map_style, dict):
        return None
    ids = {layer["id"] for layer in map_style["layers"]}
    return next((i for i in BELOW_ORDER if i in ids), None)


def _extrusion(layer_id: str, source: str, stops: list, opacity: float) -> dict:
    return {
        "id": layer_id,
        "type": "fill-extrusion",
        "source": source,
        "paint": {
            "fill-extrusion-color": ["interpolate", ["linear"], ["get", "v"], *stops],
            "fill-extrusion-height": ["get", "h"],
            "fill-extrusion-base": 0,
            "fill-extrusion-opacity": opacity,
        },
    }


def _label_layers(scale: float, colour: str, halo: str) -> list[dict]:
    """Unit names always; facility and building names only once zoomed in (rank 2 from zoom 15, 3 from 16.5)."""
    common = {"text-field": ["get", "name"], "text-font": LABEL_FONT, "text-max-width": 8, "text-padding": 3}
    paint = {"text-color": colour, "text-halo-color": halo, "text-halo-width": 1.6 * scale, "text-halo-blur": 0.4}
    return [
        {
            "id": "gt-labels",
            "type": "symbol",
            "source": "labels",
            "filter": ["==", ["get", "rank"], 1],
            "layout": {**common, "text-size": round(15 * scale, 1), "symbol-sort-key": ["get", "order"]},
            "paint": paint,
        },
        {
            "id": "gt-labels-minor",
            "type": "symbol",
            "source": "labels",
            "filter": ["==", ["get", "rank"], 2],
            "minzoom": 15,
            "layout": {**common, "text-size": round(11 * scale, 1), "text-offset": [0, 1.1], "text-anchor": "top"},
            "paint": {**paint, "text-color": "#b9c9dd"},
        },
        {
            "id": "gt-labels-fine",
            "type": "symbol",
            "source": "labels",
            "filter": ["==", ["get", "rank"], 3],
            "minzoom": 16.5,
            "layout": {**common, "text-size": round(10 * scale, 1)},
            "paint": {**paint, "text-color": "#9fb3cc"},
        },
    ]


def label_points(names, lons, lats, rank: int, order=None) -> list[dict]:
    """Point features carrying a name, its rank (1 units, 2 facilities, 3 buildings) and a draw order."""
    names, lons, lats = list(names), np.asarray(lons, float), np.asarray(lats, float)
    order = np.arange(len(names)) if order is None else np.asarray(order)
    return [
        {
            "type": "Feature",
            "properties": {"name": str(n), "rank": rank, "order": int(o)},
            "geometry": {"type": "Point", "coordinates": [round(float(x), 6), round(float(y), 6)]},
        }
        for n, x, y, o in zip(names, lons, lats, order, strict=True)
        if isinstance(n, str) and n and np.isfinite(x) and np.isfinite(y)
    ]


def short_names(names: pd.Series) -> pd.Series:
    """Names without the parent's name they all repeat (菊香社区第6网格 → 第6网格 inside 菊香社区)."""
    values = names.astype(str)
    if len(values) < 2:
        return values
    prefix = os.path.commonprefix(values.tolist())  # noqa: RUF071 - a character prefix is meant
    cut = max((prefix.rfind(s) + len(s) for s in UNIT_SUFFIXES if s in prefix), default=0)
    return values.str[cut:].where(values.str.len() > cut, values) if cut else values


def collection(*feature_lists: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": [f for features in feature_lists for f in features]}


def buildings_3d(geojson: dict, heights_m: pd.Series, values: pd.Series) -> dict:
    """Building footprints with ``h`` (metres) and ``v`` (0..1 of the active indicator), keyed by feature id."""
    height = heights_m.to_dict()
    value = _unit_interval(values).to_dict()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"h": round(float(height.get(f["id"], 9.0)), 1), "v": round(value.get(f["id"], 0.0), 3)},
                "geometry": f["geometry"],
            }
            for f in geojson["features"]
        ],
    }


def h3_columns(geojson: dict, counts: pd.Series, bounds: tuple[float, float, float, float]) -> dict:
    """Hexagons raised by their incident count: the busiest reaches a sixth of the view's diagonal."""
    west, south, east, north = bounds
    mid = np.radians((south + north) / 2)
    diagonal_m = float(np.hypot((east - west) * np.cos(mid), north - south)) * M_PER_DEG
    top_m = max(diagonal_m / 6, 150.0)
    most = max(float(counts.max()), 1.0) if len(counts) else 1.0
    count = counts.to_dict()
    features = []
    for f in geojson["features"]:
        n = float(count.get(f["id"], 0))
        features.append(
            {
                "type": "Feature",
                "properties": {"h": round(top_m * n / most, 1), "v": round(n / most, 3), "n": int(n)},
                "geometry": f["geometry"],
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _unit_interval(values: pd.Series) -> pd.Series:
    values = pd.to_numeric(values, errors="coerce").fillna(0.0)
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values * 0.0


def heat_radius_px(res: int, zoom: float, lat: float) -> int:
    """Heat kernel radius that blends neighbouring H3 centres into a surface (never a grid of dots).

    Centres of resolution-``res`` cells are about √3 edge lengths apart; the radius is two and a half times that spacing
    in screen pixels at ``zoom``, kept between 14 and 60 pixels.
    """
    edge_m = 1107.71 / (2.6457 ** (res - 7))  # average H3 edge: 1,107.7 m at res 7, ÷√7 per resolution
    spacing_m = np.sqrt(3) * edge_m
    m_per_px = 40_075_016.7 * np.cos(np.radians(lat)) / (512 * 2**zoom)
    return int(np.clip(2.5 * spacing_m / m_per_px, 14, 60))
