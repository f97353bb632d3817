"""The coverage planner (服务圈分析): coverage runs and their results, what-if, suggested sites, service areas.

The walking network of the latest run is kept in memory until the next run; a recompute runs the
coverage pipeline on the server's own connection (the server owns the file).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from dashboard import coverage_queries, queries
from geo.shapes import feature_collection, hexagons
from pipelines.coverage import CoverageResult, compute_coverage, load_planner
from pipelines.coverage_cells import hexagon_minutes
from pipelines.store.coverage import access_for_type, coverage_by_area, coverage_types_frame

MAX_CELLS = 4000
MAX_UNCOVERED = 3000


class CoveragePlanner:
    """Coverage results by area and by hexagon, and the what-if tools on the in-memory walking network."""

    def __init__(self, db):
        self._db = db
        self._lock = threading.Lock()
        self._network = None  # (run_id, PlannerModel)

    def run(self) -> dict | None:
        """The latest coverage run (id, time, method, speed) and whether data changed since."""
        with self._db.cursor() as cur:
            row = coverage_queries.coverage_run(cur)
            if row is None:
                return None
            stale = coverage_queries.coverage_stale(cur, row[1])
        return {"run_id": row[0], "run_at": row[1], "method": row[2], "speed": row[3], "stale": stale}

    def types(self) -> pd.DataFrame:
        """Facility types of the latest run with their threshold, tier and method."""
        with self._db.cursor() as cur:
            return coverage_types_frame(cur)

    def access_cells(
        self, level, code, kind: str, res: int, cap_m: float, speed_m_per_min: float
    ) -> tuple[pd.DataFrame, dict]:
        """Hexagons with residents, covered share, mean walking distance and ``minutes`` (NaN where no one lives,
        flagged ``no_residents``), and their GeoJSON."""
        with self._db.cursor() as cur:
            frame = coverage_queries.access_cells(cur, level, code, kind, res, cap_m, MAX_CELLS)
        frame = hexagon_minutes(frame, speed_m_per_min)
        cells = frame["cell"].to_numpy(np.uint64)
        frame["id"] = [format(int(c), "x") for c in cells]
        return frame, feature_collection(frame["id"], hexagons(cells))

    def uncovered(self, level, code, kind: str, limit: int = MAX_UNCOVERED) -> pd.DataFrame:
        with self._db.cursor() as cur:
            return coverage_queries.uncovered_buildings(cur, level, code, kind, limit)

    def areas(self, level: str, code: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Coverage of the unit's children (streets of a district, communities of a street …)."""
        child = queries.CHILD[level] if level != "grid" else "grid"
        within = None if level == "city" or code is None else (level, code)
        with self._db.cursor() as cur:
            return coverage_by_area(cur, child, within)

    def network(self):
        """The walking network and points of the latest run, kept in memory until the next run."""
        run = self.run()
        if run is None:
            return None
        with self._lock:
            if self._network is None or self._network[0] != run["run_id"]:
                with self._db.cursor() as cur:
                    self._network = (run["run_id"], load_planner(cur))
            return self._network[1]

    def _unit_mask(self, network, level: str, code: str | None) -> np.ndarray:
        if level == "city" or code is None:
            return np.ones(len(network.buildings), dtype=bool)
        return (network.buildings[queries.CODE_COLUMN[level]] == code).to_numpy()

    def _network_for(self, kind: str):
        """(network, the distance that counts as covered for ``kind``), or None before a run covers it."""
        network = self.network()
        types = self.types().set_index("type")
        if network is None or kind not in types.index:
            return None
        return network, float(types.loc[kind, "threshold_m"])

    def _covered_now(self, kind: str, threshold: float) -> np.ndarray:
        """Buildings (in network order) that have ``kind`` within ``threshold`` today."""
        with self._db.cursor() as cur:
            return np.nan_to_num(access_for_type(cur, kind), nan=np.inf) <= threshold

    def what_if(self, kind: str, lon: float, lat: float, level: str, code: str | None) -> dict | None:
        """Residents newly covered if a facility of ``kind`` opened at (lon, lat)."""
        found = self._network_for(kind)
        if found is None:
            return None
        network, threshold = found
        x, y = network.frame.to_xy(np.array([lon]), np.array([lat]))
        new = network.distances_from(np.asarray(x), np.asarray(y), threshold)
        before = self._covered_now(kind, threshold)
        after = before | (new <= threshold)
        residents = network.buildings["residents"].to_numpy()
        unit = self._unit_mask(network, level, code)
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
            "newly_covered": network.buildings.loc[gained, ["lon", "lat", "name", "residents"]],
        }

    def suggest_sites(self, kind: str, level: str, code: str | None, k: int) -> pd.DataFrame:
        """k new sites for ``kind`` covering the most uncovered residents of the unit (greedy)."""
        found = self._network_for(kind)
        if found is None:
            return pd.DataFrame(columns=["rank", "lon", "lat", "gain", "cumulative"])
        network, threshold = found
        uncovered = ~self._covered_now(kind, threshold)
        return network.suggest_sites(uncovered & self._unit_mask(network, level, code), threshold, k)

    def service_area_geometry(self, facility_id: str, kind: str):
        """The walking service area (WGS84 geometry) of one facility within its type's life circle."""
        found = self._network_for(kind)
        if found is None:
            return None
        network, threshold = found
        return network.service_area([facility_id], threshold)

    def service_area(self, facility_id: str, kind: str) -> dict | None:
        """GeoJSON of the walking service area of one facility within its type's life circle."""
        area = self.service_area_geometry(facility_id, kind)
        return None if area is None else feature_collection(["area"], np.array([area]), 2e-5)

    def recompute(self) -> CoverageResult:
        """Run the coverage pipeline on the server's own connection (it owns the file), under the write lock."""
        with self._db.db.lock, self._db.cursor() as cur:
            return compute_coverage(cur)
