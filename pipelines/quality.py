"""Data-quality report (`gridtwin quality`, and the data of the quality page section).

Per kind: rows read / loaded / rejected (latest load of each file) and rejects by reason; grid topology
(overlapping grids, gaps between them, slivers = overlaps or gaps thinner than :data:`SLIVER_WIDTH_M`); points
outside every grid; buildings farther than :data:`FAR_FROM_ROAD_M` from any road; facilities by type against the
service standards (a required standard type with no facility shows 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.network import LocalFrame
from pipelines.store.areas import grid_frame
from pipelines.store.quality import (
    building_locations,
    facility_types_vs_standards,
    latest_loads,
    points_without_grid,
    reject_reasons,
)
from pipelines.store.roads import road_geometries
from pipelines.store.rows import geometries

FAR_FROM_ROAD_M = 200.0
SLIVER_WIDTH_M = 2.0
"""An overlap or gap whose mean width (2 × area / perimeter) is below this is a sliver: a digitising seam."""
MIN_AREA_M2 = 1.0
"""Overlaps and gaps smaller than this are rounding noise and not reported."""


@dataclass
class QualityReport:
    loads: pd.DataFrame
    reasons: pd.DataFrame
    topology: pd.DataFrame
    """problem (overlap/gap/sliver), grids, area_m2, width_m, where (lon, lat)."""
    outside: pd.DataFrame
    far_buildings: pd.DataFrame
    """building_id, lon, lat of buildings with no road within FAR_FROM_ROAD_M."""
    facility_types: pd.DataFrame

    def lines(self) -> list[str]:
        out = ["data quality"]
        out.append(
            "  loads (latest of each file):" + ("" if len(self.loads) else " none recorded (a generated database)")
        )
        for r in self.loads.itertuples():
            out.append(
                f"    {r.kind:<10} {r.source_file}: {r.rows_in:,} in, {r.rows_loaded:,} loaded, {r.rows_rejected:,} rejected"
            )
        for r in self.reasons.itertuples():
            out.append(f"    rejected {r.kind} {r.rows:,}: {r.reason}")
        counts = self.topology["problem"].value_counts()
        out.append(
            f"  grid topology: {counts.get('overlap', 0)} overlaps, {counts.get('gap', 0)} gaps, "
            f"{counts.get('sliver', 0)} slivers"
        )
        for r in self.topology.head(10).itertuples():
            out.append(
                f"    {r.problem} {r.area_m2:,.0f} m² (mean width {r.width_m:.1f} m) {r.grids} at {r.lon:.5f},{r.lat:.5f}"
            )
        for r in self.outside.itertuples():
            out.append(
                f"  {r.kind} outside every grid: {r.stored_without_grid:,} stored without a grid, {r.rejected:,} rejected"
            )
        out.append(f"  buildings more than {FAR_FROM_ROAD_M:.0f} m from any road: {len(self.far_buildings):,}")
        out.append("  facilities by type (standard tier, required):")
        for r in self.facility_types.itertuples():
            label = f"{r.tier_minutes:.0f} min" if pd.notna(r.tier_minutes) else "custom"
            flag = "required" if r.required else "optional"
            out.append(
                f"    {r.type:<10} {r.facilities:>6,}  {label}, {flag}"
                + ("  ← none loaded" if r.required and not r.facilities else "")
            )
        return out


def grid_topology(codes: np.ndarray, geoms: np.ndarray) -> pd.DataFrame:
    """Overlaps between grids, gaps enclosed by them, and which of either are slivers."""
    rows = []
    if len(geoms) == 0:
        return pd.DataFrame(columns=["problem", "grids", "area_m2", "width_m", "lon", "lat"])
    frame = LocalFrame.around(*shapely.get_coordinates(geoms).T)
    local = frame.geoms_to_xy(geoms)
    tree = shapely.STRtree(local)
    left, right = tree.query(local, predicate="overlaps")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    overlaps = shapely.intersection(local[left], local[right])
    rows.append(_pieces(overlaps, "overlap", [f"{codes[a]} × {codes[b]}" for a, b in zip(left, right, strict=True)]))
    union = shapely.union_all(local)
    # closing (grow, then shrink) fills gaps narrower than 2 × SLIVER_WIDTH_M, also those open at the edge;
    # wider gaps the grids enclose stay holes of the closed shape
    closed = shapely.buffer(
        shapely.buffer(union, SLIVER_WIDTH_M, join_style="mitre"), -SLIVER_WIDTH_M, join_style="mitre"
    )
    narrow = shapely.get_parts(shapely.difference(closed, union))
    holes = [shapely.Polygon(ring) for p in shapely.get_parts(closed) for ring in p.interiors]
    gaps = np.concatenate([narrow, np.array(holes, dtype=object)])
    rows.append(_pieces(gaps, "gap", ["between grids"] * len(gaps)))
    found = pd.concat(rows, ignore_index=True)
    if len(found):
        lon, lat = frame.to_lnglat(found.pop("x").to_numpy(), found.pop("y").to_numpy())
        found["lon"], found["lat"] = lon, lat
    else:
        found = found.drop(columns=["x", "y"]).assign(lon=[], lat=[])
    return found.sort_values("area_m2", ascending=False, ignore_index=True)


def _pieces(shapes: np.ndarray, problem: str, labels: list[str]) -> pd.DataFrame:
    area = shapely.area(shapes) if len(shapes) else np.zeros(0)
    width = 2 * area / np.maximum(shapely.length(shapes) if len(shapes) else np.zeros(0), 1e-9)
    centre = shapely.point_on_surface(shapes) if len(shapes) else np.zeros(0, dtype=object)
    frame = pd.DataFrame(
        {
            "problem": np.where(width < SLIVER_WIDTH_M, "sliver", problem),
            "grids": labels,
            "area_m2": area,
            "width_m": width,
            "x": shapely.get_x(centre) if len(shapes) else [],
            "y": shapely.get_y(centre) if len(shapes) else [],
        }
    )
    return frame[frame["area_m2"] >= MIN_AREA_M2]


def far_from_roads(buildings: pd.DataFrame, roads: np.ndarray, limit_m: float = FAR_FROM_ROAD_M) -> pd.DataFrame:
    if buildings.empty:
        return pd.DataFrame(columns=["building_id", "lon", "lat"])
    frame = LocalFrame.around(buildings["lon"].to_numpy(), buildings["lat"].to_numpy())
    points = shapely.points(*frame.to_xy(buildings["lon"].to_numpy(), buildings["lat"].to_numpy()))
    near = np.zeros(len(points), dtype=bool)
    if len(roads):
        tree = shapely.STRtree(frame.geoms_to_xy(roads))
        hits = tree.query_nearest(points, max_distance=limit_m, all_matches=False)
        near[hits[0]] = True
    return buildings.loc[~near, ["building_id", "lon", "lat"]].reset_index(drop=True)


def quality_report(con) -> QualityReport:
    grids = grid_frame(con)
    return QualityReport(
        loads=latest_loads(con),
        reasons=reject_reasons(con),
        topology=grid_topology(grids["grid_code"].to_numpy(), geometries(grids["geometry"])),
        outside=points_without_grid(con),
        far_buildings=far_from_roads(building_locations(con), road_geometries(con)),
        facility_types=facility_types_vs_standards(con),
    )
