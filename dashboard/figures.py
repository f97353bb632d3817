"""Plotly figure builders.  Inputs are frames and GeoJSON; no database access here."""

from __future__ import annotations

import pandas as pd

from dashboard import map_style as styles
from dashboard.i18n import category_label, t

BG = "#07111f"
PANEL = "#0d1b2e"
BG_CHART = PANEL
"""Side charts sit on the panels' colour (never transparent over a page that could be drawn light)."""
TEXT = "#d7e3f4"
MUTED = "#7f93ad"
ACCENT = "#28c2ff"
ALERT = "#ff4d5e"
FACILITY_COLOURS = [
    "#ff6b6b",
    "#4dd4ac",
    "#ffd166",
    "#8ecae6",
    "#c77dff",
    "#f4a261",
    "#90be6d",
    "#e9c46a",
]
HEAT_SCALE = [
    [0, "rgba(0,0,0,0)"],
    [0.15, "rgba(40,194,255,0.5)"],
    [0.45, "#ffd166"],
    [0.75, "#ff7b39"],
    [1, "#ff2d2d"],
]
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def as_list(values) -> list:
    return pd.Series(values).tolist()


def command_map(
    *,
    lang: str,
    level: str,
    children: dict,
    indicators: pd.DataFrame | None,
    indicator: str,
    layers: list[str],
    cells: tuple[pd.DataFrame, dict] | None,
    facilities: pd.DataFrame | None,
    recent: pd.DataFrame | None,
    roads: dict | None,
    outline_layers: list[dict],
    tile_url: str | None,
    uirevision: str,
    scene: dict | None = None,
) -> dict:
    """The command-center map as a plain figure dict (Plotly's object validation would triple the cost).

    ``scene`` holds what the MapLibre style draws (see :mod:`dashboard.map_style`): ``labels``,
    ``buildings`` and ``columns`` collections, ``pitch``/``bearing``, ``text_scale`` and ``heat_radius``.
    """
    scene = scene or {}
    traces = []
    if "grids" in layers and indicators is not None and len(indicators):
        traces.append(_unit_trace(children, indicators, indicator, level, lang))
    if cells is not None and "hex" in layers and len(cells[0]):
        frame, geojson = cells
        traces.append(
            {
                "type": "choroplethmap",
                "name": "hex",
                "geojson": geojson,
                "locations": as_list(frame["id"]),
                "z": as_list(frame["n"]),
                "zmin": 0,
                "colorscale": _pairs(styles.COLUMN_SCALE),
                "marker": {"opacity": 0.3, "line": {"width": 0.3, "color": "#0b1220"}},
                "showscale": False,
                "hovertemplate": t("col_incidents", lang) + ": %{z}<extra>H3</extra>",
            }
        )
    if cells is not None and "heat" in layers and len(cells[0]):
        traces.append(_heat_trace(cells[0], scene.get("heat_radius", _heat_radius(level)), name="heat"))
    if facilities is not None and "facilities" in layers and len(facilities):
        for i, (kind, rows) in enumerate(facilities.groupby("type", sort=True)):
            traces.append(
                {
                    "type": "scattermap",
                    "name": str(kind),
                    "lon": as_list(rows["lon"]),
                    "lat": as_list(rows["lat"]),
                    "mode": "markers",
                    "marker": {"size": 8, "color": FACILITY_COLOURS[i % len(FACILITY_COLOURS)]},
                    "text": as_list(rows["name"]),
                    "hovertemplate": "%{text}<extra>" + str(kind) + "</extra>",
                }
            )
    if recent is not None and len(recent):
        traces.append(
            {
                "type": "scattermap",
                "name": "recent",
                "lon": as_list(recent["lon"]),
                "lat": as_list(recent["lat"]),
                "mode": "markers",
                "marker": {"size": 16, "color": ALERT, "opacity": 0.95},
                "text": as_list(recent["category"] + " " + recent["incident_id"]),
                "hovertemplate": "%{text}<extra>" + t("newest", lang) + "</extra>",
                "showlegend": False,
            }
        )
    map_layers = []
    if roads and "roads" in layers:
        map_layers.append(
            {"source": roads, "type": "line", "color": "#3c5a78", "line": {"width": 1.2}, "below": "traces"}
        )
    if "outlines" in layers:
        map_layers.extend(outline_layers)
    legend = "facilities" in layers and facilities is not None and len(facilities) > 0
    return map_figure(traces, children, map_layers, tile_url, uirevision, legend, scene=scene)


def _unit_trace(children: dict, indicators: pd.DataFrame, indicator: str, level: str, lang: str) -> dict:
    """The children of the unit, coloured by the indicator (buildings by residents); clicks drill into them."""
    column = indicator_column(indicator) if level != "grid" else "population"
    values = pd.to_numeric(indicators[column], errors="coerce").fillna(0)
    label = t(f"ind_{indicator}", lang) if level != "grid" else t("population", lang)
    colorbar = {"title": {"text": label}, "thickness": 12, "x": 0.99, "len": 0.5, "y": 0.72}
    if column != "per_1000":  # counts: whole-number ticks (a range of 0–4 was ticked 0.5, 1.5 …)
        colorbar["tickformat"] = ",d"
        if values.max() <= 5:
            colorbar.update(tickmode="linear", tick0=0, dtick=1)
    return {
        "type": "choroplethmap",
        "name": "units",
        "geojson": children["geojson"],
        "locations": as_list(indicators["code"]),
        "z": as_list(values),
        "customdata": indicators[["code", "name", "kind"]].to_numpy().tolist(),
        "colorscale": _pairs(styles.UNIT_SCALE),
        # from zero: two communities with 21 and 22 reports were drawn as the scale's two ends (and its ticks
        # read 21 21 21); counts and rates are never negative
        "zmin": 0,
        "zmax": max(float(values.max()), 1.0),
        "marker": {"opacity": 0.62, "line": {"width": 1, "color": "#6fb7ff"}},
        "colorbar": colorbar,
        "hovertemplate": "<b>%{customdata[1]}</b><br>" + label + ": %{z}<extra></extra>",
    }


def _pairs(stops: list) -> list[list]:
    """MapLibre interpolate stops [v0, c0, v1, c1, …] as a plotly colour scale [[v0, c0], …]."""
    return [[stops[i], stops[i + 1]] for i in range(0, len(stops), 2)]


def map_figure(
    traces: list[dict],
    children: dict,
    map_layers: list[dict],
    tile_url: str | None,
    uirevision: str,
    legend: bool,
    scene: dict | None = None,
) -> dict:
    """A dark, self-drawn map of a unit (the layout every page's map shares).

    With a ``scene`` (the command map) the style carries names, 3D buildings and H3 columns and the
    camera has the scene's pitch and bearing; area traces are drawn below them.
    """
    scene = scene or {}
    style = styles.style(
        BG,
        tile_url,
        labels=scene.get("labels"),
        buildings=scene.get("buildings"),
        columns=scene.get("columns"),
        text_scale=scene.get("text_scale", 1.0),
    )
    below = styles.below_for(style)
    if below:
        for trace in traces:
            if trace["type"] in ("choroplethmap", "densitymap"):
                trace["below"] = below
    return {
        "data": traces,
        "layout": {
            "map": {
                "style": style,
                "center": children["centre"],
                "zoom": children["zoom"],
                "pitch": scene.get("pitch", 0),
                "bearing": scene.get("bearing", 0),
                "layers": map_layers,
            },
            "uirevision": uirevision,
            "dragmode": "pan",
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": BG,
            "plot_bgcolor": BG,
            "font": {"color": TEXT, "family": FONT},
            "showlegend": legend,
            "legend": {"bgcolor": "rgba(7,17,31,0.7)", "x": 0.01, "y": 0.01, "font": {"size": 11}},
        },
    }


def _heat_trace(frame: pd.DataFrame, radius: int, name: str) -> dict:
    return {
        "type": "densitymap",
        "name": name,
        "lon": as_list(frame["lon"]),
        "lat": as_list(frame["lat"]),
        "z": as_list(frame["n"]),
        "radius": radius,
        "zmin": 0,
        "zmax": max(1.0, float(frame["n"].quantile(0.98)) if len(frame) > 50 else float(frame["n"].max())),
        "colorscale": HEAT_SCALE,
        "opacity": 0.75,
        "showscale": False,
        "hoverinfo": "skip",
    }


def outline_layer(geojson: dict | None, colour: str, width: float) -> list[dict]:
    if not geojson or not geojson["features"]:
        return []
    return [{"source": geojson, "type": "line", "color": colour, "line": {"width": width}}]


def child_outlines(children: dict) -> dict:
    """The children's polygons as one outline source (no ids, no properties)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": f["geometry"]} for f in children["geojson"]["features"]
        ],
    }


def indicator_column(indicator: str) -> str:
    return {"window": "window_count", "open": "open_count", "overdue": "overdue_count", "per_1000": "per_1000"}[
        indicator
    ]


def _heat_radius(level: str) -> int:
    return {"city": 18, "district": 24, "street": 28, "community": 32, "grid": 36}[level]


def _chart_layout(font_px: int = 12, **extra) -> dict:
    """The dark layout of the side charts: text at ``font_px`` (the wall passes larger sizes), margins that
    grow with the labels (automargin) so no tick label is cut off, transparent and dark backgrounds."""
    axis = {
        "gridcolor": "#1c2f48",
        "zerolinecolor": "#1c2f48",
        "automargin": True,
        "tickfont": {"size": font_px},
        "title": {"font": {"size": font_px}},
    }
    pad = max(4, font_px // 3)
    return {
        "margin": {"l": pad, "r": pad, "t": pad, "b": pad, "pad": 2},
        "paper_bgcolor": BG_CHART,
        "plot_bgcolor": BG_CHART,
        "font": {"color": TEXT, "family": FONT, "size": font_px},
        "hoverlabel": {"font": {"size": font_px}},
        "legend": {"font": {"size": font_px}},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        **extra,
    }


def count_axis(axis: dict, values, nticks: int) -> None:
    """Make ``axis`` an axis of counts: whole-number ticks only (a range of 0–1 would otherwise get a tick at
    0.5 printed as "1" beside the real 1)."""
    top = pd.Series(values, dtype="float64").max()
    axis.update(tickformat=",d", nticks=nticks, rangemode="tozero")
    if not top > nticks:  # also when there are no values (NaN): one tick per count
        axis.update(tickmode="linear", tick0=0, dtick=1)


def category_bars(frame: pd.DataFrame, lang: str, font_px: int = 12, most: int | None = None) -> dict:
    """Reports per category, largest at the top; with more than ``most`` categories the smallest are one bar
    (其他 N类 / N others) so that every bar keeps its label; equal counts by name (a refresh keeps their order)."""
    counts, names = frame["n"].tolist(), [str(c) for c in frame["category"].tolist()]
    frame = frame.iloc[sorted(range(len(frame)), key=lambda i: (-counts[i], names[i]))]  # a few rows: no frame sort
    if most is not None and len(frame) > most:
        rest = frame.iloc[most - 1 :]
        other = t("other_categories", lang).format(n=len(rest))
        frame = pd.concat([frame.iloc[: most - 1], pd.DataFrame({"category": [other], "n": [int(rest["n"].sum())]})])
    frame = frame.iloc[::-1]
    trace = {
        "type": "bar",
        "x": as_list(frame["n"]),
        "y": [category_label(c, lang) for c in frame["category"]],
        "orientation": "h",
        "marker": {"color": ACCENT},
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
    }
    layout = _chart_layout(font_px)
    count_axis(layout["xaxis"], frame["n"], nticks=4)
    layout["yaxis"].update(tickmode="linear", dtick=1)  # every bar named, also on a low screen (plotly skips some)
    return {"data": [trace], "layout": layout}


def trend_lines(frame: pd.DataFrame, lang: str, font_px: int = 12) -> dict:
    hours = [h.isoformat() for h in pd.to_datetime(frame["hour"])]
    traces = [
        {"type": "scatter", "x": hours, "y": as_list(frame[column]), "name": t(column, lang), "line": {"color": colour}}
        for column, colour in (("reported", ACCENT), ("resolved", "#4dd4ac"))
    ]
    layout = _chart_layout(font_px)
    # the legend sits above the plot inside the top margin, which is made tall enough for it
    layout["legend"].update(orientation="h", y=1.0, x=0, yanchor="bottom")
    layout["margin"]["t"] = round(font_px * 2.2)
    layout["xaxis"].update(tickformat="%H:%M", nticks=6)
    count_axis(layout["yaxis"], frame[["reported", "resolved"]].to_numpy().ravel(), nticks=5)
    return {"data": traces, "layout": layout}


def playback_map(
    *,
    lang: str,
    frame: pd.DataFrame,
    children: dict,
    outline_layers: list[dict],
    tile_url: str | None,
    level: str,
    uirevision: str,
) -> dict:
    return {
        "data": [_heat_trace(frame, _heat_radius(level), name="playback")] if len(frame) else [],
        "layout": {
            "map": {
                "style": styles.style(BG, tile_url),
                "center": children["centre"],
                "zoom": children["zoom"],
                "layers": outline_layers,
            },
            "uirevision": uirevision,
            "dragmode": "pan",
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "paper_bgcolor": BG,
            "font": {"color": TEXT, "family": FONT},
        },
    }
