"""The party page's model (党建引领): indicator tables, map points, people and 15-minute service areas,
cached per reference version (loads, coverage runs and party edits move it; new incidents and steps along the
loop do not, as the page reads none of them) and day (the "last 30 days" end today on a real city's file), so the
page's callbacks re-read nothing unchanged while the command centre's feed runs.

Service areas (the 15分钟党群服务圈) reuse the coverage planner's walking network: one area per
党群服务中心 for a street or below, cached per (coverage run, facility); a district or the city draws the
union of its covered hexagons (from the stored coverage results, simplified), cached per (run, unit).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import shapely

from dashboard import queries
from dashboard.models.reference import ReferenceCache
from geo.shapes import feature_collection, hexagons
from pipelines.party.contacts import grid_party_view
from pipelines.party.indicators import indicator_table
from pipelines.store import party_map

CENTRE = "党群服务中心"
MAX_ENTRIES = 512
AREA_LEVELS = ("street", "community", "grid")
"""Levels whose map draws one walking area per centre; above them, the covered hexagons."""
UNION_RES = {"city": 7, "district": 8}
COVERED_SHARE = 0.5
"""A hexagon counts as covered when at least half its residents reach a centre within the threshold."""
SIMPLIFY_DEG = 2e-4
AREA_SIMPLIFY_DEG = 2e-5


def _reference_and_day(con) -> tuple:
    """The party page's cache version: the reference counter and today ("the last 30 days" move with the day)."""
    return queries.reference_version(con), dt.date.today()


class PartyModel:
    """Everything the party page reads, cached per reference version and day (per coverage run for the areas)."""

    def __init__(self, db, shapes, planner):
        self._db = db
        self.shapes = shapes
        self.planner = planner
        self._cache = ReferenceCache(db, MAX_ENTRIES, _reference_and_day)
        self._lock = threading.Lock()  # guards the service areas
        self._areas: OrderedDict = OrderedDict()  # (run_id, facility id or (level, code)) -> geometry

    def _cached(self, key: tuple, build):
        return self._cache.get(key, build)

    def memo(self, key: tuple, build):
        """``build()`` once per reference version for ``key`` (derived figures such as the shaped table)."""
        return self._cached(("memo", *key), build)

    def _run(self, query, *args):
        with self._db.cursor() as cur:
            return query(cur, *args)

    def table(self, row_level: str, parent: str | None) -> pd.DataFrame:
        return self._cached(("table", row_level, parent), lambda: self._run(indicator_table, row_level, parent))

    def org_points(self, level: str, code: str | None, variant: tuple, prepare) -> pd.DataFrame:
        """Organisations to draw, with ``prepare(frame)`` (the caller's masking and hover for ``variant``,
        e.g. (reveal, lang)) applied once per reference version."""
        key = ("orgs", level, code, variant)
        return self._cached(key, lambda: prepare(self._run(party_map.org_points, level, code)))

    def head_buildings(self, level: str, code: str | None, variant: tuple, prepare) -> pd.DataFrame:
        key = ("heads", level, code, variant)
        return self._cached(key, lambda: prepare(self._run(party_map.head_buildings, level, code)))

    def unit_orgs(self, level: str, code: str | None) -> pd.DataFrame:
        return self._cached(("unit_orgs", level, code), lambda: self._run(party_map.unit_orgs, level, code))

    def grid_side(self, grid_code: str | None, reveal: bool) -> dict:
        return self._cached(("grid", grid_code, reveal), lambda: self._run(grid_party_view, grid_code, reveal))

    def centres(self, level: str, code: str | None) -> pd.DataFrame:
        return self._cached(("centres", level, code), lambda: self.shapes.facilities(level, code, CENTRE))

    def warm(self) -> None:
        """Fill what every visit starts with (the city's and each district's tables and covered areas) and load
        the compiled walking-distance code with one centre's area, so no user pays for them (run at start, in the
        background)."""
        self.table("district", None)  # the city's rows (views.party.unit_table)
        self.service_areas("city", None)
        for district in self.shapes.children("city", None)["frame"]["code"]:
            self.table("street", district)
            self.service_areas("district", district)
        first = self.centres("city", None)["facility_id"].head(1).tolist()
        if first and (run := self.planner.run()) is not None:
            self._area((run["run_id"], first[0]), lambda: self._walking_area(first[0]))

    # --- the 15分钟党群服务圈 ------------------------------------------------------
    def _area(self, key: tuple, build):
        with self._lock:
            if key in self._areas:
                self._areas.move_to_end(key)
                return self._areas[key]
        value = build()
        with self._lock:
            self._areas[key] = value
            while len(self._areas) > MAX_ENTRIES * 8:
                self._areas.popitem(last=False)
        return value

    def service_areas(self, level: str, code: str | None) -> list[dict]:
        """GeoJSON features (``id`` = facility id): one walking area per 党群服务中心 in the unit (street and
        below), else one simplified union of the covered hexagons (id ``covered``).  Empty before a coverage
        run covers the type.  Features are built once per (run, facility) / (run, unit)."""
        run = self.planner.run()
        if run is None or CENTRE not in set(self.planner.types()["type"]):
            return []
        if level in AREA_LEVELS:
            ids = self.centres(level, code)["facility_id"].tolist()
            features = [self._area((run["run_id"], i), lambda i=i: self._walking_area(i)) for i in ids]
        else:
            speed = float(run["speed"])
            features = [self._area((run["run_id"], level, code), lambda: self._covered_union(level, code, speed))]
        return [f for f in features if f is not None]

    def _walking_area(self, facility_id: str) -> dict | None:
        area = self.planner.service_area_geometry(facility_id, CENTRE)
        if area is None or shapely.is_empty(area):
            return None
        return feature_collection([facility_id], np.array([area]), AREA_SIMPLIFY_DEG)["features"][0]

    def _covered_union(self, level: str, code: str | None, speed: float) -> dict | None:
        threshold = float(self.planner.types().set_index("type").loc[CENTRE, "threshold_m"])
        cells, _ = self.planner.access_cells(level, code, CENTRE, UNION_RES[level], threshold, speed)
        covered = cells.loc[cells["share"].fillna(0) >= COVERED_SHARE, "cell"].to_numpy(np.uint64)
        if not len(covered):
            return None
        union = shapely.union_all(hexagons(covered))
        return feature_collection(["covered"], np.array([union]), SIMPLIFY_DEG)["features"][0]
