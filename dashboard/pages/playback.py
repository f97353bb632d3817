"""时间回放: playback — incidents per hexagon hour by hour over a day or a week."""

from __future__ import annotations

import dash
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.components.graphs import graph
from dashboard.components.shell import mirror, page_stores, sync_query, unit_of
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import t
from dashboard.pages import current
from dashboard.views import playback as view

dash.register_page(__name__, path="/playback", name="时间回放", title="一网统管 · 全息网格地图", order=2)


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    latest = current().data.live.latest_day().isoformat()
    day = state.get("day") or latest
    return html.Div(
        className="gt-playback",
        children=[
            html.Div(
                className="gt-controls",
                children=[
                    dcc.DatePickerSingle(
                        id="playback-day", date=day, display_format="YYYY-MM-DD", max_date_allowed=latest
                    ),
                    dcc.RadioItems(
                        id="playback-mode",
                        options=[{"label": t(k, lang), "value": k} for k in view.MODES],
                        value=state.get("mode") if state.get("mode") in view.MODES else "day",
                        inline=True,
                        className="gt-radio",
                    ),
                    html.Button(t("play", lang), id="playback-play", className="gt-button", n_clicks=0),
                    html.Span(id="playback-label", className="gt-pb-label"),
                ],
            ),
            dcc.Slider(
                id="playback-slider",
                min=0,
                max=23,
                step=1,
                value=0,
                marks=None,
                # the hour on the handle itself (assets/slider.js), no separate number box
                tooltip={"placement": "top", "always_visible": True, "transform": "gtHour"},
                allow_direct_input=False,
                className="gt-slider",
            ),
            dcc.Interval(id="playback-tick", interval=900, disabled=True),
            *page_stores("playback"),
            dcc.Store(id="playback-data"),
            graph(
                "playback-map",
                className="gt-map gt-map-playback",
                config={"displaylogo": False, "scrollZoom": True},
            ),
        ],
    )


def register_callbacks(app: Dash, context) -> None:
    data, tile_url = context.data, context.tile_url
    mirror(app, "playback")

    sync_query(app, "playback", {"day": ("playback-day", "date"), "mode": ("playback-mode", "value")})

    @app.callback(
        Output("playback-data", "data"),
        Output("playback-slider", "max"),
        Output("playback-slider", "value"),
        Output("playback-slider", "marks"),
        Input("playback-unit", "data"),
        Input("playback-day", "date"),
        Input("playback-mode", "value"),
    )
    def load(unit, day, mode):
        payload, last, marks = view.load(data, *unit_of(unit, data.shapes), day, mode)
        return payload, last, 0, marks

    @app.callback(
        Output("playback-map", "figure"),
        Output("playback-label", "children"),
        Input("playback-slider", "value"),
        Input("playback-data", "data"),
        State("playback-unit", "data"),
        State("url", "search"),
    )
    def show(step, payload, unit, search):
        if not payload:
            raise PreventUpdate
        return view.hour_view(data, tile_url, *unit_of(unit, data.shapes), payload, step or 0, lang_of(search))

    @app.callback(
        Output("playback-tick", "disabled"),
        Output("playback-play", "children"),
        Input("playback-play", "n_clicks"),
        State("url", "search"),
    )
    def toggle_play(clicks, search):
        playing = bool(clicks) and clicks % 2 == 1
        return not playing, t("pause" if playing else "play", lang_of(search))

    @app.callback(
        Output("playback-slider", "value", allow_duplicate=True),
        Input("playback-tick", "n_intervals"),
        State("playback-slider", "value"),
        State("playback-slider", "max"),
        prevent_initial_call=True,
    )
    def advance(_, value, maximum):
        return 0 if (value or 0) >= (maximum or 0) else (value or 0) + 1
