"""党建引领: the 红色地图 and the ranked table of party-building indicators, with 红黑榜 and drill-down."""

from __future__ import annotations

import dash
import flask
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.graphs import graph
from dashboard.components.shell import map_size_store, mirror, page_stores, report_map_size, sync_query, unit_of
from dashboard.components.tiles import TABLE_STYLE
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import t
from dashboard.views import party as view

HEADER_WRAP = {
    "whiteSpace": "normal",
    "height": "auto",
    "minWidth": "84px",
    "maxWidth": "130px",
    "fontSize": "13px",
    "lineHeight": "1.3",
}
"""Long indicator names wrap in the header (in at most three lines: a narrower screen scrolls the table
sideways), so the table fits a 1920-pixel screen."""

dash.register_page(__name__, path="/party", name="党建引领", title="一网统管 · 全息网格地图", order=4)


def _raw_indicator(query: dict | str | None) -> str | None:
    """The ``ind`` of the URL as given (the shell's parser keeps only the command centre's indicators)."""
    if isinstance(query, dict):
        value = query.get("ind")
        return value[-1] if isinstance(value, list) else value
    from urllib.parse import parse_qs

    return (parse_qs((query or "").lstrip("?")).get("ind") or [None])[-1]


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    level = state["level"] or "city"
    key = view.indicator_key(_raw_indicator(query), level)
    return html.Div(
        className="gt-party",
        children=[
            *page_stores("party"),
            map_size_store("party"),
            html.Div(
                className="gt-controls",
                children=[
                    html.Label(t("party_indicator", lang)),
                    dcc.Dropdown(
                        id="party-indicator",
                        options=view.indicator_options(level, lang),
                        value=key,
                        clearable=False,
                        className="gt-dropdown gt-party-dropdown",
                    ),
                    html.Button(t("export_csv", lang), id="party-export-csv", className="gt-button", n_clicks=0),
                    html.Button(t("export_xlsx", lang), id="party-export-xlsx", className="gt-button", n_clicks=0),
                    dcc.Download(id="party-download"),
                ],
            ),
            html.Div(view.definition(key, lang), id="party-definition", className="gt-method"),
            html.Div(
                className="gt-party-body",
                children=[
                    html.Section(
                        className="gt-party-main",
                        children=[
                            graph(
                                "party-map",
                                className="gt-map gt-map-party",
                                config={"displaylogo": False, "scrollZoom": True},
                            ),
                            html.Div(t("party_hint", lang), className="gt-hint"),
                        ],
                    ),
                    html.Section(
                        className="gt-party-side",
                        children=[html.Div(id="party-boards", className="gt-boards"), html.Div(id="party-unit-people")],
                    ),
                ],
            ),
            html.Div(
                dash_table.DataTable(
                    id="party-table", sort_action="native", page_size=12, tooltip_delay=200, tooltip_duration=None,
                    **{**TABLE_STYLE, "style_header": {**TABLE_STYLE["style_header"], **HEADER_WRAP}},
                ),
                className="gt-party-table",
            ),
        ],
    )  # fmt: skip


def register_callbacks(app: Dash, context) -> None:
    data, tile_url = context.data, context.tile_url
    shapes = data.shapes
    mirror(app, "party")

    sync_query(app, "party", {"ind": ("party-indicator", "value")})
    report_map_size(app, "party")

    @app.callback(
        Output("party-map", "figure"),
        Output("party-table", "data"),
        Output("party-table", "columns"),
        Output("party-table", "tooltip_header"),
        Output("party-boards", "children"),
        Output("party-unit-people", "children"),
        Output("party-definition", "children"),
        Output("party-indicator", "options"),
        Input("party-unit", "data"),
        Input("party-indicator", "value"),
        Input("party-version", "data"),
        Input("party-viewport", "data"),
        State("url", "search"),
    )
    def show(unit, key, _version, viewport, search):
        level, code = unit_of(unit, shapes)
        lang = lang_of(search)
        built = view.build_view(data, tile_url, level, code, key, flask.session.get("role"), lang, viewport)
        return (*built, view.indicator_options(level, lang))

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("party-map", "clickData"),
        Input("party-table", "active_cell"),
        State("party-table", "derived_viewport_data"),
        State("party-unit", "data"),
        prevent_initial_call=True,
    )
    def drill(click, cell, rows, unit):
        level, _ = unit_of(unit, shapes)
        if ctx.triggered_id == "party-map":
            return view.clicked_unit(click, level) or no_update
        if not cell or not rows or cell["row"] >= len(rows):
            raise PreventUpdate
        return view.drill_target(level, rows[cell["row"]]["code"]) or no_update

    @app.callback(
        Output("party-download", "data"),
        Input("party-export-csv", "n_clicks"),
        Input("party-export-xlsx", "n_clicks"),
        State("party-unit", "data"),
        State("party-indicator", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, unit, key, search):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        row_level, table = view.unit_table(data, *unit_of(unit, shapes))
        which = ctx.triggered_id.removeprefix("party-export-")
        stamp = data.clock().strftime("%Y%m%d-%H%M")
        content, name = view.export(table, row_level, key, which, lang_of(search), stamp)
        return dcc.send_bytes(content, name)
