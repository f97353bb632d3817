"""The Dash app factory: ``create_app(db_path)`` gives a fresh app on a database file.

The app is a shell (:mod:`dashboard.components.shell`) around Dash Pages (:mod:`dashboard.pages`);
each page's callbacks are registered here on this app, over this app's models, so every call gives an
independent app and nothing is loaded at import time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Callable
from pathlib import Path

from dash import Dash

from dashboard import api, bundles, callback_guard, security, server
from dashboard.components import shell
from dashboard.data import DashboardData
from dashboard.pages import EXTENSION, PageContext

POLL_MS = 1500
"""How often an open page checks the change counter (the live-update budget is 3 s)."""
PAGE_MODULES = ("command", "leader", "playback", "coverage", "party", "quality")
HERE = Path(__file__).parent

INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def create_app(
    db_path: str | Path,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    tile_url: str | None = None,
    poll_ms: int = POLL_MS,
    live_feed: bool = False,
    feed_interval_s: float = 4.0,
    require_login: bool = True,
    settings: security.Settings | None = None,
) -> Dash:
    """A Dash app serving the database at ``db_path``.

    The app's process owns the database file for writing.  ``tile_url`` is an
    optional XYZ tile template (an intranet server, or 天地图 with a key);
    without it the map draws only its own layers.  ``live_feed`` starts the
    demo's simulated incident stream.  The same server answers the HTTP API
    (:mod:`dashboard.api`); ``require_login`` puts the dashboard behind /login.
    ``settings`` are the server's limits and cookie options (default: from the environment).
    """
    data = DashboardData(db_path, clock=clock)
    app = Dash(
        "dashboard",
        title="一网统管 · 全息网格地图",
        assets_folder=str(HERE / "assets"),
        assets_path_ignore=["vendor"],  # plotly.js: preloaded and run by dcc.Graph (dashboard.bundles)
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        serve_locally=True,
        update_title=None,
    )
    app.index_string = bundles.index(INDEX, app.config.requests_pathname_prefix)
    app.layout = shell.shell(poll_ms)
    app.gridtwin_data = data
    app.gridtwin_gate = api.register(app.server, data, require_login=require_login)
    context = PageContext(data, tile_url)
    app.server.extensions[EXTENSION] = context
    shell.register_callbacks(app, data)
    for name in PAGE_MODULES:
        importlib.import_module(f"dashboard.pages.{name}").register_callbacks(app, context)
    callback_guard.install(app.server)
    server.install_compression(app.server)
    # the CSP hashes are read per reply: they must cover the clientside callbacks Dash Pages adds later
    security.install(app.server, data.db, settings or security.Settings.from_env(), app.csp_hashes, tile_url)
    gate = app.gridtwin_gate
    bundles.set_up(app)
    # data.warm() last: it sets data.warmed, which the server's stop waits for before closing the database (closing
    # it under the area read of gate.warm() would abort the process), and which says the server is fully warm
    threading.Thread(
        target=lambda: (bundles.warm(app), gate.warm(), data.warm()),
        name="gridtwin-warm-caches",
        daemon=True,
    ).start()
    app.gridtwin_feed = None
    if live_feed:
        from pipelines.incidents.simulate import LiveFeed, Simulator

        feed = LiveFeed(Simulator(data.db, clock=data.clock), feed_interval_s)
        feed.start()
        app.gridtwin_feed = feed
    return app
