"""The dashboard's view of the database: one shared DuckDB connection, cached shapes, view models.

The server process owns the database file; every read goes through a cursor
of the one connection so Flask's threads can query at once.  Polygons and
roads change only when data is loaded (which needs the file, so the server is
not running then): they are cached for the life of the process.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from dashboard import queries
from geo.shapes import bounds_view, feature_collection, hexagons, lines_collection, outlines
from pipelines.coverage import CoverageResult, compute_coverage, load_planner
from pipelines.store import Database
from pipelines.store.coverage import access_for_type, coverage_by_area, coverage_types_frame
from pipelines.store.rows import geometries
from pipelines.vocabulary import DONE_STATUSES

WINDOWS = {"1h": dt.timedelta(hours=1), "24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7)}
SIMPLIFY_DEG = {"city": 4e-4, "district": 1.5e-4, "street": 5e-5, "community": 1e-5, "grid": 0.0}
"""Tolerance for the children drawn at each level (about 40 m for districts down to 1 m for grids)."""
ROAD_LEVELS = ("street", "community", "grid")
MAX_CELLS = 4000
MAX_FACILITIES = 3000
MAX_UNCOVERED = 3000
SMALL_LEVELS = ("community", "grid")
"""Units whose week of incidents is small enough to fetch once and aggregate in memory."""
TICKER_SIZE = 8
RECENT_MINUTES = 3
"""Incidents this recent are highlighted on the map and flagged in the ticker."""


def hex_resolution(zoom: float) -> int:
    """H3 resolution whose hexagons read well at a map zoom level."""
    return int(min(11, max(6, round(zoom) - 3)))


class DashboardData:
    def __init__(self, db_path: str | Path, clock: Callable[[], dt.datetime] | None = None):
        self.db_path = Path(db_path)
        self.db = Database(self.db_path)
        self.con = self.db.con
        self.clock = clock or (lambda: dt.datetime.now().replace(microsecond=0))
        self._lock = threading.Lock()
        self._roads = None
        self._planner = None  # (run_id, PlannerModel)
        # DuckDB runs queries outside the GIL: independent panels are answered side by side
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="gridtwin-query")

    def cursor(self):
        return self.con.cursor()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.con.close()

    # --- change counter ------------------------------------------------------
    def version(self) -> int:
        with self.cursor() as cur:
            return queries.data_version(cur)

    # --- hierarchy -----------------------------------------------------------
    def home(self) -> tuple[str, str | None]:
        """The top unit: the district when there is only one, else the whole city."""
        with self.cursor() as cur:
            districts = queries.district_codes(cur)
        return ("district", districts[0]) if len(districts) == 1 else ("city", None)

    def breadcrumb(self, level: str, code: str | None) -> list[tuple[str, str | None, str | None]]:
        """[(level, code, name)] from the top unit down to this one (name None: "whole city")."""
        home_level, home_code = self.home()
        with self.cursor() as cur:
            chain = queries.unit_names(cur, level, code)
            home_name = queries.unit_names(cur, home_level, home_code).get(home_level, (None, None))[1]
        crumbs = [(home_level, home_code, home_name)]
        top = queries.LEVELS.index(home_level)
        crumbs += [(lvl, c, name) for lvl, (c, name) in chain.items() if queries.LEVELS.index(lvl) > top]
        return crumbs

    # --- shapes (cached) -----------------------------------------------------
    @lru_cache(maxsize=256)  # noqa: B019 - one instance per app, lives as long as the app
    def children(self, level: str, code: str | None) -> dict:
        """Children of a unit: ids, names, population, simplified GeoJSON, view centre and zoom."""
        with self.cursor() as cur:
            frame = queries.child_shapes(cur, level, code)
            unit = queries.unit_shape(cur, level, code)
        geoms = geometries(frame.pop("geometry")) if len(frame) else np.array([], dtype=object)
        outline = shapely.from_wkb(unit) if unit is not None else None
        extent = outline if outline is not None else shapely.union_all(geoms) if len(geoms) else None
        bounds = shapely.bounds(extent) if extent is not None else (120.0, 30.0, 120.3, 30.3)
        centre, zoom = bounds_view(tuple(bounds))
        return {
            "frame": frame,
            "geojson": feature_collection(frame["code"], geoms, SIMPLIFY_DEG[level]),
            "outline": outlines(np.array([outline]), 0.0) if outline is not None else None,
            "centre": centre,
            "zoom": zoom,
            "bounds": tuple(bounds),
        }

    @lru_cache(maxsize=64)  # noqa: B019
    def buildings(self, level: str, code: str | None) -> dict:
        """Building footprints inside a unit, as GeoJSON for a fill layer."""
        with self.cursor() as cur:
            frame = queries.buildings_in(cur, level, code)
        return feature_collection(frame["code"], geometries(frame["geometry"]), 5e-6)

    def warm(self) -> None:
        """Build the slow-to-build caches (road index, top-level shapes) before the first page asks."""
        self.roads((0.0, 0.0, 0.0, 0.0))
        self.children(*self.home())
        self._grid_names()
        self._building_counts()

    def roads(self, bounds: tuple[float, float, float, float]) -> dict:
        """Roads crossing the bounds, as one line layer."""
        with self._lock:
            if self._roads is None:
                with self.cursor() as cur:
                    frame = queries.roads_frame(cur)
                geoms = geometries(frame["geometry"])
                self._roads = (geoms, shapely.STRtree(geoms))
        geoms, tree = self._roads
        hits = tree.query(shapely.box(*bounds))
        return lines_collection(geoms[np.sort(hits)], 1e-5)

    # --- live figures --------------------------------------------------------
    def window_bounds(self, window: str, custom: tuple[str, str] | None = None) -> tuple[dt.datetime, dt.datetime]:
        now = self.clock()
        if window == "custom" and custom and custom[0]:
            start = dt.datetime.fromisoformat(custom[0][:10])
            end = dt.datetime.fromisoformat(custom[1][:10]) + dt.timedelta(days=1) if custom[1] else now
            return start, min(end, now)
        return now - WINDOWS.get(window, WINDOWS["24h"]), now

    def indicators(self, level: str, code: str | None, since: dt.datetime) -> pd.DataFrame:
        children = self.children(level, code)["frame"]
        with self.cursor() as cur:
            counts = queries.child_indicators(cur, level, code, since, self.clock())
        merged = children[["code", "name", "population"]].merge(counts, on="code", how="left")
        for column in ("window_count", "open_count", "overdue_count"):
            merged[column] = merged[column].fillna(0).astype(int)
        population = pd.to_numeric(merged["population"], errors="coerce")
        merged["per_1000"] = (1000 * merged["window_count"] / population.where(population > 0)).round(2)
        return merged

    def cells(self, level, code, res, since, until) -> tuple[pd.DataFrame, dict]:
        with self.cursor() as cur:
            frame = queries.cell_counts(cur, level, code, res, since, until, MAX_CELLS)
        cells = frame["cell"].to_numpy(np.uint64)
        polys = hexagons(cells)
        centres = shapely.centroid(polys) if len(polys) else polys
        frame["lon"] = shapely.get_x(centres) if len(polys) else []
        frame["lat"] = shapely.get_y(centres) if len(polys) else []
        frame["id"] = [format(int(c), "x") for c in cells]
        return frame, feature_collection(frame["id"], polys)

    def recent(self, level, code) -> pd.DataFrame:
        now = self.clock()
        with self.cursor() as cur:
            frame = queries.recent_points(cur, level, code, now - dt.timedelta(minutes=RECENT_MINUTES), 50)
        return frame[frame["reported_at"] <= now]

    def facilities(self, level, code, kind: str | None = None) -> pd.DataFrame:
        with self.cursor() as cur:
            return queries.facilities_in(cur, level, code, MAX_FACILITIES, kind)

    def kpis(self, level, code, parts: tuple[str, ...] = queries.KPI_PARTS) -> dict:
        now = self.clock()
        day_start = now.replace(hour=0, minute=0, second=0)
        with self.cursor() as cur:
            values = queries.kpis(cur, level, code, day_start, now, parts)
        return _with_closure_rate(values) if "reported" in parts else values

    def ticker(self, level, code) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(newest incidents, most overdue open incidents) with their community and grid names."""
        now = self.clock()
        with self.cursor() as cur:
            return self.named(queries.newest(cur, level, code, now)), self.named(
                queries.most_overdue(cur, level, code, now)
            )

    @lru_cache(maxsize=1)  # noqa: B019 - grid names change only with a load, which needs the server stopped
    def _grid_names(self) -> dict[str, tuple[str, str]]:
        with self.cursor() as cur:
            frame = queries.grid_names(cur)
        return dict(zip(frame["grid_code"], zip(frame["name"], frame["community_name"], strict=True), strict=True))

    def named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Ticker rows with their community and grid names (codes where a grid is unknown)."""
        names = self._grid_names()
        found = [names.get(g) for g in frame["grid_code"]]
        frame = frame.assign(
            community=[f[1] if f else c for f, c in zip(found, frame["community_code"], strict=True)],
            grid=[f[0] if f else g for f, g in zip(found, frame["grid_code"], strict=True)],
        )
        return frame.drop(columns=["community_code", "grid_code"])

    def side_panels(self, level: str, code: str | None, since: dt.datetime) -> dict:
        """Everything the command center's side panels show, queried concurrently (one cursor each)."""
        now = self.clock()

        def run(query, *args):
            with self.cursor() as cur:
                return query(cur, *args)

        week = now - dt.timedelta(days=7)
        if level in SMALL_LEVELS and since >= week:
            return self._small_unit_panels(level, code, since, now, run)
        jobs = {
            **{f"kpi-{part}": self._pool.submit(self.kpis, level, code, (part,)) for part in queries.KPI_PARTS},
            "newest": self._pool.submit(run, queries.newest, level, code, now),
            "overdue": self._pool.submit(run, queries.most_overdue, level, code, now),
            "names": self._pool.submit(self._grid_names),
            "categories": self._pool.submit(run, queries.category_counts, level, code, since, now),
            "trend": self._pool.submit(run, queries.hourly_trend, level, code, now),
        }
        if level == "grid":
            jobs["grid"] = self._pool.submit(self.grid_detail, code)
        panels = {name: job.result() for name, job in jobs.items()}
        panels["kpis"] = {k: v for part in queries.KPI_PARTS for k, v in panels.pop(f"kpi-{part}").items()}
        panels["newest"], panels["overdue"] = self.named(panels["newest"]), self.named(panels["overdue"])
        return panels

    def _small_unit_panels(self, level, code, since, now, run) -> dict:
        """Side panels of a community or grid: its week of incidents fetched once, aggregated here."""
        week = now - dt.timedelta(days=7)
        day_start = now.replace(hour=0, minute=0, second=0)
        jobs = {
            "week": self._pool.submit(run, queries.unit_week, level, code, week, now),
            "open": self._pool.submit(run, queries.unit_open, level, code),
        }
        if level == "grid":
            jobs["grid"] = self._pool.submit(self.grid_detail, code)
        done = {name: job.result() for name, job in jobs.items()}
        reported, resolved = done.pop("week")
        late = done.pop("open")
        late = late[late["due_at"] < now].sort_values(["due_at", "incident_id"]).reset_index(drop=True)
        closed = reported["status"].isin(DONE_STATUSES)
        evaluated = resolved["status"] == "evaluated"
        handling = (resolved["resolved_at"] - resolved["reported_at"]).dt.total_seconds() / 3600.0
        kpis = _with_closure_rate(
            {
                "reported_today": int((reported["reported_at"] >= day_start).sum()),
                "reported_week": len(reported),
                "closed_week": int(closed.sum()),
                "resolved_today": int((resolved["resolved_at"] >= day_start).sum()),
                "handling_h": float(handling.mean()) if len(resolved) else None,
                "satisfaction": float(resolved.loc[evaluated, "satisfaction"].mean()) if evaluated.any() else None,
                "overdue": len(late),
            }
        )
        newest = reported.sort_values(["reported_at", "incident_id"], ascending=False).head(TICKER_SIZE)
        window = reported[reported["reported_at"] >= since]
        counts = window["category"].value_counts()
        categories = pd.DataFrame({"category": counts.index.to_numpy(), "n": counts.to_numpy()})
        hours = pd.date_range(end=pd.Timestamp(now).floor("h"), periods=24, freq="h")
        day_ago = now - dt.timedelta(hours=24)

        def per_hour(times: pd.Series) -> np.ndarray:
            recent = times[(times > day_ago) & (times <= now)].dt.floor("h")
            return recent.value_counts().reindex(hours, fill_value=0).to_numpy()

        trend = pd.DataFrame(
            {
                "hour": hours,
                "reported": per_hour(reported["reported_at"]),
                "resolved": per_hour(resolved["resolved_at"]),
            }
        )
        panels = {"kpis": kpis, "newest": self.named(newest.reset_index(drop=True)), "categories": categories}
        panels.update(trend=trend, overdue=self.named(late.head(TICKER_SIZE)), **done)
        return panels

    def categories(self, level, code, since):
        with self.cursor() as cur:
            return queries.category_counts(cur, level, code, since, self.clock())

    def trend(self, level, code):
        with self.cursor() as cur:
            return queries.hourly_trend(cur, level, code, self.clock())

    def grid_detail(self, grid_code: str):
        """(grid row with its building count, workers, open incidents)."""
        with self.cursor() as cur:
            grid, workers, incidents = queries.grid_detail(cur, grid_code, self.clock())
        return grid.assign(buildings=self._building_counts().get(grid_code, 0)), workers, incidents

    @lru_cache(maxsize=1)  # noqa: B019 - buildings change only with a load, which needs the server stopped
    def _building_counts(self) -> dict[str, int]:
        with self.cursor() as cur:
            frame = queries.building_counts(cur)
        return dict(zip(frame["grid_code"], frame["n"].astype(int), strict=True))

    def ranking(self, level: str, code: str | None, child: str, since: dt.datetime) -> pd.DataFrame:
        # a ranking of streets needs a unit above streets; of communities, a unit above communities
        order = queries.LEVELS
        while order.index(level) >= order.index(child):
            level, code = self.parent(level, code)
        with self.cursor() as cur:
            return queries.ranking(cur, level, code, child, since, self.clock())

    def parent(self, level: str, code: str | None) -> tuple[str, str | None]:
        if level == "city":
            return "city", None
        with self.cursor() as cur:
            chain = queries.unit_names(cur, level, code)
        up = queries.LEVELS[queries.LEVELS.index(level) - 1]
        return (up, chain[up][0]) if up in chain else ("city", None)

    def playback(self, level, code, res, start, end) -> pd.DataFrame:
        with self.cursor() as cur:
            return queries.playback_counts(cur, level, code, res, start, end)

    def latest_day(self) -> dt.date:
        with self.cursor() as cur:
            end = queries.data_end(cur)
        now = self.clock()
        return min(end, now).date() if end else now.date()

    # --- service coverage (服务圈分析) ------------------------------------------
    def coverage_run(self) -> dict | None:
        """The latest coverage run (id, time, method, speed) and whether data changed since."""
        with self.cursor() as cur:
            row = queries.coverage_run(cur)
            if row is None:
                return None
            stale = queries.coverage_stale(cur, row[1])
        return {"run_id": row[0], "run_at": row[1], "method": row[2], "speed": row[3], "stale": stale}

    def coverage_types(self) -> pd.DataFrame:
        with self.cursor() as cur:
            return coverage_types_frame(cur)

    def access_cells(self, level, code, kind: str, res: int, cap_m: float) -> tuple[pd.DataFrame, dict]:
        with self.cursor() as cur:
            frame = queries.access_cells(cur, level, code, kind, res, cap_m, MAX_CELLS)
        cells = frame["cell"].to_numpy(np.uint64)
        frame["id"] = [format(int(c), "x") for c in cells]
        return frame, feature_collection(frame["id"], hexagons(cells))

    def uncovered(self, level, code, kind: str, limit: int = MAX_UNCOVERED) -> pd.DataFrame:
        with self.cursor() as cur:
            return queries.uncovered_buildings(cur, level, code, kind, limit)

    def coverage_areas(self, level: str, code: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Coverage of the unit's children (streets of a district, communities of a street …)."""
        child = queries.CHILD[level] if level != "grid" else "grid"
        within = None if level == "city" or code is None else (level, code)
        with self.cursor() as cur:
            return coverage_by_area(cur, child, within)

    def planner(self):
        """The walking network and points of the latest run, kept in memory until the next run."""
        run = self.coverage_run()
        if run is None:
            return None
        with self._lock:
            if self._planner is None or self._planner[0] != run["run_id"]:
                with self.cursor() as cur:
                    self._planner = (run["run_id"], load_planner(cur))
            return self._planner[1]

    def _unit_mask(self, planner, level: str, code: str | None) -> np.ndarray:
        if level == "city" or code is None:
            return np.ones(len(planner.buildings), dtype=bool)
        return (planner.buildings[queries.CODE_COLUMN[level]] == code).to_numpy()

    def _planner_for(self, kind: str):
        """(planner, the distance that counts as covered for ``kind``), or None before a run covers it."""
        planner = self.planner()
        types = self.coverage_types().set_index("type")
        if planner is None or kind not in types.index:
            return None
        return planner, float(types.loc[kind, "threshold_m"])

    def _covered_now(self, kind: str, threshold: float) -> np.ndarray:
        """Buildings (in planner order) that have ``kind`` within ``threshold`` today."""
        with self.cursor() as cur:
            return np.nan_to_num(access_for_type(cur, kind), nan=np.inf) <= threshold

    def what_if(self, kind: str, lon: float, lat: float, level: str, code: str | None) -> dict | None:
        """Residents newly covered if a facility of ``kind`` opened at (lon, lat)."""
        found = self._planner_for(kind)
        if found is None:
            return None
        planner, threshold = found
        x, y = planner.frame.to_xy(np.array([lon]), np.array([lat]))
        new = planner.distances_from(np.asarray(x), np.asarray(y), threshold)
        before = self._covered_now(kind, threshold)
        after = before | (new <= threshold)
        residents = planner.buildings["residents"].to_numpy()
        unit = self._unit_mask(planner, level, code)
        gained = after & ~before
        total = max(int(residents[unit].sum()), 1)
        return {
            "lon": lon,
            "lat": lat,
            "gained_residents": int(residents[gained].sum()),
            "gained_in_unit": int(residents[gained & unit].sum()),
            "gained_buildings": int(gained.sum()),
            "before": float(residents[before & unit].sum() / total),
            "after": float(residents[after & unit].sum() / total),
            "newly_covered": planner.buildings.loc[gained, ["lon", "lat", "name", "residents"]],
        }

    def suggest_sites(self, kind: str, level: str, code: str | None, k: int) -> pd.DataFrame:
        """k new sites for ``kind`` covering the most uncovered residents of the unit (greedy)."""
        found = self._planner_for(kind)
        if found is None:
            return pd.DataFrame(columns=["rank", "lon", "lat", "gain", "cumulative"])
        planner, threshold = found
        uncovered = ~self._covered_now(kind, threshold)
        return planner.suggest_sites(uncovered & self._unit_mask(planner, level, code), threshold, k)

    def service_area(self, facility_id: str, kind: str) -> dict | None:
        """GeoJSON of the walking service area of one facility within its type's life circle."""
        found = self._planner_for(kind)
        if found is None:
            return None
        planner, threshold = found
        area = planner.service_area([facility_id], threshold)
        return feature_collection(["area"], np.array([area]), 2e-5)

    def recompute_coverage(self) -> CoverageResult:
        """Run the coverage pipeline on the server's own connection (it owns the file), under the write lock."""
        with self.db.lock, self.cursor() as cur:
            return compute_coverage(cur)


def _with_closure_rate(values: dict) -> dict:
    reported = values["reported_week"] or 0
    values["closure_rate"] = 100.0 * (values["closed_week"] or 0) / reported if reported else None
    return values
