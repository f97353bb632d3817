"""The Dash app factory: ``create_app(db_path)`` gives a fresh app on a database file."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from dash import Dash

from dashboard import api, callbacks, layout, security
from dashboard.data import DashboardData

POLL_MS = 1500
"""How often an open page checks the change counter (the live-update budget is 3 s)."""

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
        __name__,
        title="一网统管 · 全息网格地图",
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
        serve_locally=True,
        update_title=None,
    )
    app.index_string = INDEX
    app.layout = layout.shell(poll_ms)
    app.gridtwin_data = data
    app.gridtwin_gate = api.register(app.server, data, require_login=require_login)
    callbacks.register(app, data, tile_url, app.gridtwin_gate)
    security.install(app.server, data.db, settings or security.Settings.from_env(), app.csp_hashes(), tile_url)
    threading.Thread(target=data.warm, name="gridtwin-warm-caches", daemon=True).start()
    app.gridtwin_feed = None
    if live_feed:
        from pipelines.incidents.simulate import LiveFeed, Simulator

        feed = LiveFeed(Simulator(data.db, clock=data.clock), feed_interval_s)
        feed.start()
        app.gridtwin_feed = feed
    return app
