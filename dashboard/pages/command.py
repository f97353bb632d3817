"""指挥中心: the command center — the map of a unit, its KPIs, ticker, charts, grid detail and incident panel."""

from __future__ import annotations

import json
import logging

import dash
import flask
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components import incident_panel, map_reply
from dashboard.components.shell import mirror, page_stores, sync_query, unit_of
from dashboard.components.urls import ALL_LAYERS, INDICATORS, WINDOW_KEYS, lang_of, parse_query
from dashboard.i18n import t
from dashboard.pages import current
from dashboard.queries import CHILD, LEVELS
from dashboard.views import command as view

dash.register_page(__name__, path="/", name="指挥中心", title="一网统管 · 全息网格地图", order=0)

LOG = logging.getLogger(__name__)
TOUR_MS = 20_000
SCREEN = """
function (_unit) {
    const wall = new URLSearchParams(window.location.search).get("screen") === "wall";
    const width = Math.round(window.innerWidth / 160) * 160;  /* steps: a resize by a few pixels changes nothing */
    return {wall: wall, width: width};
}
"""
"""The screen the page is on (wall or desk, its width), for chart text that scales with it."""
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


def first_map(state: dict) -> dict:
    """The map of the page's unit for its first paint, when this browser told its map's size before (a cookie):
    figure, meta, viewport and screen (empty otherwise: the map callback then draws it)."""
    viewport, screen = map_reply.remembered_screen(flask.request.cookies, state["screen"] == "wall")
    if viewport is None:
        return {}
    context = current()
    data = context.data
    unit = (state["level"], state["code"]) if state["level"] in LEVELS else data.shapes.home()
    controls = (state["layers"], state["ind"], state["window"], state.get("from"), state.get("to"))
    try:
        fig, meta = map_reply.map_reply(
            data, context.tile_url, unit, controls, data.live.version(), None, viewport, screen, state
        )
    except Exception:  # the map callback answers (and reports) the same request; the page itself must load
        LOG.exception("first map of %s not built with the page", unit)
        return {}
    return {"figure": fig, "meta": meta, "viewport": viewport, "screen": screen}


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    touring = state["screen"] == "wall" and state["tour"] == "1"
    map_config = {"displaylogo": False, "scrollZoom": True, "modeBarButtonsToRemove": ["select", "lasso"]}
    first = first_map(state)
    graph = {"figure": first["figure"]} if first else {}
    return html.Div(
        className="gt-command",
        children=[
            *page_stores("command"),
            dcc.Store(id="command-map-meta", data=first.get("meta")),
            dcc.Store(id="command-map-view"),
            dcc.Store(id="command-viewport", data=first.get("viewport")),
            dcc.Store(id="command-map-focus"),
            dcc.Store(id="command-flight"),
            dcc.Store(id="command-screen", data=first.get("screen")),
            dcc.Interval(id="command-tour", interval=TOUR_MS, disabled=not touring),
            html.Section(
                className="gt-left",
                children=[
                    html.Div(id="command-kpis", className="gt-kpis"),
                    html.Div(id="command-duty", className="gt-duty"),
                    html.H3(t("by_category", lang)),
                    dcc.Graph(id="command-category-chart", config={"displayModeBar": False}, className="gt-chart"),
                ],
            ),
            html.Section(
                className="gt-center",
                children=[
                    _controls(state, lang),
                    dcc.Graph(id="command-map", className="gt-map", config=map_config, **graph),
                    html.Div(t("click_hint", lang), className="gt-hint"),
                ],
            ),
            html.Section(
                className="gt-right",
                children=[
                    html.Div(id="command-ticker", className="gt-ticker"),
                    html.H3(t("trend", lang)),
                    dcc.Graph(id="command-trend-chart", config={"displayModeBar": False}, className="gt-chart"),
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
    def update_map(unit, layers, indicator, window, start, end, version, known, viewport, screen, meta, search):
        level, code = unit_of(unit, shapes)
        panned = ctx.triggered_id == "command-map-view" and meta
        if panned and meta.get("res") == view.map_resolution(data, level, code, known, viewport)[1]:
            raise PreventUpdate  # a pan, or a zoom within the same hexagon size: the browser already shows it
        if version in (None, -1) and meta:
            version = meta.get("version")  # not polled yet: the figure shipped with the page is as new
        controls = (layers, indicator, window, start, end)
        if meta and meta.get("sig") == map_reply.signature((level, code), controls, version, known, viewport, screen):
            raise PreventUpdate  # the page came with this very figure
        return map_reply.map_reply(
            data, tile_url, (level, code), controls, version, known, viewport, screen, parse_query(search)
        )

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
        role, font_px = flask.session.get("role"), view.chart_font_px(screen)
        return view.build_side(data, *unit_of(unit, shapes), window, (start, end), lang_of(search), role, font_px)

    _register_flights(app, data)
    incident_panel.register_callbacks(app, data)


def _register_flights(app: Dash, data) -> None:
    """The map's real size (the server fits views to it) and the smooth flights (assets/map.js)."""
    app.clientside_callback(
        ClientsideFunction("gridtwin_map", "viewport"), Output("command-viewport", "data"), Input("command-map", "id")
    )
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
