"""The shape cache: polygons, roads, buildings and names, which change only when data is loaded.

Loading data needs the database file, so the server is not running then: everything here is cached for
the life of the process (the warm-up thread builds the slow parts before the first page asks).
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely

from dashboard import queries, shape_queries
from geo.shapes import bounds_view, feature_collection, hexagons, lines_collection, outlines
from pipelines.store.rows import geometries

SIMPLIFY_DEG = {"city": 4e-4, "district": 1.5e-4, "street": 5e-5, "community": 1e-5, "grid": 0.0}
"""Tolerance for the children drawn at each level (about 40 m for districts down to 1 m for grids)."""
ROAD_LEVELS = ("street", "community", "grid")
MAX_FACILITIES = 3000
MAX_HEXAGONS = 200_000
"""H3 cells whose outline is kept (a city's busy cells at the map's resolutions; about 1 KB each)."""


class ShapeCache:
    """Outlines, the roads index, building footprints, grid names and the unit hierarchy."""

    def __init__(self, db):
        self._db = db
        self._lock = threading.Lock()
        self._roads = None
        self._hexagons: dict[int, tuple[dict, float, float]] = {}
        self._hexagons_lock = threading.Lock()

    def warm(self) -> None:
        """Build the slow-to-build caches (road index, top-level shapes) before the first page asks."""
        self.roads((0.0, 0.0, 0.0, 0.0))
        self.children(*self.home())
        self.grid_names()
        self.building_counts()

    # --- hierarchy -----------------------------------------------------------
    def home(self) -> tuple[str, str | None]:
        """The top unit: the district when there is only one, else the whole city."""
        with self._db.cursor() as cur:
            districts = shape_queries.district_codes(cur)
        return ("district", districts[0]) if len(districts) == 1 else ("city", None)

    def breadcrumb(self, level: str, code: str | None) -> list[tuple[str, str | None, str | None]]:
        """[(level, code, name)] from the top unit down to this one (name None: "whole city")."""
        home_level, home_code = self.home()
        with self._db.cursor() as cur:
            chain = shape_queries.unit_names(cur, level, code)
            home_name = shape_queries.unit_names(cur, home_level, home_code).get(home_level, (None, None))[1]
        crumbs = [(home_level, home_code, home_name)]
        top = queries.LEVELS.index(home_level)
        crumbs += [(lvl, c, name) for lvl, (c, name) in chain.items() if queries.LEVELS.index(lvl) > top]
        return crumbs

    def parent(self, level: str, code: str | None) -> tuple[str, str | None]:
        if level == "city":
            return "city", None
        with self._db.cursor() as cur:
            chain = shape_queries.unit_names(cur, level, code)
        up = queries.LEVELS[queries.LEVELS.index(level) - 1]
        return (up, chain[up][0]) if up in chain else ("city", None)

    # --- shapes --------------------------------------------------------------
    @lru_cache(maxsize=256)  # noqa: B019 - one instance per app, lives as long as the app
    def children(self, level: str, code: str | None) -> dict:
        """Children of a unit: ids, names, population, simplified GeoJSON, view centre and zoom."""
        with self._db.cursor() as cur:
            frame = shape_queries.child_shapes(cur, level, code)
            unit = shape_queries.unit_shape(cur, level, code)
        geoms = geometries(frame.pop("geometry")) if len(frame) else np.array([], dtype=object)
        outline = shapely.from_wkb(unit) if unit is not None else None
        extent = outline if outline is not None else shapely.union_all(geoms) if len(geoms) else None
        bounds = shapely.bounds(extent) if extent is not None else (120.0, 30.0, 120.3, 30.3)
        centre, zoom = bounds_view(tuple(bounds))
        spots = shapely.point_on_surface(geoms) if len(geoms) else geoms
        return {
            "frame": frame,
            "labels": pd.DataFrame(
                {
                    "name": frame["name"],
                    "lon": shapely.get_x(spots) if len(geoms) else [],
                    "lat": shapely.get_y(spots) if len(geoms) else [],
                }
            ),
            "geojson": feature_collection(frame["code"], geoms, SIMPLIFY_DEG[level]),
            "outline": outlines(np.array([outline]), 0.0) if outline is not None else None,
            "centre": centre,
            "zoom": zoom,
            "bounds": tuple(bounds),
        }

    @lru_cache(maxsize=64)  # noqa: B019
    def buildings(self, level: str, code: str | None) -> tuple[dict, pd.DataFrame]:
        """Building footprints inside a unit (GeoJSON, ids = building codes) and their grid and height."""
        with self._db.cursor() as cur:
            frame = shape_queries.buildings_in(cur, level, code)
        geojson = feature_collection(frame["code"], geometries(frame.pop("geometry")), 5e-6)
        return geojson, frame.set_index("code")

    @lru_cache(maxsize=256)  # noqa: B019 - roads change only with a load, which needs the server stopped
    def roads(self, bounds: tuple[float, float, float, float]) -> dict:
        """Roads crossing the bounds, as one line layer (kept per bounds: a unit's roads are drawn once)."""
        with self._lock:
            if self._roads is None:
                with self._db.cursor() as cur:
                    frame = shape_queries.roads_frame(cur)
                geoms = geometries(frame["geometry"])
                self._roads = (geoms, shapely.STRtree(geoms))
        geoms, tree = self._roads
        hits = tree.query(shapely.box(*bounds))
        return lines_collection(geoms[np.sort(hits)], 1e-5)

    def facilities(self, level, code, kind: str | None = None) -> pd.DataFrame:
        """Service facilities inside a unit (of one type, or all)."""
        with self._db.cursor() as cur:
            return shape_queries.facilities_in(cur, level, code, MAX_FACILITIES, kind)

    def hexagons(self, cells: np.ndarray) -> list[tuple[str, dict, float, float]]:
        """(id in hex, GeoJSON geometry, centre lon, centre lat) of each H3 cell, built once per cell for the
        process."""
        with self._hexagons_lock:
            known = self._hexagons
            missing = np.unique(cells[[int(c) not in known for c in cells]]) if len(cells) else cells
            if len(missing):
                polys = hexagons(missing)
                centres = shapely.centroid(polys)
                features = feature_collection(missing, polys)["features"]
                if len(known) + len(missing) > MAX_HEXAGONS:
                    known.clear()  # a long run: start again rather than grow without bound
                xs, ys = shapely.get_x(centres), shapely.get_y(centres)
                for cell, feature, x, y in zip(missing, features, xs, ys, strict=True):
                    known[int(cell)] = (format(int(cell), "x"), feature["geometry"], float(x), float(y))
            return [known[int(c)] for c in cells]

    # --- names ---------------------------------------------------------------
    @lru_cache(maxsize=1)  # noqa: B019 - grid names change only with a load, which needs the server stopped
    def grid_names(self) -> dict[str, tuple[str, str]]:
        with self._db.cursor() as cur:
            frame = shape_queries.grid_names(cur)
        return dict(zip(frame["grid_code"], zip(frame["name"], frame["community_name"], strict=True), strict=True))

    @lru_cache(maxsize=1)  # noqa: B019 - buildings change only with a load, which needs the server stopped
    def building_counts(self) -> dict[str, int]:
        with self._db.cursor() as cur:
            frame = shape_queries.building_counts(cur)
        return dict(zip(frame["grid_code"], frame["n"].astype(int), strict=True))

    def named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Incident rows with their community and grid names (codes where a grid is unknown)."""
        names = self.grid_names()
        grids, communities = frame["grid_code"].tolist(), frame["community_code"].tolist()
        found = [names.get(g) for g in grids]
        named = frame.drop(columns=["community_code", "grid_code"])
        named["community"] = [f[1] if f else c for f, c in zip(found, communities, strict=True)]
        named["grid"] = [f[0] if f else g for f, g in zip(found, grids, strict=True)]
        return named
