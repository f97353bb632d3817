"""The 红色地图 of the party page: units shaded by an indicator, organisations by type, 党群服务中心, buildings
with and without a 楼栋长.  Inputs are frames prepared (and masked) by :mod:`dashboard.views.party`."""

from __future__ import annotations

import pandas as pd

from dashboard.figures import as_list, map_figure
from dashboard.i18n import org_type_label, t

RED_SCALE = [[0, "#2a0b10"], [0.35, "#7a1a1f"], [0.7, "#c8332b"], [1, "#ff8a65"]]
"""Darker is worse: the scale runs from the worst value to the best (reversed for lower-is-better)."""
ORG_COLOURS = ("#ffd166", "#8ecae6", "#f4a261", "#ffe8a3", "#c77dff", "#90be6d", "#ffb4a2", "#e9c46a")
"""Organisation types in warm and pale colours, apart from the buildings' green / red / grey."""
CENTRE_COLOUR = "#ffdf00"
AREA_COLOUR = "rgba(255, 223, 0, 0.16)"
HEADED, PARTY_HEADED, UNHEADED = "#4dd4ac", "#ff4d5e", "#6c7a89"


def shading_trace(children: dict, units: pd.DataFrame, label: str, higher_is_better: bool) -> list[dict]:
    """The child units coloured by ``value`` (units without a value in grey); customdata drives drill-down."""
    if units is None or not len(units):
        return []
    has = units["value"].notna()
    traces = []
    for present, frame in ((True, units[has]), (False, units[~has])):
        if not len(frame):
            continue
        trace = {
            "type": "choroplethmap",
            "name": "units" if present else "units-empty",
            "geojson": children["geojson"],
            "locations": as_list(frame["code"]),
            "z": as_list(frame["value"].fillna(0)),
            "customdata": [
                [c, n, "unit", s] for c, n, s in zip(frame["code"], frame["name"], frame["shown"], strict=True)
            ],
            "marker": {"opacity": 0.72, "line": {"width": 1, "color": "#ff9e8a"}},
            "hovertemplate": "<b>%{customdata[1]}</b><br>" + label + ": %{customdata[3]}<extra></extra>",
            "showlegend": False,
        }
        if present:
            scale = RED_SCALE if higher_is_better else [[1 - s, c] for s, c in reversed(RED_SCALE)]
            trace.update(
                colorscale=scale,
                colorbar={"title": {"text": label}, "thickness": 12, "x": 0.99, "len": 0.5, "y": 0.72},
            )
        else:
            trace.update(colorscale=[[0, "#34404f"], [1, "#34404f"]], showscale=False)
        traces.append(trace)
    return traces


def _points(name: str, frame: pd.DataFrame, colour: str, size: int, symbol_text: str, legend: str) -> dict:
    return {
        "type": "scattermap",
        "name": legend,
        "lon": as_list(frame["lon"]),
        "lat": as_list(frame["lat"]),
        "mode": "markers",
        "marker": {"size": size, "color": colour, "opacity": 0.95},
        "text": as_list(frame["hover"]),
        "customdata": [[name, i] for i in as_list(frame[symbol_text])],
        "hovertemplate": "%{text}<extra>" + legend + "</extra>",
    }


def area_trace(areas: dict, lang: str) -> dict:
    """The 15分钟党群服务圈: the walking areas (or the covered area) as a translucent layer, on by default."""
    return {
        "type": "choroplethmap",
        "name": t("party_circle", lang),
        "geojson": areas["geojson"],
        "locations": list(areas["ids"]),
        "z": [1] * len(areas["ids"]),
        "text": list(areas["hover"]),
        "customdata": [["area", i] for i in areas["ids"]],
        "colorscale": [[0, AREA_COLOUR], [1, AREA_COLOUR]],
        "showscale": False,
        "marker": {"line": {"width": 1.2, "color": CENTRE_COLOUR}},
        "hovertemplate": "%{text}<extra></extra>",
        "showlegend": True,
        "visible": True,
    }


def party_map(
    *,
    lang: str,
    children: dict,
    units: pd.DataFrame | None,
    label: str,
    higher_is_better: bool,
    orgs: pd.DataFrame | None,
    centres: pd.DataFrame | None,
    buildings: pd.DataFrame | None,
    areas: dict | None = None,
    outline_layers: list[dict],
    roads: dict | None,
    tile_url: str | None,
    uirevision: str,
) -> dict:
    """The 红色地图 as a plain figure dict."""
    traces = shading_trace(children, units, label, higher_is_better)
    shaded = len(traces)
    if areas:
        traces.append(area_trace(areas, lang))
    if buildings is not None and len(buildings):
        groups = (
            (buildings["head_state"] == "none", UNHEADED, "party_unheaded"),
            (buildings["head_state"] == "head", HEADED, "party_headed"),
            (buildings["head_state"] == "party", PARTY_HEADED, "party_party_head"),
        )
        for mask, colour, key in groups:
            if mask.any():
                traces.append(_points("building", buildings[mask], colour, 7, "building_id", t(key, lang)))
    if orgs is not None and len(orgs):
        for i, (kind, rows) in enumerate(orgs.groupby("type", sort=True)):
            name = org_type_label(kind, lang)
            traces.append(_points("org", rows, ORG_COLOURS[i % len(ORG_COLOURS)], 11, "org_id", name))
    if centres is not None and len(centres):
        trace = _points("centre", centres, CENTRE_COLOUR, 15, "facility_id", t("party_centres", lang))
        trace["marker"]["symbol"] = "circle"
        trace["marker"]["size"] = 16
        traces.append(trace)
    layers = []
    if roads:
        layers.append({"source": roads, "type": "line", "color": "#3a2a30", "line": {"width": 1.0}, "below": "traces"})
    layers.extend(outline_layers)
    legend = len(traces) > shaded
    return map_figure(traces, children, layers, tile_url, uirevision, legend)
