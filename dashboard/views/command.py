"""The command center's view model: the map, the side panels, the wall tour, the remembered view."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard import duty_queries, figures, map_style
from dashboard.components.panels import duty_block, grid_panel, kpi_tiles, ticker_lists
from dashboard.components.whistle_ticker import overdue_for, whistle_list
from dashboard.models import hex_resolution
from dashboard.models.live import RECENT_MINUTES, SMALL_LEVELS
from dashboard.models.shapes import ROAD_LEVELS
from dashboard.queries import CHILD
from dashboard.views import party
from dashboard.views.fit import fitted
from pipelines.incidents.repository import incident_record
from pipelines.masking import mask_name, mask_phone

CATEGORY_BARS = 10
"""At most this many category bars: the nine largest categories and the rest as one bar (a 12345 feed brings
dozens; every bar keeps a readable label)."""
LOW_WALL_PX = 900
LOW_WALL_BARS = 7
"""A wall screen lower than this shows the six largest and the rest (ten bars in the ~120 px left there would
overlap)."""

VIEW_KEYS = ("map.center", "map.zoom", "map.bearing", "map.pitch")


WALL_CAMERA = {"pitch": 50, "bearing": -17, "text_scale": 1.5}
DESK_CAMERA = {"pitch": 0, "bearing": 0, "text_scale": 1.0}
DEPTH_PITCH = 40
"""Desk screens tilt the map only where there are buildings to stand up (community and grid)."""
BUILDING_LEVELS = ("community", "grid")
BUILDING_KEY = {"community": "grid_code", "grid": None}
"""Which column of a building names the child unit whose indicator colours it (a grid's buildings: their own)."""


def build_command_map(
    data, tile_url, level, code, layers_value, indicator, window, custom, res, lang, screen="", viewport=None
):
    """The command-center map for one unit (also used by the benchmark), fitted to the map's ``viewport``.

    Shared between clients per data version (:mod:`dashboard.models.shared`); the figure returned is the
    caller's own down to ``layout.map`` (the page sets the remembered view and text size there)."""
    size = (viewport or {}).get("width"), (viewport or {}).get("height")
    key = (tile_url, level, code, tuple(layers_value), indicator, window, tuple(custom or ()), res, lang, screen, size)
    args = (data, tile_url, level, code, layers_value, indicator, window, custom, res, lang, screen, viewport)
    fig = data.shared.get("command-map", key, lambda: _command_map(*args), (level, code))
    layout = fig["layout"]
    return {**fig, "layout": {**layout, "map": dict(layout.get("map", {}))}}


def _command_map(data, tile_url, level, code, layers_value, indicator, window, custom, res, lang, screen, viewport):
    shapes, live = data.shapes, data.live
    children = fitted(shapes.children(level, code), viewport, map_camera(screen, level, layers_value)["pitch"])
    since, until = live.window_bounds(window, custom)
    # the window's counts, the H3 cells and the newest points are independent reads: side by side on the pool
    pool = data.pool
    counts = pool.submit(live.indicators, level, code, since) if level != "grid" else None
    hex_layer = "hex" in layers_value
    heat = (
        pool.submit(live.cells, level, code, res, since, until, hex_layer)
        if hex_layer or "heat" in layers_value
        else None
    )
    recent = pool.submit(live.recent, level, code)
    grid_buildings = children["frame"].assign(kind="building") if level == "grid" else None
    indicators = grid_buildings if counts is None else counts.result().assign(kind="unit")
    cells = heat.result() if heat is not None else None
    roads = shapes.roads(children["bounds"]) if "roads" in layers_value and level in ROAD_LEVELS else None
    facilities = shapes.facilities(level, code) if "facilities" in layers_value else None
    extra = figures.outline_layer(children["outline"], "#28c2ff", 2.5) if children["outline"] is not None else []
    scene = _scene(data, level, code, children, indicators, indicator, layers_value, cells, facilities, res, screen)
    return figures.command_map(
        lang=lang,
        level=level,
        children=children,
        indicators=indicators,
        indicator=indicator,
        layers=layers_value,
        cells=cells,
        facilities=facilities,
        recent=recent.result(),
        roads=roads,
        outline_layers=extra,
        tile_url=tile_url,
        uirevision=f"{level}:{code}",
        scene=scene,
    )


def _scene(data, level, code, children, indicators, indicator, layers, cells, facilities, res, screen) -> dict:
    """What the map's style draws: names, 3D buildings, H3 columns, and the camera (wall: tilted, big text)."""
    labels = children["labels"]
    rank = 3 if level == "grid" else 1
    points = map_style.label_points(map_style.short_names(labels["name"]), labels["lon"], labels["lat"], rank)
    if facilities is not None and len(facilities) and level in ("community", "grid"):
        points += map_style.label_points(facilities["name"], facilities["lon"], facilities["lat"], 2)
    buildings = None
    if "buildings" in layers and level in BUILDING_LEVELS:
        geojson, frame = data.shapes.buildings(level, code)
        key = BUILDING_KEY[level]
        column = figures.indicator_column(indicator) if level != "grid" else "population"
        by_unit = indicators.set_index("code")[column] if len(indicators) else None
        values = frame[key].map(by_unit) if key and by_unit is not None else by_unit
        buildings = map_style.buildings_3d(
            geojson, frame["height_m"], values if values is not None else frame["height_m"] * 0
        )
    columns = None
    if cells is not None and "hex" in layers and len(cells[0]):
        columns = map_style.h3_columns(cells[1], cells[0].set_index("id")["n"], children["bounds"])
    camera = map_camera(screen, level, layers)
    return {
        "labels": map_style.collection(points),
        "buildings": buildings,
        "columns": columns,
        "heat_radius": map_style.heat_radius_px(res, children["zoom"], children["centre"]["lat"]),
        **camera,
    }


def map_camera(screen: str, level: str, layers) -> dict:
    """Pitch, bearing and text size: the wall tilted with big names, a desk tilted only over buildings."""
    camera = dict(WALL_CAMERA if screen == "wall" else DESK_CAMERA)
    if screen != "wall" and "buildings" in layers and level in ("community", "grid"):
        camera["pitch"] = DEPTH_PITCH
    return camera


def map_resolution(data, level: str, code: str | None, view: dict | None, viewport=None) -> tuple[dict, int]:
    """The remembered view of this unit (or none) and the hexagon resolution for its zoom."""
    view = view if view and view.get("unit") == [level, code] else {}
    return view, hex_resolution(view.get("zoom", fitted(data.shapes.children(level, code), viewport)["zoom"]))


def incident_focus(data, incident_id: str | None) -> dict | None:
    """Where the map flies when an incident is opened: {id, lon, lat} (None without a location)."""
    if not incident_id:
        return None
    with data.cursor() as cur:
        record = incident_record(cur, incident_id)
    if record is None or pd.isna(record.get("lon")) or pd.isna(record.get("lat")):
        return None
    return {"id": incident_id, "lon": float(record["lon"]), "lat": float(record["lat"])}


def with_view(fig: dict, remembered: dict) -> dict:
    """The figure with the operator's remembered pan, zoom, pitch and bearing (no refit when panned)."""
    fig["layout"]["map"].update({k: v for k, v in remembered.items() if k != "unit"})
    return fig


def remembered_view(relayout: dict | None, level: str, code: str | None, view: dict | None) -> dict | None:
    """The operator's pan and zoom for the current unit (None when the relayout moved nothing)."""
    keys = {k.split(".", 1)[1]: v for k, v in (relayout or {}).items() if k in VIEW_KEYS}
    if not keys:
        return None
    same = view and view.get("unit") == [level, code]
    return {"unit": [level, code], **(view if same else {}), **keys}


def clicked_child(click: dict | None, level: str) -> dict | None:
    """The unit a click on the map drills into (None for a click on nothing, a building or a point)."""
    if not click:
        return None
    custom = click["points"][0].get("customdata")
    child = CHILD[level]
    if not custom or len(custom) < 3 or custom[2] != "unit" or child == "building":
        return None
    return {"level": child, "code": custom[0]}


def build_side(
    data,
    level: str,
    code: str | None,
    window: str,
    custom,
    lang: str,
    role: str | None = None,
    font_px: int = 12,
    bars: int = CATEGORY_BARS,
) -> tuple:
    """KPI tiles, ticker, category and trend charts (text at ``font_px``; at most ``bars`` category bars),
    grid detail, and the duty block (open incidents by affair class, grid workers); also used by the benchmark.

    Names in the grid detail (网格员, secretary, 楼栋长, team) are whole only for dispatchers and admins.
    Shared between clients per data version (:mod:`dashboard.models.shared`)."""
    reveal = party.may_reveal(role)
    key = (level, code, window, tuple(custom or ()), lang, reveal, font_px, bars)
    side = (data, level, code, window, custom, lang, reveal, font_px, bars)
    return data.shared.get("command-side", key, lambda: _side(*side), (level, code))


def _side(
    data, level: str, code: str | None, window: str, custom, lang: str, reveal: bool, font_px: int, bars: int
) -> tuple:
    live = data.live
    since, _ = live.window_bounds(window, custom)
    now = live.clock()
    # a street's, community's or grid's panels count its open incidents per affair class from their own fetch
    by_affair = None if level in SMALL_LEVELS else data.pool.submit(_open_by_affair, data, level, code)
    whistles = data.pool.submit(overdue_for, data, level, code, now)
    panels = live.side_panels(level, code, since)
    affairs = panels.get("affairs")
    if affairs is None:  # a city or district, or a long window: the unit's panels were read by SQL
        affairs = by_affair.result() if by_affair is not None else _open_by_affair(data, level, code)
    fresh = now - dt.timedelta(minutes=RECENT_MINUTES)
    return (
        kpi_tiles(panels["kpis"], lang),
        ticker_lists(panels["newest"], panels["overdue"], now, fresh, lang)
        + whistle_list(whistles.result(), now, lang),
        figures.category_bars(panels["categories"], lang, font_px, bars),
        figures.trend_lines(panels["trend"], lang, font_px),
        _grid_detail(data, panels["grid"], code, lang, reveal) if level == "grid" else None,
        duty_block(affairs, *live.on_duty(level, code), lang),
    )


def _open_by_affair(data, level: str, code: str | None):
    """Open incidents per affair class: they move with writes only, not with the clock, so they are read once per
    data version (kept while writes touch other units)."""
    read = lambda: data.run(duty_queries.open_by_affair, level, code)  # noqa: E731
    return data.live.per_version("open-by-affair", (level, code), level, code, read)


def scale_text(fig: dict, font_px: int) -> dict:
    """Set a figure's text size (colour bars, legends and hover labels follow ``layout.font``)."""
    layout = fig["layout"]
    layout["font"] = {**layout.get("font", {}), "size": font_px}
    layout["legend"] = {**layout.get("legend", {}), "font": {"size": font_px}}
    layout["hoverlabel"] = {"font": {"size": font_px}}
    return fig


def chart_font_px(screen: dict | None) -> int:
    """Chart text size for the screen the page is on: 12 px at a desk, 16 px on a 1080p wall, scaled with
    the wall's width (32 px at 4K), so axis and legend text stay readable next to the KPI figures."""
    screen = screen or {}
    if not screen.get("wall"):
        return 12
    width = float(screen.get("width") or 1920)
    return max(12, min(48, round(16 * width / 1920)))


def category_bars_shown(screen: dict | None) -> int:
    """How many category bars the side panel draws on this screen."""
    screen = screen or {}
    low = screen.get("wall") and 0 < float(screen.get("height") or 0) < LOW_WALL_PX
    return LOW_WALL_BARS if low else CATEGORY_BARS


def _grid_detail(data, detail: tuple, grid_code: str | None, lang: str, reveal: bool):
    names = str if reveal else mask_name
    return grid_panel(detail, lang, mask_phone, names, party.party_block(data, grid_code, reveal, lang))


def next_tour_stop(data, level: str, code: str | None) -> dict:
    """The wall screen's next stop: the next street of the district (or the next district of the city)."""
    shapes = data.shapes
    home_level, home_code = shapes.home()
    streets = shapes.children(home_level, home_code)["frame"]["code"].tolist() if home_level == "district" else []
    if not streets:
        districts = shapes.children("city", None)["frame"]["code"].tolist()
        at = districts.index(code) + 1 if level == "district" and code in districts else 0
        return {"level": "district", "code": districts[at % len(districts)]}
    nxt = streets[(streets.index(code) + 1) % len(streets)] if level == "street" and code in streets else streets[0]
    return {"level": "street", "code": nxt}
