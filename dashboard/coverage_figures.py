"""The planner page's map (服务圈分析): walking time per hexagon, facilities, service areas, what-if sites."""

from __future__ import annotations

import pandas as pd

from dashboard.figures import ACCENT, ALERT, as_list, map_figure
from dashboard.i18n import t
from pipelines.coverage_cells import hexagon_minutes

ACCESS_SCALE = [[0, "#1a9850"], [0.5, "#fee08b"], [0.75, "#f46d43"], [1, "#a50026"]]
"""Walking time: green well inside the life circle, yellow at its edge, red at twice it and beyond."""


FACILITY_DOTS = 800
"""More facilities than this in view are drawn as a density layer (dots would bury the map); drill in for dots."""

NO_RESIDENTS_COLOUR = "rgba(150,160,175,0.45)"
"""Hexagons where no one lives: grey, outside the walking-time scale (0 minutes would read as well served)."""


def access_traces(
    frame: pd.DataFrame, geojson: dict, *, speed_m_per_min: float, tier_minutes: float, lang: str
) -> list[dict]:
    """Walking time per hexagon with residents, and the hexagons without residents as one grey legend entry."""
    if "minutes" not in frame.columns:
        frame = hexagon_minutes(frame, speed_m_per_min)
    empty = frame["no_residents"].to_numpy(bool)
    lived, vacant = frame[~empty], frame[empty]
    traces = []
    if len(lived):
        share = (lived["share"].fillna(0) * 100).round(0)
        traces.append(
            {
                "type": "choroplethmap",
                "name": "access",
                "geojson": geojson,
                "locations": as_list(lived["id"]),
                "z": as_list(lived["minutes"].round(1)),
                "zmin": 0,
                "zmax": 2 * tier_minutes,
                "customdata": [
                    ["hex", c, s, r] for c, s, r in zip(lived["id"], share, lived["residents"], strict=True)
                ],
                "colorscale": ACCESS_SCALE,
                "showlegend": False,
                "marker": {"opacity": 0.6, "line": {"width": 0.3, "color": "#0b1220"}},
                "colorbar": {"title": {"text": t("walk_minutes", lang)}, "thickness": 12, "x": 0.99, "len": 0.5},
                "hovertemplate": t("walk_minutes", lang)
                + ": %{z}<br>"
                + t("covered_share", lang)
                + ": %{customdata[2]}%<br>"
                + t("residents", lang)
                + ": %{customdata[3]}<extra>"
                + t("click_to_place", lang)
                + "</extra>",
            }
        )
    if len(vacant):
        traces.append(
            {
                "type": "choroplethmap",
                "name": t("no_residents", lang),
                "geojson": geojson,
                "locations": as_list(vacant["id"]),
                "z": [0] * len(vacant),
                "customdata": [["hex", c, None, 0] for c in vacant["id"]],
                "colorscale": [[0, NO_RESIDENTS_COLOUR], [1, NO_RESIDENTS_COLOUR]],
                "showscale": False,
                "showlegend": True,
                "marker": {"line": {"width": 0.3, "color": "#0b1220"}},
                "hovertemplate": t("no_residents", lang) + "<extra>" + t("click_to_place", lang) + "</extra>",
            }
        )
    return traces


def coverage_map(
    *,
    lang: str,
    children: dict,
    cells: tuple[pd.DataFrame, dict] | None,
    speed_m_per_min: float,
    tier_minutes: float,
    facilities: pd.DataFrame | None,
    uncovered: pd.DataFrame | None,
    area: dict | None,
    what_if: dict | None,
    sites: pd.DataFrame | None,
    outline_layers: list[dict],
    roads: dict | None,
    tile_url: str | None,
    uirevision: str,
) -> dict:
    """The planner's map: H3 walking time, facilities, uncovered buildings, service area, what-if, sites."""
    traces = []
    if cells is not None and len(cells[0]):
        traces += access_traces(*cells, speed_m_per_min=speed_m_per_min, tier_minutes=tier_minutes, lang=lang)
    if area is not None:
        traces.append(
            {
                "type": "choroplethmap",
                "name": "service_area",
                "geojson": area,
                "locations": ["area"],
                "z": [1],
                "colorscale": [[0, "rgba(40,194,255,0.35)"], [1, "rgba(40,194,255,0.35)"]],
                "showscale": False,
                "marker": {"line": {"width": 2, "color": ACCENT}},
                "hoverinfo": "skip",
            }
        )
    if uncovered is not None and len(uncovered):
        traces.append(
            {
                "type": "scattermap",
                "name": t("uncovered", lang),
                "lon": as_list(uncovered["lon"]),
                "lat": as_list(uncovered["lat"]),
                "mode": "markers",
                "marker": {"size": 5, "color": ALERT, "opacity": 0.8},
                "customdata": [["building"] for _ in range(len(uncovered))],
                "text": as_list(uncovered["name"] + " · " + uncovered["residents"].astype(str) + t("people", lang)),
                "hovertemplate": "%{text}<extra>" + t("uncovered", lang) + "</extra>",
            }
        )
    if what_if is not None and len(what_if["newly_covered"]):
        gained = what_if["newly_covered"]
        traces.append(
            {
                "type": "scattermap",
                "name": t("newly_covered", lang),
                "lon": as_list(gained["lon"]),
                "lat": as_list(gained["lat"]),
                "mode": "markers",
                "marker": {"size": 6, "color": "#4dd4ac"},
                "hoverinfo": "skip",
            }
        )
    if facilities is not None and len(facilities) > FACILITY_DOTS:
        traces.append(
            {
                "type": "densitymap",
                "name": t("facilities_of_type", lang),
                "lon": as_list(facilities["lon"]),
                "lat": as_list(facilities["lat"]),
                "radius": 12,
                "colorscale": [[0, "rgba(255,209,102,0)"], [0.3, "rgba(255,209,102,0.45)"], [1, "#ffd166"]],
                "showscale": False,
                "showlegend": True,
                "hoverinfo": "skip",
            }
        )
    elif facilities is not None and len(facilities):
        traces.append(
            {
                "type": "scattermap",
                "name": t("facilities_of_type", lang),
                "lon": as_list(facilities["lon"]),
                "lat": as_list(facilities["lat"]),
                "mode": "markers",
                "marker": {"size": 11, "color": "#ffd166"},
                "customdata": [["facility", f] for f in facilities["facility_id"]],
                "text": as_list(facilities["name"]),
                "hovertemplate": "%{text}<extra>" + t("click_for_area", lang) + "</extra>",
            }
        )
    if what_if is not None:
        traces.append(
            {
                "type": "scattermap",
                "name": t("hypothetical", lang),
                "lon": [what_if["lon"]],
                "lat": [what_if["lat"]],
                "mode": "markers",
                "marker": {"size": 18, "color": "#4dd4ac", "symbol": "circle"},
                "hovertemplate": t("hypothetical", lang) + "<extra></extra>",
            }
        )
    if sites is not None and len(sites):
        traces.append(
            {
                "type": "scattermap",
                "name": t("suggested_sites", lang),
                "lon": as_list(sites["lon"]),
                "lat": as_list(sites["lat"]),
                # the rank as text: the map style has no glyph URL, MapLibre draws the digits with local fonts
                "mode": "markers+text",
                "marker": {"size": 20, "color": "#c77dff"},
                "textfont": {"color": "#ffffff", "size": 12},
                "textposition": "middle center",
                "text": as_list(sites["rank"].astype(str)),
                "customdata": [["site", lo, la] for lo, la in zip(sites["lon"], sites["lat"], strict=True)],
                "hovertemplate": t("suggested_sites", lang) + " %{text}<extra></extra>",
            }
        )
    map_layers = []
    if roads:
        map_layers.append(
            {"source": roads, "type": "line", "color": "#3c5a78", "line": {"width": 1.0}, "below": "traces"}
        )
    map_layers.extend(outline_layers)
    return map_figure(traces, children, map_layers, tile_url, uirevision, legend=True)
