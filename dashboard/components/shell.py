"""The app shell around every page: header (title, nav, breadcrumb, clock, user badge, language switch),
the current unit, the change counter, and the page container of Dash Pages.

The unit (level, code) is shared by all pages: the breadcrumb shows it and every page follows it.  A page
writes its state to the ``query`` store and a clientside callback pushes it to the address bar with
``history.pushState`` (a ``dcc.Location`` would make Dash Pages render the page again on every change).
"""

from __future__ import annotations

import dash
import flask
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.urls import PAGES, build_query, lang_of, page_query, parse_query
from dashboard.i18n import t
from dashboard.queries import LEVELS

PUSH_URL = """
function (query) {
    if (query === null || query === undefined) { return window.dash_clientside.no_update; }
    if (query !== window.location.search) {
        window.history.pushState(null, "", window.location.pathname + query);
    }
    return window.dash_clientside.no_update;
}
"""


def shell(poll_ms: int) -> html.Div:
    return html.Div(
        id="root",
        className="gt-root",
        children=[
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="unit"),
            dcc.Store(id="query"),
            dcc.Store(id="query-pushed"),
            dcc.Store(id="version", data=-1),
            dcc.Interval(id="poll", interval=poll_ms),
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
            html.Main(dash.page_container, className="gt-page"),
        ],
    )


def unit_of(unit: dict | None, shapes) -> tuple[str, str | None]:
    """The (level, code) in the ``unit`` store, or the top unit."""
    if unit and unit.get("level") in LEVELS:
        return unit["level"], unit.get("code")
    return shapes.home()


def user_badge(lang: str):
    user = flask.session.get("user")
    if not user:
        return None
    return [f"{user} · {flask.session.get('role')}", html.A(t("logout", lang), href="/logout")]


def breadcrumb(trail: list[tuple[str, str | None, str | None]], lang: str) -> list:
    """Buttons from the top unit down to the current one; clicking one goes back up."""
    items = []
    for i, (level, code, name) in enumerate(trail):
        if i:
            items.append(html.Span("›", className="gt-crumb-sep"))
        items.append(
            html.Button(
                name or t("city", lang),
                id={"type": "crumb", "level": level, "code": code or ""},
                className="gt-crumb" + (" current" if i == len(trail) - 1 else ""),
                title=f"{t(f'level_{level}', lang)} · {name or t('city', lang)}",  # the whole name, if cut
            )
        )
    return items


def frame(path: str, search: str | None) -> tuple:
    """Root class, title, nav links and the language switch for a path and query."""
    state = parse_query(search)
    lang = state["lang"]
    root = "gt-root gt-wall" if state["screen"] == "wall" else "gt-root"
    query = build_query({**state, "lang": None})
    nav = [
        dcc.Link(t(label, lang), href=p + query, className="gt-nav-link" + (" active" if p == path else ""))
        for p, label in PAGES.items()
    ]
    switch = path + build_query({**state, "lang": "en" if lang == "zh" else "zh"})
    return root, t("title", lang), nav, t("language", lang), switch


def page_stores(page: str) -> list:
    """The page's copies of the shell's unit and change counter (a page callback reads only its own page)."""
    return [dcc.Store(id=f"{page}-unit"), dcc.Store(id=f"{page}-version")]


def map_size_store(page: str) -> dcc.Store:
    """Where the page's map (``{page}-map``) reports its real size on screen: :func:`report_map_size`."""
    return dcc.Store(id=f"{page}-viewport")


def report_map_size(app: Dash, page: str) -> None:
    """Fill ``{page}-viewport`` with the size of ``{page}-map`` once it is drawn (``assets/map.js``), so the server
    fits each unit's view to the map as it is (``dashboard.views.fit``)."""
    app.clientside_callback(
        ClientsideFunction("gridtwin_map", "viewport"), Output(f"{page}-viewport", "data"), Input(f"{page}-map", "id")
    )


def mirror(app: Dash, page: str) -> None:
    """Copy the shell's unit and change counter into the page's stores.

    Dash refuses a callback whose inputs are partly on the screen: a page callback listening to the
    shell's ``unit`` and to its own controls would fail on every other page.  These copies run only
    while the page is shown (their outputs exist only then).
    """
    for name in ("unit", "version"):
        app.clientside_callback(
            "function (value) { return value; }", Output(f"{page}-{name}", "data"), Input(name, "data")
        )


def sync_query(app: Dash, page: str, controls: dict[str, tuple[str, str]]) -> None:
    """Write the page's unit and controls (query key → (component id, property)) to the shared ``query``
    store, which a browser-side callback pushes to the address bar, so the URL stays the page's state."""
    keys = list(controls)

    @app.callback(
        Output("query", "data", allow_duplicate=True),
        Input(f"{page}-unit", "data"),
        *(Input(component, prop) for component, prop in controls.values()),
        State("query", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def sync_url(unit, *args):
        *values, query = args
        return page_query(query, unit, dict(zip(keys, values, strict=True))) or no_update


def register_callbacks(app: Dash, data) -> None:
    shapes = data.shapes

    @app.callback(
        Output("unit", "data"),
        Output("query", "data"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def enter(_pathname, search):
        """A navigation (a link, a bookmark, the back button): the unit and query come from the URL."""
        state = parse_query(search)
        level, code = (state["level"], state["code"]) if state["level"] in LEVELS else shapes.home()
        return {"level": level, "code": code}, search or ""

    @app.callback(
        Output("root", "className"),
        Output("title", "children"),
        Output("nav", "children"),
        Output("lang-switch", "children"),
        Output("lang-switch", "href"),
        Output("user", "children"),
        Input("url", "pathname"),
        Input("query", "data"),
    )
    def header(pathname, query):
        path = pathname if pathname in PAGES else "/"
        return (*frame(path, query), user_badge(lang_of(query)))

    app.clientside_callback(PUSH_URL, Output("query-pushed", "data"), Input("query", "data"))

    @app.callback(
        Output("version", "data"),
        Output("clock", "children"),
        Input("poll", "n_intervals"),
        State("version", "data"),
    )
    def poll(_, known):
        current = data.live.version()
        return (current if current != known else no_update), data.clock().strftime("%Y-%m-%d %H:%M:%S")

    @app.callback(Output("crumbs", "children"), Input("unit", "data"), State("url", "search"))
    def crumbs(unit, search):
        return breadcrumb(shapes.breadcrumb(*unit_of(unit, shapes)), lang_of(search))

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input({"type": "crumb", "level": ALL, "code": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def crumb_clicked(clicks):
        if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        return {"level": ctx.triggered_id["level"], "code": ctx.triggered_id["code"] or None}
