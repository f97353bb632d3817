"""指挥中心: the command center — the map of a unit, its KPIs, ticker, charts, grid detail and incident panel."""

from __future__ import annotations

import json

import dash
import flask
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components import incident_panel
from dashboard.components.graphs import graph
from dashboard.components.shell import map_size_store, mirror, page_stores, report_map_size, sync_query, unit_of
from dashboard.components.urls import ALL_LAYERS, INDICATORS, WINDOW_KEYS, lang_of, parse_query
from dashboard.i18n import t
from dashboard.queries import CHILD
from dashboard.views import command as view

dash.register_page(__name__, path="/", name="指挥中心", title="一网统管 · 全息网格地图", order=0)

TOUR_MS = 20_000
SCREEN = """
function (_unit) {
    const wall = new URLSearchParams(window.location.search).get("screen") === "wall";
    const width = Math.round(window.innerWidth / 160) * 160;  /* steps: a resize by a few pixels changes nothing */
    const height = Math.round(window.innerHeight / 120) * 120;
    return {wall: wall, width: width, height: height};
}
"""
"""The screen the page is on (wall or desk, its size), for chart text that scales with it and for how many
category bars fit a low wall screen."""
DRILL = """
function (click, unit) {
    const CHILD = %s;
    const point = click && click.points && click.points[0];
    const custom = point && point.customdata;
    const child = unit && CHILD[unit.level];
    if (!custom || custom.length < 3 || custom[2] !== "unit" || !child || child === "building") {
        return window.dash_clientside.no_update;
    }
    return {level: child, code: String(custom[0])};
}
"""
"""A click on a child unit (the same rule as :func:`dashboard.views.command.clicked_child`): the unit to show."""


def _controls(state: dict, lang: str) -> html.Div:
    return html.Div(
        className="gt-controls",
        children=[
            dcc.Checklist(
                id="command-layers",
                options=[{"label": t(f"layer_{k}", lang), "value": k} for k in ALL_LAYERS],
                value=state["layers"],
                inline=True,
                className="gt-checklist",
            ),
            html.Label(t("indicator", lang)),
            dcc.Dropdown(
                id="command-indicator",
                options=[{"label": t(f"ind_{k}", lang), "value": k} for k in INDICATORS],
                value=state["ind"],
                clearable=False,
                className="gt-dropdown",
            ),
            dcc.RadioItems(
                id="command-window",
                options=[{"label": t(f"w_{k}", lang), "value": k} for k in WINDOW_KEYS],
                value=state["window"],
                inline=True,
                className="gt-radio",
            ),
            dcc.DatePickerRange(
                id="command-range",
                start_date=state.get("from"),
                end_date=state.get("to"),
                display_format="YYYY-MM-DD",
                start_date_placeholder_text=t("since", lang),
                end_date_placeholder_text=t("until", lang),
                className="gt-dates",
            ),
        ],
    )


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    touring = state["screen"] == "wall" and state["tour"] == "1"
    map_config = {"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["select", "lasso"]}
    return html.Div(
        className=f"gt-command gt-command-{lang}",  # English needs a wider ticker column on a narrow screen
        children=[
            *page_stores("command"),
            dcc.Store(id="command-map-meta"),
            dcc.Store(id="command-map-view"),
            map_size_store("command"),
            dcc.Store(id="command-map-focus"),
            dcc.Store(id="command-flight"),
            dcc.Store(id="command-screen"),
            dcc.Interval(id="command-tour", interval=TOUR_MS, disabled=not touring),
            html.Section(
                className="gt-left",
                children=[
                    html.Div(id="command-kpis", className="gt-kpis"),
                    html.Div(id="command-duty", className="gt-duty"),
                    html.H3(t("by_category", lang)),
                    graph("command-category-chart", config={"displayModeBar": False}, className="gt-chart"),
                ],
            ),
            html.Section(
                className="gt-center",
                children=[
                    _controls(state, lang),
                    graph("command-map", className="gt-map", config=map_config),
                    html.Div(t("click_hint", lang), className="gt-hint"),
                ],
            ),
            html.Section(
                className="gt-right",
                children=[
                    html.Div(id="command-ticker", className="gt-ticker"),
                    html.H3(t("trend", lang)),
                    graph("command-trend-chart", config={"displayModeBar": False}, className="gt-chart"),
                    html.Div(id="command-detail", className="gt-detail"),
                    incident_panel.panel(lang),
                ],
            ),
        ],
    )


def register_callbacks(app: Dash, context) -> None:
    data, tile_url = context.data, context.tile_url
    mirror(app, "command")
    shapes = data.shapes

    app.clientside_callback(SCREEN, Output("command-screen", "data"), Input("command-unit", "data"))

    sync_query(
        app,
        "command",
        {
            "layers": ("command-layers", "value"),
            "ind": ("command-indicator", "value"),
            "window": ("command-window", "value"),
            "from": ("command-range", "start_date"),
            "to": ("command-range", "end_date"),
        },
    )

    # a click drills down in the browser: the child's map is asked for at once, not after a round trip
    app.clientside_callback(
        DRILL % json.dumps(CHILD),
        Output("unit", "data", allow_duplicate=True),
        Input("command-map", "clickData"),
        State("command-unit", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("command-tour", "n_intervals"),
        State("command-unit", "data"),
        prevent_initial_call=True,
    )
    def tour_stop(tour, unit):
        if not tour:
            raise PreventUpdate
        return view.next_tour_stop(data, *unit_of(unit, shapes))

    @app.callback(
        Output("command-map-view", "data"),
        Input("command-map", "relayoutData"),
        State("command-unit", "data"),
        State("command-map-view", "data"),
        prevent_initial_call=True,
    )
    def remember_view(relayout, unit, known):
        """The operator's pan and zoom for the current unit, re-applied to every redraw of that unit."""
        remembered = view.remembered_view(relayout, *unit_of(unit, shapes), known)
        if remembered is None:
            raise PreventUpdate
        return remembered

    @app.callback(
        Output("command-map", "figure"),
        Output("command-map-meta", "data"),
        Input("command-unit", "data"),
        Input("command-layers", "value"),
        Input("command-indicator", "value"),
        Input("command-window", "value"),
        Input("command-range", "start_date"),
        Input("command-range", "end_date"),
        Input("command-version", "data"),
        Input("command-map-view", "data"),
        Input("command-viewport", "data"),
        Input("command-screen", "data"),
        State("command-map-meta", "data"),
        State("url", "search"),
    )
    def update_map(unit, layers, indicator, window, start, end, _version, known, viewport, screen, meta, search):
        level, code = unit_of(unit, shapes)
        remembered, res = view.map_resolution(data, level, code, known, viewport)
        if ctx.triggered_id == "command-map-view" and meta and meta.get("res") == res:
            raise PreventUpdate  # a pan, or a zoom within the same hexagon size: the browser already shows it
        state = parse_query(search)
        fig = view.build_command_map(
            data,
            tile_url,
            level,
            code,
            layers or [],
            indicator,
            window,
            (start, end),
            res,
            state["lang"],
            state["screen"],
            viewport,
        )
        fig = view.with_view(fig, remembered)
        view.scale_text(fig, view.chart_font_px(screen))  # colour bar and legend as large as the charts
        return fig, {"unit": [level, code], "res": res}

    @app.callback(
        Output("command-kpis", "children"),
        Output("command-ticker", "children"),
        Output("command-category-chart", "figure"),
        Output("command-trend-chart", "figure"),
        Output("command-detail", "children"),
        Output("command-duty", "children"),
        Input("command-unit", "data"),
        Input("command-window", "value"),
        Input("command-range", "start_date"),
        Input("command-range", "end_date"),
        Input("command-version", "data"),
        Input("command-screen", "data"),
        State("url", "search"),
    )
    def update_side(unit, window, start, end, _version, screen, search):
        role, font_px, bars = flask.session.get("role"), view.chart_font_px(screen), view.category_bars_shown(screen)
        unit_code = unit_of(unit, shapes)
        return view.build_side(data, *unit_code, window, (start, end), lang_of(search), role, font_px, bars)

    _register_flights(app, data)
    incident_panel.register_callbacks(app, data)


def _register_flights(app: Dash, data) -> None:
    """The map's real size (the server fits views to it) and the smooth flights (assets/map.js)."""
    report_map_size(app, "command")
    app.clientside_callback(
        ClientsideFunction("gridtwin_map", "flyToChild"),
        Output("command-flight", "data"),
        Input("command-map", "clickData"),
        State("command-map", "id"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridtwin_map", "flyToPoint"),
        Output("command-flight", "data", allow_duplicate=True),
        Input("command-map-focus", "data"),
        State("command-map", "id"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("command-map-focus", "data"),
        Input("command-incident-selected", "data"),
        prevent_initial_call=True,
    )
    def focus_incident(incident_id):
        return view.incident_focus(data, incident_id) or no_update
