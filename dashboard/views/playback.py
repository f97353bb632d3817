"""Playback's view model: a day or a week of incidents per hexagon per hour, and the map of one hour."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from dashboard import figures
from dashboard.components.urls import parse_day
from dashboard.i18n import t
from dashboard.models import hex_resolution
from geo.shapes import hexagons

MODES = ("day", "week")


def load(data, level: str, code: str | None, day: str | None, mode: str) -> tuple[dict, int, dict]:
    """(payload for the browser, last step, slider marks) of a day or a week ending on ``day``."""
    start = dt.datetime.combine(parse_day(day) or data.live.latest_day(), dt.time())
    steps = 24 * (7 if mode == "week" else 1)
    if mode == "week":
        start -= dt.timedelta(days=6)
    res = hex_resolution(data.shapes.children(level, code)["zoom"]) + 1
    frame = data.live.playback(level, code, res, start, start + dt.timedelta(hours=steps))
    frame["cell"] = [format(int(c), "x") for c in frame["cell"]]  # JSON numbers cannot hold 64-bit cells
    every = 24 if mode == "week" else 3
    marks = {
        i: (start + dt.timedelta(hours=i)).strftime("%m-%d" if mode == "week" else "%H:00")
        for i in range(0, steps, every)
    }
    last = last_step(start, steps, data.live.clock())
    marks = {i: label for i, label in marks.items() if i <= last}
    payload = {"start": start.isoformat(), "steps": steps, "res": res, "rows": frame.to_dict("list")}
    return payload, last, marks


def last_step(start: dt.datetime, steps: int, now: dt.datetime) -> int:
    """The last hour to play: the hour of ``now`` when the day or week runs into the future (no empty hours)."""
    reached = int((now - start).total_seconds() // 3600)
    return max(0, min(steps - 1, reached))


def cell_centres(frame: pd.DataFrame) -> pd.DataFrame:
    if not len(frame):
        return pd.DataFrame({"lon": [], "lat": [], "n": []})
    cells = np.array([int(c, 16) for c in frame["cell"]], dtype=np.uint64)
    centres = shapely.centroid(hexagons(cells))
    return pd.DataFrame({"lon": shapely.get_x(centres), "lat": shapely.get_y(centres), "n": frame["n"].to_numpy()})


def hour_view(data, tile_url, level: str, code: str | None, payload: dict, step: int, lang: str) -> tuple:
    """(map figure, label) of one hour of the loaded payload."""
    rows = pd.DataFrame(payload["rows"])
    located = cell_centres(rows[rows["step"] == step] if len(rows) else rows)
    children = data.shapes.children(level, code)
    fig = figures.playback_map(
        lang=lang,
        frame=located,
        children=children,
        outline_layers=figures.outline_layer(figures.child_outlines(children), "#6fb7ff", 1.0),
        tile_url=tile_url,
        level=level,
        uirevision=f"pb:{level}:{code}",
    )
    at = dt.datetime.fromisoformat(payload["start"]) + dt.timedelta(hours=step)
    count = int(located["n"].sum()) if len(located) else 0
    label = f"{t('playback_at', lang)} {at:%Y-%m-%d %H:00} · {count} " + t("incidents_in_hour", lang)
    return fig, label
