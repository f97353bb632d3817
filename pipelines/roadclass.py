"""Which roads people walk on.

A road file's class column (``class``; recognised as ``highway``, ``fclass``, ``道路等级`` …) decides whether a
line joins the walking network.  By default every class walks except :data:`NOT_WALKABLE`: railways of every kind,
ferries, motorways and their ramps, urban expressways (快速路, grade-separated with no pavement), and lines that
are not (yet, or any more) built.  A line with no class walks.  ``gridtwin coverage --exclude-class X`` /
``--include-class X`` change the rule for one run; ``--all-roads`` turns it off.  All lines stay in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.store.roads import road_rows
from pipelines.store.rows import geometries

NOT_WALKABLE = frozenset(
    (
        # OpenStreetMap highway=* / Geofabrik fclass
        "motorway",
        "motorway_link",
        "proposed",
        "construction",
        "abandoned",
        "disused",
        "razed",
        "raceway",
        "bus_guideway",
        # OpenStreetMap railway=* and route=ferry (as the OSM reader writes them)
        "rail",
        "railway",
        "subway",
        "light_rail",
        "monorail",
        "narrow_gauge",
        "funicular",
        "tram",
        "preserved",
        "ferry",
        # Chinese road and transport classes
        "高速公路",
        "高速",
        "快速路",
        "城市快速路",
        "铁路",
        "地铁",
        "轻轨",
        "有轨电车",
        "轮渡",
        "航线",
    )
)


@dataclass
class RoadFilter:
    exclude: frozenset[str] = NOT_WALKABLE
    include: frozenset[str] = frozenset()
    enabled: bool = True
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    """class, lines, length_m of the lines left out by the last :meth:`walkable` call."""

    @classmethod
    def build(cls, exclude=(), include=(), enabled: bool = True) -> RoadFilter:
        lower = frozenset(c.strip().lower() for c in include)
        return cls((NOT_WALKABLE | {c.strip().lower() for c in exclude}) - lower, lower, enabled)

    def walkable(self, classes: pd.Series, length_m: np.ndarray | None = None) -> np.ndarray:
        key = classes.astype("string").str.strip().str.lower()
        ok = ~key.isin(self.exclude).to_numpy(bool) if self.enabled else np.ones(len(key), dtype=bool)
        lengths = np.zeros(len(key)) if length_m is None else np.asarray(length_m, dtype=float)
        dropped = pd.DataFrame({"class": key[~ok].to_numpy(), "length_m": lengths[~ok]})
        self.left_out = (
            dropped.groupby("class").agg(lines=("length_m", "size"), length_m=("length_m", "sum")).reset_index()
        )
        return ok

    def line(self) -> str:
        if not self.enabled:
            return "road-class filter off (--all-roads): every line is walked on"
        if self.left_out.empty:
            return "no rail, ferry, motorway or other non-walkable lines among the roads"
        parts = ", ".join(
            f"{r['class']} {int(r['lines']):,} ({r['length_m'] / 1000:,.1f} km)" for _, r in self.left_out.iterrows()
        )
        return f"left out of the walking network (not walkable): {parts}; keep a class with --include-class"


def walkable_roads(con, road_filter: RoadFilter) -> np.ndarray:
    """Geometries of the roads the filter lets people walk on."""
    rows = road_rows(con)
    ok = road_filter.walkable(rows["class"], rows["length_m"].to_numpy(float))
    return geometries(rows["geometry"][ok])


def class_counts_line(classes: pd.Series) -> str | None:
    """For the load summary: how many loaded lines the default rule leaves out of walking."""
    road_filter = RoadFilter()
    road_filter.walkable(classes)
    if road_filter.left_out.empty:
        return None
    parts = ", ".join(f"{r['class']} {int(r['lines']):,}" for _, r in road_filter.left_out.iterrows())
    return f"kept but not walked on by coverage (road class): {parts}"
