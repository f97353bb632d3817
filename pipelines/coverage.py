"""Service coverage (服务圈): walking distance from every building to each facility type, stored in DuckDB.

:func:`compute_coverage` builds the walking network from the loaded roads, joins buildings and
facilities to it, runs one shortest-path pass per facility type and stores per-building
distances, the thresholds used and the network itself (so the planner page can draw service
areas, test a hypothetical facility and choose new sites without rebuilding it).  With no roads
loaded it falls back to straight-line distance and says so in every result (``method``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from geo import siting
from geo.access import nearest_distance, nearest_distances, service_area, straight_line_distance
from geo.network import Attachment, LocalFrame, NetworkReport, WalkNetwork, attach, build_network
from pipelines import store
from pipelines.domain import ACCESS_CUTOFF_M, WALK_SPEED_M_PER_MIN
from pipelines.errors import GridtwinError
from pipelines.roadclass import RoadFilter, walkable_roads
from pipelines.standards import CUSTOM_TIER, mark_required, required_types
from pipelines.store import coverage as stored
from pipelines.store.coverage_network import links_for, network_rows, network_tables
from pipelines.store.meta import bump_data_version

NETWORK = "network"
STRAIGHT_LINE = "straight_line"
METHOD_LABELS = {NETWORK: "路网步行距离", STRAIGHT_LINE: "直线距离（未加载路网）"}
METHOD_LABELS_EN = {NETWORK: "walking network", STRAIGHT_LINE: "straight line (no walking network loaded)"}


@dataclass
class CoverageResult:
    run_id: int
    method: str
    report: NetworkReport | None
    types: pd.DataFrame  # type, tier_minutes, threshold_m, required, method, facilities, covered_share
    timings_s: dict[str, float]
    road_filter: RoadFilter | None = None


def _network_or_none(roads: np.ndarray) -> WalkNetwork | None:
    if len(roads) == 0:
        return None
    network = build_network(roads)
    return network if len(network.edge_u) else None


def compute_coverage(
    con,
    types: list[str] | None = None,
    minutes: float | None = None,
    walk_speed_m_per_min: float = WALK_SPEED_M_PER_MIN,
    cutoff_m: float = ACCESS_CUTOFF_M,
    progress=None,
    required: list[str] | None = None,
    road_filter: RoadFilter | None = None,
) -> CoverageResult:
    """Compute and store walking access for ``types`` (default: every facility type loaded).

    ``minutes`` replaces the life-circle tiers with one walking time for all computed types
    (covered = within ``minutes`` × ``walk_speed_m_per_min``).  ``progress`` is called with a
    short Chinese step description as the work advances.  ``required`` marks types as required for a
    complete life circle; every required type is computed, a required type with no facility loaded counts as
    reached by nobody.  ``road_filter`` (default: :class:`RoadFilter` defaults) decides which roads are walked.
    """
    say = progress or (lambda _step: None)
    if walk_speed_m_per_min <= 0:
        raise GridtwinError(f"walking speed must be positive, got {walk_speed_m_per_min} m/min")
    if minutes is not None and minutes <= 0:
        raise GridtwinError(f"--minutes must be positive, got {minutes}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    say("读取路网、建筑和设施")
    road_filter = road_filter or RoadFilter()
    inputs = _read_inputs(con, types, required or [], road_filter)
    timings["read"] = time.perf_counter() - started

    mark = time.perf_counter()
    say("构建步行路网")
    network = _network_or_none(inputs.roads)
    method = NETWORK if network is not None else STRAIGHT_LINE
    buildings, facilities = inputs.buildings, inputs.facilities
    frame = network.frame if network else LocalFrame.around(buildings["lon"].to_numpy(), buildings["lat"].to_numpy())
    timings["network"] = time.perf_counter() - mark

    mark = time.perf_counter()
    say("建筑和设施接入路网")
    placed = _Placed.of(frame, network, buildings, facilities)
    timings["attach"] = time.perf_counter() - mark

    mark = time.perf_counter()
    say(f"计算步行可达性：{len(inputs.chosen)} 类设施")
    targets = _targets(inputs, minutes, walk_speed_m_per_min, cutoff_m)
    paths_start = time.perf_counter()
    all_dist = _distances(network, placed, targets.picks, max(targets.searches), len(buildings))
    timings["paths"] = time.perf_counter() - paths_start
    rows, type_frame = _results(inputs, targets, all_dist, walk_speed_m_per_min, method)
    timings["results"] = time.perf_counter() - mark - timings["paths"]

    mark = time.perf_counter()
    say("写入数据库")
    nodes, edges, links = (
        network_rows(network, inputs.building_ids, facilities["facility_id"], placed.b_links, placed.f_links)
        if network
        else (None, None, None)
    )
    run = {
        "method": method,
        "walk_speed_m_per_min": walk_speed_m_per_min,
        "cutoff_m": cutoff_m,
        "minutes_override": minutes,
        "seconds": time.perf_counter() - started,
        "report": json.dumps({**(asdict(network.report) if network else {}), "frame": [frame.lon0, frame.lat0]}),
    }
    with store.transaction(con):
        run_id = stored.write_coverage(con, run, type_frame.drop(columns="covered_share"), rows, nodes, edges, links)
        bump_data_version(con)
    timings["write"] = time.perf_counter() - mark
    return CoverageResult(run_id, method, network.report if network else None, type_frame, timings, road_filter)


@dataclass
class _Inputs:
    roads: np.ndarray
    building_ids: pa.Array
    buildings: pd.DataFrame  # residents, lon, lat; in building-id order
    facilities: pd.DataFrame
    chosen: list[str]
    standards: pd.DataFrame


def _read_inputs(con, types: list[str] | None, required: list[str], road_filter: RoadFilter) -> _Inputs:
    """Walkable roads, buildings, facilities, the types to compute and their standards; refuses an empty city."""
    building_ids, buildings = stored.coverage_buildings(con)
    facilities = stored.facility_points(con)
    roads = walkable_roads(con, road_filter)
    if buildings.empty:
        raise GridtwinError("no buildings loaded: load them first with `gridtwin load buildings FILE --db PATH`")
    loaded_types = sorted(facilities["type"].unique())
    if not loaded_types:
        raise GridtwinError("no facilities loaded: load them first with `gridtwin load facilities FILE --db PATH`")
    chosen = loaded_types if not types else list(dict.fromkeys(types))
    unknown = [t for t in chosen if t not in loaded_types]
    if unknown:
        raise GridtwinError(
            f"unknown facility type {', '.join(unknown)}: the loaded types are {', '.join(loaded_types)}"
        )
    mark_required(con, required)
    standards = stored.service_standards(con, loaded_types, CUSTOM_TIER).set_index("type")
    chosen += [t for t in required_types(con) if t not in loaded_types]  # none loaded: reached by nobody
    return _Inputs(roads, building_ids, buildings, facilities, chosen, standards)


@dataclass
class _Placed:
    """Buildings and facilities in the local metric frame, and where they join the network (if any)."""

    bx: np.ndarray
    by: np.ndarray
    fx: np.ndarray
    fy: np.ndarray
    b_links: Attachment | None
    f_links: Attachment | None

    @classmethod
    def of(cls, frame: LocalFrame, network, buildings: pd.DataFrame, facilities: pd.DataFrame) -> _Placed:
        bx, by = frame.to_xy(buildings["lon"].to_numpy(), buildings["lat"].to_numpy())
        fx, fy = frame.to_xy(facilities["lon"].to_numpy(), facilities["lat"].to_numpy())
        if network is None:
            return cls(bx, by, fx, fy, None, None)
        return cls(bx, by, fx, fy, attach(network, bx, by), attach(network, fx, fy))


@dataclass
class _Targets:
    thresholds: list[tuple[float, float, bool]]
    """(tier minutes, covered within metres, required) per chosen type."""
    searches: list[float]
    picks: list[np.ndarray]
    """Row numbers of the facilities of each chosen type."""


def _targets(inputs: _Inputs, minutes: float | None, speed: float, cutoff_m: float) -> _Targets:
    f_type = inputs.facilities["type"].to_numpy()
    targets = _Targets([], [], [])
    for kind in inputs.chosen:
        tier, distance_m, required = inputs.standards.loc[kind, ["tier_minutes", "distance_m", "required"]]
        threshold = float(minutes) * speed if minutes is not None else float(distance_m)
        targets.thresholds.append((float(minutes) if minutes is not None else float(tier), threshold, bool(required)))
        targets.searches.append(max(cutoff_m, threshold))
        targets.picks.append(np.flatnonzero(f_type == kind))
    return targets


def _distances(network, placed: _Placed, picks: list[np.ndarray], search_m: float, n_buildings: int):
    """Distance from every building to its nearest facility of each type (inf: none within ``search_m``)."""
    all_dist = [np.full(n_buildings, np.inf) for _ in picks]  # a type with no facility reaches nobody
    present = [i for i, idx in enumerate(picks) if len(idx)]
    if network is not None and present:
        found = nearest_distances(network, [placed.f_links.take(picks[i]) for i in present], placed.b_links, search_m)
    else:
        bxy = np.column_stack([placed.bx, placed.by])
        found = [
            straight_line_distance(np.column_stack([placed.fx[picks[i]], placed.fy[picks[i]]]), bxy, search_m)
            for i in present
        ]
    for i, dist in zip(present, found, strict=True):
        all_dist[i] = dist
    return all_dist


def _results(inputs: _Inputs, targets: _Targets, all_dist, speed: float, method: str):
    """The per-building access table (Arrow) and the per-type summary frame."""
    rows, type_rows = [], []
    building_ids = inputs.building_ids
    residents = inputs.buildings["residents"].to_numpy()
    for kind, (tier, threshold, required), idx, dist in zip(
        inputs.chosen, targets.thresholds, targets.picks, all_dist, strict=True
    ):
        unreached = ~np.isfinite(dist)  # stored as NULL: not reached within the search distance
        rows.append(
            pa.table(
                {
                    "building_id": building_ids,
                    "type": pa.repeat(pa.scalar(kind), len(dist)),
                    "distance_m": pa.array(dist, mask=unreached),
                    "minutes": pa.array(dist / speed, mask=unreached),
                }
            )
        )
        covered = dist <= threshold
        type_rows.append(
            {
                "type": kind,
                "tier_minutes": tier,
                "threshold_m": threshold,
                "required": bool(required),
                "method": method,
                "facilities": len(idx),
                "covered_share": residents[covered].sum() / max(residents.sum(), 1),
            }
        )
    return pa.concat_tables(rows), pd.DataFrame(type_rows)


# --- the planner's in-memory model ------------------------------------------------------------


@dataclass
class PlannerModel:
    """What the planner page computes with: network (or None for straight lines), buildings, facilities."""

    method: str
    frame: LocalFrame
    network: WalkNetwork | None
    buildings: pd.DataFrame  # building_id, residents, lon, lat, x, y, street/community/grid codes
    building_links: Attachment | None
    facilities: pd.DataFrame  # facility_id, type, name, lon, lat, x, y
    facility_links: Attachment | None

    @cached_property
    def building_ids(self) -> pa.Array:
        """The buildings' ids as Arrow strings, built once (storing a type's rows takes from it)."""
        return pa.array(self.buildings["building_id"].astype(str).to_numpy(object), pa.string())

    def distances_from(self, x: np.ndarray, y: np.ndarray, radius_m: float) -> np.ndarray:
        """Distance from every building to the nearest of the given points (local metres)."""
        bxy = self.buildings[["x", "y"]].to_numpy()
        if self.network is None:
            return straight_line_distance(np.column_stack([x, y]), bxy, radius_m)
        return nearest_distance(self.network, attach(self.network, x, y), self.building_links, radius_m)

    def service_area(self, facility_ids: list[str], radius_m: float) -> shapely.Geometry:
        """Service area (isochrone) of the facilities, in WGS84."""
        pick = self.facilities["facility_id"].isin(facility_ids).to_numpy()
        if self.network is None:
            area = shapely.union_all(
                shapely.buffer(shapely.points(self.facilities.loc[pick, ["x", "y"]].to_numpy()), radius_m)
            )
        else:
            area = service_area(
                self.network,
                self.facility_links.take(np.flatnonzero(pick)),
                radius_m,
                source_xy=self.facilities.loc[pick, ["x", "y"]].to_numpy(),
            )
        return self.frame.geoms_to_lnglat(np.array([area]))[0]

    def suggest_sites(self, uncovered: np.ndarray, radius_m: float, k: int) -> pd.DataFrame:
        """Greedy maximal-covering choice of k sites for the uncovered buildings (boolean mask)."""
        demand = np.flatnonzero(uncovered)
        weight = self.buildings["residents"].to_numpy()[demand]
        if len(demand) == 0:
            return pd.DataFrame(columns=["rank", "lon", "lat", "gain", "cumulative"])
        bxy = self.buildings[["x", "y"]].to_numpy()[demand]
        lo, hi = bxy.min(axis=0) - radius_m, bxy.max(axis=0) + radius_m
        if self.network is None:
            cand_xy = bxy[siting.one_per_cell(bxy, 100.0)]
            tree = cKDTree(bxy)
            hits = tree.query_ball_point(cand_xy, radius_m)
            rows = np.repeat(np.arange(len(hits)), [len(h) for h in hits])
            cols = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]) if len(hits) else np.zeros(0, int)
            cover = sparse.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(len(cand_xy), len(demand)))
        else:
            xy = self.network.node_xy
            inside = np.all((xy >= lo) & (xy <= hi), axis=1)
            nodes = siting.junction_candidates(self.network, inside)
            cand_xy = xy[nodes]
            cover = siting.cover_matrix(self.network, nodes, self.building_links.take(demand), radius_m)
        choice = siting.greedy_sites(cover, weight, k)
        lon, lat = self.frame.to_lnglat(cand_xy[choice.candidates, 0], cand_xy[choice.candidates, 1])
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(choice.candidates) + 1),
                "lon": lon,
                "lat": lat,
                "gain": choice.gains.astype(int),
                "cumulative": np.cumsum(choice.gains).astype(int),
            }
        )


def load_planner(con) -> PlannerModel | None:
    """The stored network and links as a :class:`PlannerModel`; None before the first coverage run."""
    run = stored.latest_run(con)
    if run is None:
        return None
    method, report = run
    frame = LocalFrame(*json.loads(report)["frame"])
    buildings, facilities = stored.planner_points(con)
    for table in (buildings, facilities):
        table["x"], table["y"] = frame.to_xy(table["lon"].to_numpy(), table["lat"].to_numpy())
    if method == STRAIGHT_LINE:
        return PlannerModel(method, frame, None, buildings, None, facilities, None)
    nodes, edges, links = network_tables(con)
    network = WalkNetwork(
        frame, np.column_stack([nodes["x"], nodes["y"]]), edges["u"].astype(np.int64), edges["v"].astype(np.int64)
    )
    model = PlannerModel(
        method,
        frame,
        network,
        buildings,
        links_for(links, "building", buildings["building_id"]),
        facilities,
        links_for(links, "facility", facilities["facility_id"]),
    )
    _ = model.building_ids  # the Arrow ids a one-type update writes with, built with the rest of the model
    _ = network.segment_grid  # what attaching a clicked site or a type's facilities searches
    return model
