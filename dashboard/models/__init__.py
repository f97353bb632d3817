"""The dashboard's models over the one shared connection (see :class:`dashboard.data.DashboardData`).

- :mod:`~dashboard.models.shapes`: the shape cache — outlines, roads index, buildings, names, the hierarchy;
- :mod:`~dashboard.models.live`: the live-panel model — KPIs, ticker, side panels, map data, ranking, playback;
- :mod:`~dashboard.models.unit_rows`: a unit's incidents kept in memory and the figures cut from them;
- :mod:`~dashboard.models.planner`: the coverage planner — runs, access cells, what-if, suggested sites.

They read through :mod:`dashboard.queries` and the store; they return frames and GeoJSON, never components.
"""

from __future__ import annotations


def hex_resolution(zoom: float) -> int:
    """H3 resolution whose hexagons read well at a map zoom level."""
    return int(min(11, max(6, round(zoom) - 3)))
