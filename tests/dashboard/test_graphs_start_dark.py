"""Every graph on every page starts with a dark, axis-free figure (never plotly's white default)."""

from __future__ import annotations

import dash
from dash import dcc


def _graphs(component):
    if isinstance(component, dcc.Graph):
        yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from _graphs(child)


def test_every_page_graph_starts_dark_without_axes(app):
    """``dcc.Graph``'s default figure is white with axes: drawn for a moment when plotly.js is ready before the
    first callback's figure, it flashed white on the wall (tests/browser/test_wall.py caught it once in CI)."""
    seen = {}
    with app.server.test_request_context("/"):
        for page in dash.page_registry.values():
            layout = page["layout"]
            for graph in _graphs(layout() if callable(layout) else layout):
                seen[graph.id] = graph.figure
    assert {"command-map", "command-category-chart", "command-trend-chart", "leader-map", "coverage-map"} <= set(seen)
    assert {"party-map", "playback-map"} <= set(seen)
    for graph_id, figure in seen.items():
        layout = (figure or {}).get("layout", {})
        assert layout.get("paper_bgcolor") == "rgba(0,0,0,0)", f"{graph_id} starts with plotly's white background"
        assert layout.get("plot_bgcolor") == "rgba(0,0,0,0)", graph_id
        assert layout["xaxis"]["visible"] is False and layout["yaxis"]["visible"] is False, graph_id
