"""The command page ships its first map with the layout when the browser told its map size (a cookie)."""

from __future__ import annotations

import dash

from dashboard.components import map_reply


def _graph(node):
    """The command map's dcc.Graph in a layout tree."""
    if getattr(node, "id", None) == "command-map":
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = _graph(child)
        if found is not None:
            return found
    return None


def _stores(node, found=None) -> dict:
    found = {} if found is None else found
    if type(node).__name__ == "Store":
        found[node.id] = getattr(node, "data", None)
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        _stores(child, found)
    return found


def test_cookie_is_read_strictly():
    assert map_reply.remembered_screen({"gt_viewport": "1100x860x1920"}, False) == (
        {"width": 1100, "height": 860},
        {"wall": False, "width": 1920},
    )
    for junk in ("", "1100x860", "1100x860x1920x1", "ax860x1920", "10x10x1920", "1100x99999999x1920", "-5x860x0"):
        assert map_reply.remembered_screen({"gt_viewport": junk}, True) == (None, None), junk


def test_layout_carries_the_first_map_only_with_a_known_map_size(app):
    layout = next(page["layout"] for page in dash.page_registry.values() if page["path"] == "/")
    with app.server.test_request_context("/"):
        plain = layout()
    assert getattr(_graph(plain), "figure", None) is None  # first visit: the callback draws the map
    assert _stores(plain)["command-map-meta"] is None

    with app.server.test_request_context("/", headers={"Cookie": "gt_viewport=1100x860x1920"}):
        shipped = layout(layers="grids,hex,outlines")
    figure = _graph(shipped).figure
    stores = _stores(shipped)
    names = [trace["name"] for trace in figure["data"]]
    assert "units" in names and "hex" in names
    style = figure["layout"]["map"]["style"]
    assert {"labels", "buildings", "columns"} <= set(style["sources"])  # complete: one style for every unit
    assert style["sources"]["labels"]["data"]["features"]  # the names travel with the figure
    assert stores["command-viewport"] == {"width": 1100, "height": 860}
    meta = stores["command-map-meta"]
    # the map callback's first call (same unit, controls, version, size) finds this signature and sends nothing
    level, code = app.gridtwin_data.shapes.home()
    controls = (["grids", "hex", "outlines"], "window", "24h", None, None)
    screen = {"wall": False, "width": 1920}
    assert meta["unit"] == [level, code]
    assert meta["sig"] == map_reply.signature(
        (level, code), controls, meta["version"], None, {"width": 1100, "height": 860}, screen
    )
