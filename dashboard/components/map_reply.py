"""The command map's reply — figure and meta — built the same way by the map callback and by the
page's layout, so the first figure ships with the page instead of a callback round trip after it loads.

The server fits each unit to the map's real size, which only the browser knows: ``assets/map.js`` keeps
the size it measured (and the screen width the chart text follows) in a cookie, and a page built for that
size carries its figure.  A browser without the cookie (its first visit) gets the map by the callback.
"""

from __future__ import annotations

import json

from dashboard.views import command as view

VIEWPORT_COOKIE = "gt_viewport"
"""``WIDTHxHEIGHTxSCREEN``: the map element's CSS size and the window width in 160 px steps (map.js)."""
MAX_PX = 20_000


def remembered_screen(cookies, wall: bool) -> tuple[dict | None, dict | None]:
    """The map's size ({width, height}) and the screen ({wall, width}) this browser reported last, or Nones."""
    parts = str(cookies.get(VIEWPORT_COOKIE, "")).split("x")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 5 for p in parts):
        return None, None
    width, height, screen_width = (int(p) for p in parts)
    if not (50 <= width <= MAX_PX and 50 <= height <= MAX_PX and 0 <= screen_width <= MAX_PX):
        return None, None
    return {"width": width, "height": height}, {"wall": wall, "width": screen_width}


def signature(unit: tuple, controls: tuple, version, known, viewport, screen) -> str:
    """What a map reply depends on: the same signature, the same figure (the callback then sends nothing)."""
    return json.dumps([list(unit), list(controls), version, known, viewport, screen], sort_keys=True, default=str)


def map_reply(data, tile_url, unit: tuple, controls: tuple, version, known, viewport, screen, state) -> tuple:
    """(figure, meta) of the command map; ``controls`` are (layers, indicator, window, start, end).

    The figure's style is complete (every scene layer, even empty): the browser takes the scene's data out
    of it before plotly.js draws it, so plotly sees one style for every unit (assets/map.js, ``hookReact``).
    """
    level, code = unit
    layers, indicator, window, start, end = controls
    remembered, res = view.map_resolution(data, level, code, known, viewport)
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
    meta = {
        "unit": [level, code],
        "res": res,
        "version": version,
        "sig": signature(unit, controls, version, known, viewport, screen),
    }
    return fig, meta
