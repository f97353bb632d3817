"""The coverage planner (服务圈分析): coverage runs and their results, what-if, suggested sites, service areas.

The walking network of the latest run is kept in memory until the next run; a recompute runs the
coverage pipeline on the server's own connection (the server owns the file).
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from dashboard import coverage_queries, queries, shape_queries
from dashboard.models.jobs import Jobs
from geo.shapes import feature_collection, hexagons
from pipelines.coverage import CoverageResult, compute_coverage, load_planner
from pipelines.coverage_cells import hexagon_minutes
from pipelines.store.coverage import access_for_type, coverage_by_area, coverage_types_frame

MAX_CELLS = 4000
MAX_UNCOVERED = 3000
MEMO_SIZE = 256
SITE_COLUMNS = ["rank", "lon", "lat", "gain", "cumulative"]


class CoveragePlanner:
    """Coverage results by area and by hexagon, and the what-if tools on the in-memory walking network."""

    def __init__(self, db):
        self._db = db
        self._lock = threading.Lock()
        self._network = None  # (run_id, PlannerModel)
        self._memo: dict = {}  # (run_id, what, *args) -> result; cleared when a new run appears
        self._memo_lock = threading.Lock()  # not the network's lock: loading the network takes seconds
        self.jobs = Jobs()  # suggested sites run as background jobs (progress, cancel)

    def _memoised(self, what: str, compute, *args):
        """``compute(*args)`` once per coverage run: its tables change only with a run (or a recompute)."""
        run = self.run()
        key = (run["run_id"] if run else None, what, *args)
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
        value = compute(*args)
        with self._memo_lock:
            if len(self._memo) >= MEMO_SIZE or any(k[0] != key[0] for k in self._memo):
                self._memo = {}  # a new run (or too many units): start over
            self._memo[key] = value
        return value

    def warm(self) -> None:
        """The city's area table and the walking network, built before the first planner asks."""
        if self.run() is not None:
            self.areas(*self._home())
            model = self.network()
            if model is not None and model.network is not None:
                _ = model.network.segment_tree  # a clicked site far from every road searches it

    def _home(self) -> tuple[str, str | None]:
        with self._db.cursor() as cur:
            districts = shape_queries.district_codes(cur)
        return ("district", districts[0]) if len(districts) == 1 else ("city", None)

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
        flagged ``no_residents``), and their GeoJSON (memoised per run)."""
        return self._memoised("cells", self._access_cells, level, code, kind, res, cap_m, speed_m_per_min)

    def _access_cells(self, level, code, kind, res, cap_m, speed_m_per_min) -> tuple[pd.DataFrame, dict]:
        with self._db.cursor() as cur:
            frame = coverage_queries.access_cells(cur, level, code, kind, res, cap_m, MAX_CELLS)
        frame = hexagon_minutes(frame, speed_m_per_min)
        cells = frame["cell"].to_numpy(np.uint64)
        frame["id"] = [format(int(c), "x") for c in cells]
        return frame, feature_collection(frame["id"], hexagons(cells))

    def facility_count(self, level, code, kind: str | None) -> int:
        with self._db.cursor() as cur:
            return coverage_queries.facility_count(cur, level, code, kind)

    def uncovered(self, level, code, kind: str, limit: int = MAX_UNCOVERED) -> pd.DataFrame:
        with self._db.cursor() as cur:
            return coverage_queries.uncovered_buildings(cur, level, code, kind, limit)

    def areas(self, level: str, code: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Coverage of the unit's children (streets of a district, communities of a street …), memoised per run."""
        child = queries.CHILD[level] if level != "grid" else "grid"
        within = None if level == "city" or code is None else (level, code)
        return self._memoised("areas", self._areas, child, within)

    def _areas(self, child: str, within) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Any level's areas summed from the grids' (one city-wide query per run instead of one per unit).

        Residents, buildings, covered residents and the residents-weighted ``types_in_reach`` and
        ``complete_share`` all add up from grids to their community, street and district; buildings
        outside every grid are not counted.
        """
        grids, grid_types = self._memoised("grid-areas", self._grid_areas)
        key = f"{child}_code"
        if within is not None:
            grids = grids[grids[f"{within[0]}_code"] == within[1]]
            grid_types = grid_types[grid_types[f"{within[0]}_code"] == within[1]]
        sums = grids.groupby(key, sort=True).agg(
            residents=("residents", "sum"),
            buildings=("buildings", "sum"),
            reach=("reach", "sum"),
            complete=("complete", "sum"),
            required_types=("required_types", "max"),
        )
        people = sums["residents"].where(sums["residents"] > 0)
        names = self._memoised("names", self._names, child).set_index("code")["name"]
        areas = pd.DataFrame(
            {
                "code": sums.index,
                "name": sums.index.map(names),
                "residents": sums["residents"].to_numpy(),
                "buildings": sums["buildings"].to_numpy(),
                "types_in_reach": (sums["reach"] / people).to_numpy(),
                "required_types": sums["required_types"].to_numpy(),
                "complete_share": (sums["complete"] / people).fillna(0.0).to_numpy(),
            }
        )
        by_type = grid_types.groupby([key, "type"], sort=True)[["covered", "residents"]].sum().reset_index()
        by_type = by_type.rename(columns={key: "code"})
        by_type["share"] = by_type["covered"] / by_type["residents"].where(by_type["residents"] > 0)
        return areas, by_type

    def _grid_areas(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        with self._db.cursor() as cur:
            grids, by_type = coverage_by_area(cur, "grid")
            parents = coverage_queries.grid_parents(cur)
        grids = grids.merge(parents, left_on="code", right_on="grid_code", how="inner")
        grids["reach"] = grids["types_in_reach"].fillna(0.0) * grids["residents"]
        grids["complete"] = grids["complete_share"] * grids["residents"]
        by_type = by_type.merge(parents, left_on="code", right_on="grid_code", how="inner")
        return grids, by_type

    def _names(self, level: str) -> pd.DataFrame:
        with self._db.cursor() as cur:
            return coverage_queries.level_names(cur, level)

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
        """Buildings (in network order) that have ``kind`` within ``threshold`` today (memoised per run)."""
        return self._memoised("covered", self._covered, kind, threshold)

    def _covered(self, kind: str, threshold: float) -> np.ndarray:
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

    def suggest_sites(self, kind: str, level: str, code: str | None, k: int, step=None) -> pd.DataFrame:
        """k new sites for ``kind`` covering the most uncovered residents of the unit (greedy).

        Candidates are bounded by the street: a street or smaller unit is one greedy choice; a district or
        the city is chosen street by street (``step(done, total)`` reports each street and may stop the
        work, see :mod:`dashboard.models.jobs`), then the k best sites of all streets are kept.  Sites of
        neighbouring streets may share a few buildings near their border, so the merged gains are upper
        bounds there.
        """
        step = step or (lambda done, total: None)
        found = self._network_for(kind)
        if found is None:
            return pd.DataFrame(columns=SITE_COLUMNS)
        network, threshold = found
        wanted = ~self._covered_now(kind, threshold) & self._unit_mask(network, level, code)
        if level in ("street", "community", "grid"):
            step(0, 1)
            return network.suggest_sites(wanted, threshold, k)
        streets = network.buildings["street_code"].fillna("").to_numpy()
        codes, group = np.unique(streets[wanted], return_inverse=True)
        members = np.flatnonzero(wanted)
        chosen = []
        for i in range(len(codes)):
            step(i, len(codes))
            mask = np.zeros(len(wanted), dtype=bool)
            mask[members[group == i]] = True
            chosen.append(network.suggest_sites(mask, threshold, k))
        step(len(codes), len(codes))
        return _best_sites(chosen, k)

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
            result = compute_coverage(cur)
        with self._memo_lock:
            self._memo = {}
        return result


def _best_sites(per_street: list[pd.DataFrame], k: int) -> pd.DataFrame:
    """The k sites with the largest gains over all streets, ranked again."""
    frames = [f for f in per_street if len(f)]
    if not frames:
        return pd.DataFrame(columns=SITE_COLUMNS)
    best = pd.concat(frames).sort_values("gain", ascending=False, kind="stable").head(k).reset_index(drop=True)
    return best.assign(rank=np.arange(1, len(best) + 1), cumulative=best["gain"].cumsum().astype(int))[SITE_COLUMNS]
