"""The map's MapLibre style: offline names, extruded buildings and H3 columns, heat radius, colour scales."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dashboard import figures, map_style
from dashboard.components import urls
from dashboard.views import command

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001], [0, 0]]]}


def _collection(ids):
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "id": i, "geometry": SQUARE} for i in ids]}


def test_style_has_no_remote_resource_and_orders_layers_bottom_up():
    labels = map_style.collection(
        map_style.label_points(["和平街道", None, ""], [120.1, 120.2, 120.3], [30, 30, 30], 1)
    )
    style = map_style.style(
        "#000000",
        labels=labels,
        buildings=map_style.buildings_3d(_collection(["b1"]), pd.Series({"b1": 24.0}), pd.Series({"b1": 3})),
        columns=map_style.h3_columns(_collection(["c1"]), pd.Series({"c1": 5}), (0, 0, 0.01, 0.01)),
    )
    assert "glyphs" not in style and "sprite" not in style
    assert "http" not in json.dumps(style)
    ids = [layer["id"] for layer in style["layers"]]
    assert ids[:3] == ["gt-ground", "gt-buildings", "gt-columns"] and ids[3].startswith("gt-labels")
    assert [f["properties"]["name"] for f in labels["features"]] == ["和平街道"]  # no blank or missing names
    assert map_style.below_for(style) == "gt-buildings"
    assert map_style.below_for(map_style.style("#000000")) is None
    assert map_style.style("#000000", "https://tiles.example/{z}/{x}/{y}.png")["sources"]["tiles"]["type"] == "raster"


def test_buildings_carry_height_and_a_unit_interval_value():
    frame = map_style.buildings_3d(
        _collection(["a", "b", "c"]), pd.Series({"a": 12.0, "b": 60.0}), pd.Series({"a": 2, "b": 8, "c": None})
    )
    props = [f["properties"] for f in frame["features"]]
    assert props == [{"h": 12.0, "v": 0.25}, {"h": 60.0, "v": 1.0}, {"h": 9.0, "v": 0.0}]


def test_h3_columns_rise_with_the_count_to_a_sixth_of_the_view():
    columns = map_style.h3_columns(_collection(["x", "y"]), pd.Series({"x": 10, "y": 5}), (120.0, 30.0, 120.1, 30.1))
    tall, half = (f["properties"] for f in columns["features"])
    assert tall["v"] == 1.0 and half["v"] == 0.5 and half["h"] == pytest.approx(tall["h"] / 2, abs=0.1)
    assert 2000 < tall["h"] < 3000  # the 0.1° box's diagonal is ~14.6 km


def test_heat_radius_blends_neighbouring_cells_at_every_scale():
    for res in range(6, 12):
        for zoom in (10.0, 12.0, 14.0, 16.0):
            radius = map_style.heat_radius_px(res, zoom, 30.0)
            assert 14 <= radius <= 60
    assert map_style.heat_radius_px(7, 11.0, 30.0) > map_style.heat_radius_px(9, 11.0, 30.0)


def test_every_colour_scale_is_explicit_for_plotly_js(data):
    fig = command.build_command_map(
        data, None, "city", None, list(urls.ALL_LAYERS), "window", "7d", (None, None), 8, "zh"
    )
    for trace in fig["data"]:
        if "colorscale" in trace:
            assert isinstance(trace["colorscale"], list), trace["name"]  # a name like "Plasma" is plotly.py-only
    hexes = [t for t in fig["data"] if t["name"] == "hex"]
    assert hexes and hexes[0]["colorscale"] == figures._pairs(map_style.COLUMN_SCALE)


def test_fitted_view_follows_the_map_size_and_pitch(data):
    children = data.shapes.children("city", None)
    wide = command.fitted(children, {"width": 1600, "height": 800})
    small = command.fitted(children, {"width": 400, "height": 300})
    tilted = command.fitted(children, {"width": 1600, "height": 800}, pitch=50)
    assert wide["zoom"] > small["zoom"] > 0
    assert tilted["zoom"] < wide["zoom"]
    assert command.fitted(children, None) is children


def test_wall_camera_is_tilted_with_bigger_names():
    wall = command.map_camera("wall", "city", ["grids"])
    desk = command.map_camera("", "city", ["grids"])
    assert wall["pitch"] > 0 and wall["bearing"] != 0 and wall["text_scale"] > desk["text_scale"]
    assert desk["pitch"] == 0 and command.map_camera("", "community", ["buildings"])["pitch"] > 0


def test_child_names_drop_the_parent_name_they_repeat():
    names = pd.Series(["菊香社区第1网格", "菊香社区第12网格"])
    assert map_style.short_names(names).tolist() == ["第1网格", "第12网格"]
    streets = pd.Series(["和平街道", "海林街道"])
    assert map_style.short_names(streets).tolist() == ["和平街道", "海林街道"]
    assert map_style.short_names(pd.Series(["菊香社区"])).tolist() == ["菊香社区"]


def test_an_opened_incident_gives_the_map_a_point_to_fly_to(data):
    with data.cursor() as cur:
        incident_id, lon, lat = cur.execute(
            "SELECT incident_id, lon, lat FROM incidents WHERE lon IS NOT NULL ORDER BY incident_id LIMIT 1"
        ).fetchone()
    assert command.incident_focus(data, incident_id) == {"id": incident_id, "lon": lon, "lat": lat}
    assert command.incident_focus(data, "NO-SUCH-INCIDENT") is None
    assert command.incident_focus(data, None) is None
