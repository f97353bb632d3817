"""The pages of the dashboard (Dash Pages): each module registers its path, builds ``layout(**query)``
from the URL query, and exposes ``register_callbacks(app, context)`` which the app factory calls.

Dash imports these modules itself when an app is created (``use_pages=True``); nothing here loads data
at import time.  Callbacks are thin: parse inputs, call the page's view model (:mod:`dashboard.views`),
return.  Ids are prefixed by page (``command-map``, ``leader-ranking``, ``coverage-map`` …).
"""

from __future__ import annotations

from typing import NamedTuple

import flask


class PageContext(NamedTuple):
    """What a page's callbacks and layout need: the models (``data.db`` is the one write path) and the map tiles."""

    data: object  # dashboard.data.DashboardData
    tile_url: str | None


EXTENSION = "gridtwin"


def current() -> PageContext:
    """The context of the app serving this request (a layout is built inside a request)."""
    return flask.current_app.extensions[EXTENSION]
