"""Plotly figure builders.  Inputs are frames and GeoJSON; no database access here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import t

BG = "#07111f"
PANEL = "#0d1b2e"
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


WORLD = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]],
            },
        }
    ],
}


def map_style(tile_url: str | None) -> str | dict:
    """Drawn without internet: plotly's empty "white-bg" style under a dark fill (see :func:`base_layers`).

    With a tile URL (an intranet server, or 天地图 with a key) the style is a raster source instead.
    A constant style string also keeps live refreshes from re-loading the style.
    """
    if not tile_url:
        return "white-bg"
    return {
        "version": 8,
        "sources": {"tiles": {"type": "raster", "tiles": [tile_url], "tileSize": 256}},
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": BG}},
            {"id": "tiles", "type": "raster", "source": "tiles", "paint": {"raster-opacity": 0.55}},
        ],
    }


def base_layers(tile_url: str | None) -> list[dict]:
    """The dark ground under everything (only without tiles)."""
    if tile_url:
        return []
    return [{"source": WORLD, "type": "fill", "color": BG, "opacity": 1.0, "below": "traces"}]


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
) -> go.Figure:
    fig = go.Figure()
    if "grids" in layers and indicators is not None and len(indicators):
        values = indicators[_indicator_column(indicator)] if level != "grid" else indicators["population"]
        label = t(f"ind_{indicator}", lang) if level != "grid" else t("population", lang)
        fig.add_trace(
            go.Choroplethmap(
                geojson=children["geojson"],
                locations=indicators["code"],
                z=pd.to_numeric(values, errors="coerce").fillna(0),
                customdata=indicators[["code", "name", "kind"]].to_numpy(),
                colorscale=[[0, "#0f2f4f"], [0.35, "#1f6f8b"], [0.7, "#f4a261"], [1, "#ff4d5e"]],
                marker={"opacity": 0.62, "line": {"width": 1, "color": "#6fb7ff"}},
                colorbar={"title": {"text": label}, "thickness": 12, "x": 0.99, "len": 0.5, "y": 0.72},
                hovertemplate="<b>%{customdata[1]}</b><br>" + label + ": %{z}<extra></extra>",
                name="units",
            )
        )
    if cells is not None and "hex" in layers and len(cells[0]):
        frame, geojson = cells
        fig.add_trace(
            go.Choroplethmap(
                geojson=geojson,
                locations=frame["id"],
                z=frame["n"],
                colorscale="Plasma",
                marker={"opacity": 0.55, "line": {"width": 0.3, "color": "#0b1220"}},
                showscale=False,
                hovertemplate=t("col_incidents", lang) + ": %{z}<extra>H3</extra>",
                name="hex",
            )
        )
    if cells is not None and "heat" in layers and len(cells[0]):
        frame = cells[0]
        fig.add_trace(
            go.Densitymap(
                lon=frame["lon"],
                lat=frame["lat"],
                z=frame["n"],
                radius=_heat_radius(level),
                colorscale=HEAT_SCALE,
                opacity=0.85,
                showscale=False,
                hoverinfo="skip",
                name="heat",
            )
        )
    if facilities is not None and "facilities" in layers and len(facilities):
        for i, (kind, rows) in enumerate(facilities.groupby("type", sort=True)):
            fig.add_trace(
                go.Scattermap(
                    lon=rows["lon"],
                    lat=rows["lat"],
                    mode="markers",
                    marker={"size": 8, "color": FACILITY_COLOURS[i % len(FACILITY_COLOURS)]},
                    text=rows["name"],
                    hovertemplate="%{text}<extra>" + str(kind) + "</extra>",
                    name=str(kind),
                )
            )
    if recent is not None and len(recent):
        fig.add_trace(
            go.Scattermap(
                lon=recent["lon"],
                lat=recent["lat"],
                mode="markers",
                marker={"size": 16, "color": ALERT, "opacity": 0.95},
                text=recent["category"] + " " + recent["incident_id"],
                hovertemplate="%{text}<extra>" + t("newest", lang) + "</extra>",
                name="recent",
            )
        )
    map_layers = base_layers(tile_url)
    if roads and "roads" in layers:
        map_layers.append(
            {"source": roads, "type": "line", "color": "#3c5a78", "line": {"width": 1.2}, "below": "traces"}
        )
    if "outlines" in layers:
        map_layers.extend(outline_layers)
    fig.update_layout(
        map={
            "style": map_style(tile_url),
            "center": children["centre"],
            "zoom": children["zoom"],
            "layers": map_layers,
        },
        uirevision=uirevision,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor=BG,
        font={"color": TEXT, "family": FONT},
        showlegend="facilities" in layers and facilities is not None and len(facilities) > 0,
        legend={"bgcolor": "rgba(7,17,31,0.7)", "x": 0.01, "y": 0.01, "font": {"size": 11}},
    )
    return fig


def outline_layer(geojson: dict | None, colour: str, width: float) -> list[dict]:
    if not geojson or not geojson["features"]:
        return []
    return [{"source": geojson, "type": "line", "color": colour, "line": {"width": width}}]


def building_layer(geojson: dict) -> dict:
    return {"source": geojson, "type": "fill", "color": "#5b7fa6", "opacity": 0.45, "below": "traces"}


def _indicator_column(indicator: str) -> str:
    return {"window": "window_count", "open": "open_count", "overdue": "overdue_count", "per_1000": "per_1000"}[
        indicator
    ]


def _heat_radius(level: str) -> int:
    return {"city": 18, "district": 24, "street": 28, "community": 32, "grid": 36}[level]


def _base_layout(fig: go.Figure, height: int | None = None) -> go.Figure:
    fig.update_layout(
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": TEXT, "family": FONT},
        height=height,
    )
    fig.update_xaxes(gridcolor="#1c2f48", zerolinecolor="#1c2f48")
    fig.update_yaxes(gridcolor="#1c2f48", zerolinecolor="#1c2f48")
    return fig


def category_bars(frame: pd.DataFrame, lang: str) -> go.Figure:
    frame = frame.sort_values("n")
    fig = go.Figure(
        go.Bar(
            x=frame["n"],
            y=frame["category"],
            orientation="h",
            marker={"color": ACCENT},
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    return _base_layout(fig).update_layout(yaxis={"automargin": True})


def trend_lines(frame: pd.DataFrame, lang: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["hour"], y=frame["reported"], name=t("reported", lang), line={"color": ACCENT}))
    fig.add_trace(go.Scatter(x=frame["hour"], y=frame["resolved"], name=t("resolved", lang), line={"color": "#4dd4ac"}))
    fig = _base_layout(fig)
    fig.update_layout(legend={"orientation": "h", "y": 1.12, "x": 0}, xaxis={"tickformat": "%H:%M"})
    return fig


def playback_map(
    *,
    lang: str,
    frame: pd.DataFrame,
    children: dict,
    outline_layers: list[dict],
    tile_url: str | None,
    level: str,
    uirevision: str,
) -> go.Figure:
    fig = go.Figure()
    if len(frame):
        fig.add_trace(
            go.Densitymap(
                lon=frame["lon"],
                lat=frame["lat"],
                z=frame["n"],
                radius=_heat_radius(level),
                zmin=0,
                zmax=max(1, float(frame["n"].max())),
                colorscale=HEAT_SCALE,
                showscale=False,
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        map={
            "style": map_style(tile_url),
            "center": children["centre"],
            "zoom": children["zoom"],
            "layers": base_layers(tile_url) + outline_layers,
        },
        uirevision=uirevision,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        paper_bgcolor=BG,
        font={"color": TEXT, "family": FONT},
    )
    return fig
