"""Dash callbacks: URL ↔ state, drill-down, live refresh, pages."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import coverage_page, figures, incident_panel, layout
from dashboard.data import RECENT_MINUTES, ROAD_LEVELS, DashboardData, hex_resolution
from dashboard.i18n import category_label, status_label, t
from dashboard.queries import CHILD, LEVELS
from pipelines.masking import mask_phone

VIEW_KEYS = ("map.center", "map.zoom", "map.bearing", "map.pitch")
RANK_WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
LEVEL_NAMES = {
    "city": ("全市", "City"),
    "district": ("区", "District"),
    "street": ("街道", "Street"),
    "community": ("社区", "Community"),
    "grid": ("网格", "Grid"),
}


def _lang(search: str | None) -> str:
    return layout.parse_query(search)["lang"]


def _unit(unit: dict | None, data: DashboardData) -> tuple[str, str | None]:
    if unit and unit.get("level") in LEVELS:
        return unit["level"], unit.get("code")
    return data.home()


def _fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{value:,.{digits}f}"


def register(app: Dash, data: DashboardData, tile_url: str | None, gate=None) -> None:
    @app.callback(
        Output("page", "children"),
        Output("root", "className"),
        Output("title", "children"),
        Output("nav", "children"),
        Output("lang-switch", "children"),
        Output("lang-switch", "href"),
        Output("unit", "data"),
        Output("tour-tick", "disabled"),
        Output("user", "children"),
        Input("url", "pathname"),
        State("url", "search"),
    )
    def render(pathname, search):
        state = layout.parse_query(search)
        lang = state["lang"]
        path = pathname if pathname in layout.PAGES else "/"
        level, code = (state["level"], state["code"]) if state["level"] in LEVELS else data.home()
        # Every page is in the layout (callbacks need their components to exist); only the current one shows.
        page = [
            html.Div(layout.command_page(state), className=_shown(path == "/")),
            html.Div(layout.leader_page(state), className=_shown(path == "/leader")),
            html.Div(layout.playback_page(state, data.latest_day().isoformat()), className=_shown(path == "/playback")),
            html.Div(
                coverage_page.page(state, data.coverage_types()["type"].tolist()),
                className=_shown(path == coverage_page.PATH),
            ),
        ]
        wall = state["screen"] == "wall"
        root = "gt-root gt-wall" if wall else "gt-root"
        query = layout.build_query({**state, "lang": None})
        nav = [
            dcc.Link(t(label, lang), href=p + query, className="gt-nav-link" + (" active" if p == path else ""))
            for p, label in layout.PAGES.items()
        ]
        other = "en" if lang == "zh" else "zh"
        switch = path + layout.build_query({**state, "lang": other})
        return (
            page,
            root,
            t("title", lang),
            nav,
            t("language", lang),
            switch,
            {"level": level, "code": code},
            not (wall and state["tour"] == "1"),
            _user_badge(lang),
        )

    coverage_page.register(app, data, tile_url, lambda unit: _unit(unit, data), _page_query)
    if gate is not None:
        incident_panel.register(app, data, gate, _lang)

    @app.callback(
        Output("version", "data"),
        Output("clock", "children"),
        Input("poll", "n_intervals"),
        State("version", "data"),
    )
    def poll(_, known):
        current = data.version()
        clock = data.clock().strftime("%Y-%m-%d %H:%M:%S")
        return (current if current != known else no_update), clock

    @app.callback(Output("crumbs", "children"), Input("unit", "data"), State("url", "search"))
    def crumbs(unit, search):
        lang = _lang(search)
        level, code = _unit(unit, data)
        items = []
        trail = data.breadcrumb(level, code)
        for i, (lvl, c, name) in enumerate(trail):
            label = name or t("city", lang)
            if i:
                items.append(html.Span("›", className="gt-crumb-sep"))
            items.append(
                html.Button(
                    label,
                    id={"type": "crumb", "level": lvl, "code": c or ""},
                    className="gt-crumb" + (" current" if i == len(trail) - 1 else ""),
                    title=LEVEL_NAMES[lvl][1 if lang == "en" else 0],
                )
            )
        return items

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("map", "clickData"),
        Input({"type": "crumb", "level": ALL, "code": ALL}, "n_clicks"),
        Input("tour-tick", "n_intervals"),
        State("unit", "data"),
        prevent_initial_call=True,
    )
    def drill(click, crumb_clicks, tour, unit):
        level, code = _unit(unit, data)
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == "crumb":
            if not any(crumb_clicks):
                raise PreventUpdate
            return {"level": trigger["level"], "code": trigger["code"] or None}
        if trigger == "tour-tick":
            return _next_tour_stop(data, level, code)
        if trigger == "map" and click:
            point = click["points"][0]
            custom = point.get("customdata")
            child = CHILD[level]
            if not custom or len(custom) < 3 or custom[2] != "unit" or child == "building":
                raise PreventUpdate
            return {"level": child, "code": custom[0]}
        raise PreventUpdate

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("unit", "data"),
        Input("layers", "value"),
        Input("indicator", "value"),
        Input("window", "value"),
        Input("custom-range", "start_date"),
        Input("custom-range", "end_date"),
        State("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def sync_command_url(unit, layers_value, indicator, window, start, end, search, pathname):
        values = {"layers": layers_value or [], "ind": indicator, "window": window, "from": start, "to": end}
        return _page_query(pathname, "/", search, unit, values)

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("unit", "data"),
        Input("rank-level", "value"),
        Input("rank-window", "value"),
        State("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def sync_leader_url(unit, rank, window, search, pathname):
        return _page_query(pathname, "/leader", search, unit, {"rank": rank, "window": window})

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("unit", "data"),
        Input("pb-day", "date"),
        Input("pb-mode", "value"),
        State("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def sync_playback_url(unit, day, mode, search, pathname):
        return _page_query(pathname, "/playback", search, unit, {"day": day, "mode": mode})

    # --- command center ---------------------------------------------------------
    @app.callback(
        Output("map-view", "data"),
        Input("map", "relayoutData"),
        State("unit", "data"),
        State("map-view", "data"),
        prevent_initial_call=True,
    )
    def remember_view(relayout, unit, view):
        """The operator's pan and zoom for the current unit, re-applied to every redraw of that unit."""
        level, code = _unit(unit, data)
        keys = {k.split(".", 1)[1]: v for k, v in (relayout or {}).items() if k in VIEW_KEYS}
        if not keys:
            raise PreventUpdate
        same = view and view.get("unit") == [level, code]
        return {"unit": [level, code], **(view if same else {}), **keys}

    @app.callback(
        Output("map", "figure"),
        Output("map-meta", "data"),
        Input("unit", "data"),
        Input("layers", "value"),
        Input("indicator", "value"),
        Input("window", "value"),
        Input("custom-range", "start_date"),
        Input("custom-range", "end_date"),
        Input("version", "data"),
        Input("map-view", "data"),
        State("map-meta", "data"),
        State("url", "search"),
        State("url", "pathname"),
    )
    def update_map(unit, layers_value, indicator, window, start, end, _version, view, meta, search, pathname):
        if not _on(pathname, "/"):
            raise PreventUpdate
        level, code = _unit(unit, data)
        view = view if view and view.get("unit") == [level, code] else {}
        res = hex_resolution(view.get("zoom", data.children(level, code)["zoom"]))
        if ctx.triggered_id == "map-view" and meta and meta.get("res") == res:
            raise PreventUpdate  # a pan, or a zoom within the same hexagon size: the browser already shows it
        fig = build_command_map(
            data, tile_url, level, code, layers_value or [], indicator, window, (start, end), res, _lang(search)
        )
        fig["layout"]["map"].update({k: v for k, v in view.items() if k != "unit"})
        return fig, {"unit": [level, code], "res": res}

    @app.callback(
        Output("kpis", "children"),
        Output("ticker", "children"),
        Output("category-chart", "figure"),
        Output("trend-chart", "figure"),
        Output("detail", "children"),
        Input("unit", "data"),
        Input("window", "value"),
        Input("custom-range", "start_date"),
        Input("custom-range", "end_date"),
        Input("version", "data"),
        State("url", "search"),
        State("url", "pathname"),
    )
    def update_side(unit, window, start, end, _version, search, pathname):
        if not _on(pathname, "/"):
            raise PreventUpdate
        level, code = _unit(unit, data)
        return build_side(data, level, code, window, (start, end), _lang(search))

    # --- leader view -------------------------------------------------------------
    @app.callback(
        Output("rank-table", "data"),
        Input("unit", "data"),
        Input("rank-level", "value"),
        Input("rank-window", "value"),
        Input("version", "data"),
        State("url", "pathname"),
    )
    def update_ranking(unit, child, window, _version, pathname):
        if not _on(pathname, "/leader"):
            raise PreventUpdate
        level, code = _unit(unit, data)
        since = data.clock() - RANK_WINDOWS.get(window, RANK_WINDOWS["7d"])
        return data.ranking(level, code, child, since).to_dict("records")

    @app.callback(
        Output("download", "data"),
        Input("export-csv", "n_clicks"),
        Input("export-xlsx", "n_clicks"),
        State("rank-table", "data"),
        State("rank-level", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, rows, child, search):
        lang = _lang(search)
        frame = pd.DataFrame(rows or [], columns=[key for key, _ in layout.RANK_COLUMNS])
        frame.columns = [t(label, lang) for _, label in layout.RANK_COLUMNS]
        stamp = data.clock().strftime("%Y%m%d-%H%M")
        name = f"gridtwin-{child}-{stamp}"
        if ctx.triggered_id == "export-xlsx":
            buffer = io.BytesIO()
            frame.to_excel(buffer, index=False, sheet_name=child)
            return dcc.send_bytes(buffer.getvalue(), f"{name}.xlsx")
        return dcc.send_string(frame.to_csv(index=False), f"{name}.csv", type="text/csv;charset=utf-8")

    # --- playback ----------------------------------------------------------------
    @app.callback(
        Output("pb-data", "data"),
        Output("pb-slider", "max"),
        Output("pb-slider", "value"),
        Output("pb-slider", "marks"),
        Input("unit", "data"),
        Input("pb-day", "date"),
        Input("pb-mode", "value"),
        State("url", "pathname"),
    )
    def load_playback(unit, day, mode, pathname):
        if not _on(pathname, "/playback"):
            raise PreventUpdate
        level, code = _unit(unit, data)
        start = dt.datetime.fromisoformat((day or data.latest_day().isoformat())[:10])
        steps = 24 * (7 if mode == "week" else 1)
        if mode == "week":
            start -= dt.timedelta(days=6)
        res = hex_resolution(data.children(level, code)["zoom"]) + 1
        frame = data.playback(level, code, res, start, start + dt.timedelta(hours=steps))
        frame["cell"] = [format(int(c), "x") for c in frame["cell"]]  # JSON numbers cannot hold 64-bit cells
        every = 24 if mode == "week" else 3
        marks = {
            i: (start + dt.timedelta(hours=i)).strftime("%m-%d" if mode == "week" else "%H:00")
            for i in range(0, steps, every)
        }
        payload = {"start": start.isoformat(), "steps": steps, "res": res, "rows": frame.to_dict("list")}
        return payload, steps - 1, 0, marks

    @app.callback(
        Output("pb-map", "figure"),
        Output("pb-label", "children"),
        Input("pb-slider", "value"),
        Input("pb-data", "data"),
        State("unit", "data"),
        State("url", "search"),
    )
    def show_playback(step, payload, unit, search):
        if not payload:
            raise PreventUpdate
        lang = _lang(search)
        level, code = _unit(unit, data)
        rows = pd.DataFrame(payload["rows"])
        frame = rows[rows["step"] == (step or 0)] if len(rows) else rows
        located = _cell_centres(frame)
        children = data.children(level, code)
        fig = figures.playback_map(
            lang=lang,
            frame=located,
            children=children,
            outline_layers=figures.outline_layer(figures.child_outlines(children), "#6fb7ff", 1.0),
            tile_url=tile_url,
            level=level,
            uirevision=f"pb:{level}:{code}",
        )
        at = dt.datetime.fromisoformat(payload["start"]) + dt.timedelta(hours=step or 0)
        label = f"{t('playback_at', lang)} {at:%Y-%m-%d %H:00} · {int(located['n'].sum()) if len(located) else 0} " + t(
            "incidents_in_hour", lang
        )
        return fig, label

    @app.callback(
        Output("pb-tick", "disabled"),
        Output("pb-play", "children"),
        Input("pb-play", "n_clicks"),
        State("url", "search"),
    )
    def toggle_play(clicks, search):
        lang = _lang(search)
        playing = bool(clicks) and clicks % 2 == 1
        return not playing, t("pause" if playing else "play", lang)

    @app.callback(
        Output("pb-slider", "value", allow_duplicate=True),
        Input("pb-tick", "n_intervals"),
        State("pb-slider", "value"),
        State("pb-slider", "max"),
        prevent_initial_call=True,
    )
    def advance(_, value, maximum):
        return 0 if (value or 0) >= (maximum or 0) else (value or 0) + 1


def _user_badge(lang: str):
    import flask

    user = flask.session.get("user")
    if not user:
        return None
    return [f"{user} · {flask.session.get('role')}", html.A(t("logout", lang), href="/logout")]


def _shown(active: bool) -> str:
    return "gt-page-slot" if active else "gt-page-slot gt-hidden"


def _on(pathname: str | None, page: str) -> bool:
    return (pathname if pathname in layout.PAGES else "/") == page


def _page_query(pathname: str | None, page: str, search: str | None, unit: dict | None, values: dict):
    """The URL query for a page's current unit and controls (no update when unchanged or on another page)."""
    if not _on(pathname, page):
        raise PreventUpdate
    state = layout.parse_query(search)
    state.update(level=(unit or {}).get("level"), code=(unit or {}).get("code"), **values)
    query = layout.build_query(state)
    return no_update if (query or "") == (search or "") else query


def _next_tour_stop(data: DashboardData, level: str, code: str | None) -> dict:
    home_level, home_code = data.home()
    streets = data.children(home_level, home_code)["frame"]["code"].tolist() if home_level == "district" else []
    if not streets:
        districts = data.children("city", None)["frame"]["code"].tolist()
        return (
            {"level": "district", "code": districts[(districts.index(code) + 1) % len(districts)]}
            if (level == "district" and code in districts)
            else {"level": "district", "code": districts[0]}
        )
    nxt = streets[(streets.index(code) + 1) % len(streets)] if level == "street" and code in streets else streets[0]
    return {"level": "street", "code": nxt}


def _cell_centres(frame: pd.DataFrame) -> pd.DataFrame:
    import numpy as np
    import shapely

    from geo.shapes import hexagons

    if not len(frame):
        return pd.DataFrame({"lon": [], "lat": [], "n": []})
    cells = np.array([int(c, 16) for c in frame["cell"]], dtype=np.uint64)
    centres = shapely.centroid(hexagons(cells))
    return pd.DataFrame({"lon": shapely.get_x(centres), "lat": shapely.get_y(centres), "n": frame["n"].to_numpy()})


def build_command_map(data, tile_url, level, code, layers_value, indicator, window, custom, res, lang):
    """The command-center map for one unit (also used by the benchmark)."""
    children = data.children(level, code)
    since, until = data.window_bounds(window, custom)
    if level == "grid":
        indicators = children["frame"].assign(kind="building")
    else:
        indicators = data.indicators(level, code, since).assign(kind="unit")
    cells = data.cells(level, code, res, since, until) if {"heat", "hex"} & set(layers_value) else None
    roads = data.roads(children["bounds"]) if "roads" in layers_value and level in ROAD_LEVELS else None
    extra = []
    if "buildings" in layers_value and level == "community":
        extra.append(figures.building_layer(data.buildings(level, code)))
    if children["outline"] is not None:
        extra += figures.outline_layer(children["outline"], "#28c2ff", 2.5)
    return figures.command_map(
        lang=lang,
        level=level,
        children=children,
        indicators=indicators,
        indicator=indicator,
        layers=layers_value,
        cells=cells,
        facilities=data.facilities(level, code) if "facilities" in layers_value else None,
        recent=data.recent(level, code),
        roads=roads,
        outline_layers=extra,
        tile_url=tile_url,
        uirevision=f"{level}:{code}",
    )


def build_side(data: DashboardData, level: str, code: str | None, window: str, custom, lang: str) -> tuple:
    """KPI tiles, ticker, category and trend charts, grid detail (also used by the benchmark)."""
    since, _ = data.window_bounds(window, custom)
    panels = data.side_panels(level, code, since)
    return (
        kpi_tiles(panels["kpis"], lang),
        ticker_lists(data, panels["newest"], panels["overdue"], lang),
        figures.category_bars(panels["categories"], lang),
        figures.trend_lines(panels["trend"], lang),
        grid_panel(panels["grid"], lang) if level == "grid" else None,
    )


def kpi_tiles(values: dict, lang: str) -> list:
    return [
        layout.kpi_tile("reported", t("reported_today", lang), _fmt(values["reported_today"])),
        layout.kpi_tile("resolved", t("resolved_today", lang), _fmt(values["resolved_today"])),
        layout.kpi_tile("closure", t("closure_rate", lang), _fmt(values["closure_rate"], 1), "%"),
        layout.kpi_tile("overdue", t("overdue", lang), _fmt(values["overdue"]), alert=bool(values["overdue"])),
        layout.kpi_tile("handling", t("handling_h", lang), _fmt(values["handling_h"], 1), t("hours", lang)),
        layout.kpi_tile("satisfaction", t("satisfaction", lang), _fmt(values["satisfaction"], 2), t("points", lang)),
    ]


def ticker_lists(data: DashboardData, newest: pd.DataFrame, overdue: pd.DataFrame, lang: str) -> list:
    now = data.clock()
    fresh = now - dt.timedelta(minutes=RECENT_MINUTES)

    def item(row, late: bool):
        is_new = not late and row.reported_at >= fresh
        when = f"{row.reported_at:%H:%M}" if not late else _overdue_text(now - row.due_at, lang)
        return html.Li(
            className="gt-tick" + (" gt-new" if is_new else "") + (" gt-late" if late else ""),
            id={"type": "incident-link", "id": row.incident_id, "list": "late" if late else "new"},
            n_clicks=0,
            title=t("click_incident", lang),
            **{"data-id": row.incident_id},
            children=[
                html.Span(t("new", lang), className="gt-badge") if is_new else None,
                html.Span(when, className="gt-tick-time"),
                html.Span(category_label(row.category, lang), className="gt-tick-cat"),
                html.Span(f"{row.community or ''} · {row.grid or ''}", className="gt-tick-where"),
                html.Span(status_label(row.status, lang), className=f"gt-status gt-status-{row.status}"),
                html.Span(row.incident_id, className="gt-tick-id"),
            ],
        )

    return [
        html.H3(t("newest", lang)),
        html.Ul([item(r, False) for r in newest.itertuples()], className="gt-tick-list", id="ticker-newest"),
        html.H3(t("overdue_list", lang)),
        html.Ul([item(r, True) for r in overdue.itertuples()], className="gt-tick-list", id="ticker-overdue"),
    ]


def _overdue_text(delta: dt.timedelta, lang: str) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 24:
        return f"超{hours // 24}天" if lang == "zh" else f"+{hours // 24}d"
    return f"超{hours}时" if lang == "zh" else f"+{hours}h"


def grid_panel(detail: tuple, lang: str):
    grid, workers, incidents = detail
    if grid.empty:
        return None
    g = grid.iloc[0]
    facts = [
        (t("population", lang), _fmt(g["population"])),
        (t("households", lang), _fmt(g["households"])),
        (t("buildings", lang), _fmt(g["buildings"])),
    ]
    return [
        html.H3(f"{t('grid_detail', lang)} · {g['name']}"),
        html.Div([html.Div([html.Small(k), html.B(v)], className="gt-fact") for k, v in facts], className="gt-facts"),
        html.H4(t("workers", lang)),
        html.Ul(
            [html.Li(f"{w.role} {w.name} {mask_phone(w.phone)}", className="gt-worker") for w in workers.itertuples()],
            className="gt-workers",
        ),
        html.H4(f"{t('open_incidents', lang)} ({len(incidents)})"),
        html.Ul(
            [
                html.Li(
                    f"{r.reported_at:%m-%d %H:%M} {r.category} {status_label(r.status, lang)}"
                    + (" ⚠" if r.overdue else ""),
                    className="gt-late" if r.overdue else None,
                    id={"type": "incident-link", "id": r.incident_id, "list": "grid"},
                    n_clicks=0,
                )
                for r in incidents.itertuples()
            ]
            or [html.Li(t("no_open", lang))],
            className="gt-open-list",
        ),
    ]
