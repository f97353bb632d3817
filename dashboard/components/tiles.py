"""KPI tiles and the dark table look shared by the pages."""

from __future__ import annotations

import pandas as pd
from dash import html

TABLE_STYLE = {
    "style_as_list_view": True,
    "style_table": {"overflowX": "auto"},
    "style_header": {"backgroundColor": "#10233b", "color": "#d7e3f4", "fontWeight": "bold"},
    "style_cell": {
        "backgroundColor": "#0b1828",
        "color": "#d7e3f4",
        "border": "1px solid #1c2f48",
        "fontFamily": "Noto Sans CJK SC, sans-serif",
        "padding": "6px 10px",
        "textAlign": "right",
    },
    "style_cell_conditional": [{"if": {"column_id": "name"}, "textAlign": "left"}],
}
"""The dark table look shared by the leader view and the planner page."""


def kpi_tile(tile_id: str, label: str, value: str, unit: str = "", alert: bool = False) -> html.Div:
    """One KPI figure with its label (``tile_id`` is the component id, prefixed by its page)."""
    return html.Div(
        className="gt-kpi" + (" gt-kpi-alert" if alert else ""),
        id=tile_id,
        children=[
            html.Div(label, className="gt-kpi-label"),
            html.Div([value, html.Small(unit)], className="gt-kpi-value"),
        ],
    )


def fmt(value, digits: int = 0) -> str:
    """A number with thousands separators, or — when missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{value:,.{digits}f}"
