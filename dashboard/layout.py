"""Page layouts.  The URL (path and query) is the whole state, so any screen can be bookmarked."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from dash import dash_table, dcc, html

from dashboard import incident_panel
from dashboard.i18n import t

PAGES = {"/": "page_command", "/leader": "page_leader", "/playback": "page_playback", "/coverage": "page_coverage"}
ALL_LAYERS = ("grids", "heat", "hex", "buildings", "facilities", "roads", "outlines")
DEFAULT_LAYERS = ("grids", "heat", "buildings", "roads", "outlines")
INDICATORS = ("window", "open", "overdue", "per_1000")
WINDOW_KEYS = ("1h", "24h", "7d", "custom")
DEFAULTS = {"window": "24h", "ind": "window", "lang": "zh", "screen": "", "tour": ""}


def parse_query(search: str | None) -> dict:
    """URL query → state dict with defaults; unknown values fall back to the defaults."""
    raw = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    state = {**DEFAULTS, **raw}
    state["level"] = raw.get("level")
    state["code"] = raw.get("code")
    if state["window"] not in WINDOW_KEYS:
        state["window"] = DEFAULTS["window"]
    if state["ind"] not in INDICATORS:
        state["ind"] = DEFAULTS["ind"]
    if state["lang"] not in ("zh", "en"):
        state["lang"] = "zh"
    layers = raw.get("layers")
    state["layers"] = [x for x in layers.split(",") if x in ALL_LAYERS] if layers is not None else list(DEFAULT_LAYERS)
    return state


def build_query(state: dict) -> str:
    items = {}
    for key in (
        "level",
        "code",
        "window",
        "ind",
        "from",
        "to",
        "lang",
        "screen",
        "tour",
        "rank",
        "day",
        "mode",
        "ftype",
    ):
        value = state.get(key)
        if value and value != DEFAULTS.get(key):
            items[key] = value
    if "layers" in state and tuple(state["layers"]) != DEFAULT_LAYERS:
        items["layers"] = ",".join(state["layers"])
    return "?" + urlencode(items) if items else ""


def shell(poll_ms: int) -> html.Div:
    return html.Div(
        id="root",
        className="gt-root",
        children=[
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="unit"),
            dcc.Store(id="version", data=-1),
            dcc.Store(id="map-meta"),
            dcc.Store(id="map-view"),
            dcc.Interval(id="poll", interval=poll_ms),
            dcc.Interval(id="tour-tick", interval=20_000, disabled=True),
            html.Header(
                className="gt-header",
                children=[
                    html.Div(id="title", className="gt-title"),
                    html.Nav(id="nav", className="gt-nav"),
                    html.Div(id="crumbs", className="gt-crumbs"),
                    html.Div(className="gt-live", children=[html.Span(className="gt-dot"), html.Span(id="clock")]),
                    html.Div(id="user", className="gt-user"),
                    html.A(id="lang-switch", className="gt-lang"),
                ],
            ),
            html.Main(id="page", className="gt-page"),
        ],
    )


def kpi_tile(key: str, label: str, value: str, unit: str = "", alert: bool = False) -> html.Div:
    return html.Div(
        className="gt-kpi" + (" gt-kpi-alert" if alert else ""),
        id=f"kpi-{key}",
        children=[
            html.Div(label, className="gt-kpi-label"),
            html.Div([value, html.Small(unit)], className="gt-kpi-value"),
        ],
    )


def command_page(state: dict) -> html.Div:
    lang = state["lang"]
    return html.Div(
        className="gt-command",
        children=[
            html.Section(
                className="gt-left",
                children=[
                    html.Div(id="kpis", className="gt-kpis"),
                    html.H3(t("by_category", lang)),
                    dcc.Graph(id="category-chart", config={"displayModeBar": False}, className="gt-chart"),
                ],
            ),
            html.Section(
                className="gt-center",
                children=[
                    html.Div(
                        className="gt-controls",
                        children=[
                            dcc.Checklist(
                                id="layers",
                                options=[{"label": t(f"layer_{k}", lang), "value": k} for k in ALL_LAYERS],
                                value=state["layers"],
                                inline=True,
                                className="gt-checklist",
                            ),
                            html.Label(t("indicator", lang)),
                            dcc.Dropdown(
                                id="indicator",
                                options=[{"label": t(f"ind_{k}", lang), "value": k} for k in INDICATORS],
                                value=state["ind"],
                                clearable=False,
                                className="gt-dropdown",
                            ),
                            dcc.RadioItems(
                                id="window",
                                options=[{"label": t(f"w_{k}", lang), "value": k} for k in WINDOW_KEYS],
                                value=state["window"],
                                inline=True,
                                className="gt-radio",
                            ),
                            dcc.DatePickerRange(
                                id="custom-range",
                                start_date=state.get("from"),
                                end_date=state.get("to"),
                                display_format="YYYY-MM-DD",
                                start_date_placeholder_text=t("since", lang),
                                end_date_placeholder_text=t("until", lang),
                                className="gt-dates",
                            ),
                        ],
                    ),
                    dcc.Graph(
                        id="map",
                        className="gt-map",
                        config={
                            "displaylogo": False,
                            "scrollZoom": True,
                            "modeBarButtonsToRemove": ["select", "lasso"],
                        },
                    ),
                    html.Div(t("click_hint", lang), className="gt-hint"),
                ],
            ),
            html.Section(
                className="gt-right",
                children=[
                    html.Div(id="ticker", className="gt-ticker"),
                    html.H3(t("trend", lang)),
                    dcc.Graph(id="trend-chart", config={"displayModeBar": False}, className="gt-chart"),
                    html.Div(id="detail", className="gt-detail"),
                    incident_panel.panel(),
                ],
            ),
        ],
    )


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

RANK_COLUMNS = (
    ("name", "col_name"),
    ("code", "col_code"),
    ("population", "population"),
    ("incidents", "col_incidents"),
    ("per_1000", "col_per_1000"),
    ("closure_rate", "col_closure"),
    ("overdue", "col_overdue"),
    ("handling_h", "col_handling"),
    ("satisfaction", "col_satisfaction"),
)


def leader_page(state: dict) -> html.Div:
    lang = state["lang"]
    return html.Div(
        className="gt-leader",
        children=[
            html.Div(
                className="gt-controls",
                children=[
                    dcc.RadioItems(
                        id="rank-level",
                        options=[
                            {"label": t("rank_streets", lang), "value": "street"},
                            {"label": t("rank_communities", lang), "value": "community"},
                        ],
                        value=state.get("rank") if state.get("rank") in ("street", "community") else "street",
                        inline=True,
                        className="gt-radio",
                    ),
                    dcc.RadioItems(
                        id="rank-window",
                        options=[{"label": t(f"w_{k}", lang), "value": k} for k in ("24h", "7d")]
                        + [{"label": "30天" if lang == "zh" else "30 days", "value": "30d"}],
                        value=state["window"] if state["window"] in ("24h", "7d", "30d") else "7d",
                        inline=True,
                        className="gt-radio",
                    ),
                    html.Button(t("export_csv", lang), id="export-csv", className="gt-button"),
                    html.Button(t("export_xlsx", lang), id="export-xlsx", className="gt-button"),
                    dcc.Download(id="download"),
                ],
            ),
            dash_table.DataTable(
                id="rank-table",
                columns=[{"name": t(label, lang), "id": key} for key, label in RANK_COLUMNS],
                sort_action="native",
                page_size=25,
                **TABLE_STYLE,
            ),
        ],
    )


def playback_page(state: dict, day: str) -> html.Div:
    lang = state["lang"]
    return html.Div(
        className="gt-playback",
        children=[
            html.Div(
                className="gt-controls",
                children=[
                    dcc.DatePickerSingle(id="pb-day", date=state.get("day") or day, display_format="YYYY-MM-DD"),
                    dcc.RadioItems(
                        id="pb-mode",
                        options=[
                            {"label": t("day", lang), "value": "day"},
                            {"label": t("week", lang), "value": "week"},
                        ],
                        value=state.get("mode") if state.get("mode") in ("day", "week") else "day",
                        inline=True,
                        className="gt-radio",
                    ),
                    html.Button(t("play", lang), id="pb-play", className="gt-button", n_clicks=0),
                    html.Span(id="pb-label", className="gt-pb-label"),
                ],
            ),
            dcc.Slider(id="pb-slider", min=0, max=23, step=1, value=0, marks=None, tooltip={"placement": "bottom"}),
            dcc.Interval(id="pb-tick", interval=900, disabled=True),
            dcc.Store(id="pb-data"),
            dcc.Graph(
                id="pb-map", className="gt-map gt-map-playback", config={"displaylogo": False, "scrollZoom": True}
            ),
        ],
    )
