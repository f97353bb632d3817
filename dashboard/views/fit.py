"""A unit's map view fitted to the map's real size on the page (the browser reports it, ``viewport``)."""

from __future__ import annotations

import math

from geo.shapes import bounds_view

COLOUR_BAR_PX = 150
"""About the width a map's colour bar and its title take from the map (plotly places it beside the map)."""


def fitted(children: dict, viewport: dict | None, pitch: float = 0.0) -> dict:
    """The unit's children with the centre and zoom that fit its bounds into the map's real size.

    A tilted camera sees more ground towards the horizon: the zoom steps back by log2(1/cos(pitch)) / 1.5.
    """
    width, height = (viewport or {}).get("width") or 0, (viewport or {}).get("height") or 0
    if width < 50 or height < 50:
        return children
    width -= min(COLOUR_BAR_PX, width / 4)  # plotly narrows the map to make room for its colour bar
    centre, zoom = bounds_view(children["bounds"], int(width), int(height))
    zoom -= math.log2(1 / math.cos(math.radians(min(pitch, 60)))) / 1.5
    return {**children, "centre": centre, "zoom": zoom}
