"""The pages' graphs: a ``dcc.Graph`` that starts dark.

``dcc.Graph``'s default figure is empty with plotly's white background and axes. When plotly.js is ready
before the first callback's figure arrives (it is preloaded, :mod:`dashboard.bundles`), that default is drawn
for a moment: a white flash on a dark wall screen. Every graph starts with :data:`BLANK` instead: transparent,
no axes, so the panel's dark background shows until the real figure replaces it.
"""

from __future__ import annotations

from dash import dcc

BLANK = {
    "data": [],
    "layout": {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    },
}


def graph(graph_id: str, **kwargs) -> dcc.Graph:
    """A ``dcc.Graph`` (``kwargs`` as for it) whose first figure is :data:`BLANK`."""
    return dcc.Graph(id=graph_id, figure=BLANK, **kwargs)
