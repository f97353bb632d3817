"""The synthetic city's plan (示例区): grids, hierarchy, buildings, roads, facilities, grid workers.

Deterministic by seed and vectorised, at the ``demo`` scale (one district) and the ``city`` scale
(65,025 grids, ~1,000,000 buildings); :mod:`pipelines.generate` adds incidents and writes it all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.measure import area_m2, length_m, metres_to_degrees
from pipelines.loaders import PERSONS_PER_HOUSEHOLD
from pipelines.names import district_names, person_names, phone_numbers, place_names

ORIGIN_LNG, ORIGIN_LAT = 120.13, 30.25
"""South-west corner of the demo city (Hangzhou)."""


@dataclass(frozen=True)
class Scale:
    grids_x: int
    grids_y: int
    grid_w_m: float
    grid_h_m: float
    community_block: tuple[int, int]
    streets: int
    districts: int
    slots_per_quadrant_side: int
    building_keep: float
    incidents: int
    days: int
    hotspots: int
    facilities_per_grid: float


SCALES = {
    "demo": Scale(20, 15, 250.0, 200.0, (4, 3), 5, 1, 3, 0.93, 50_000, 90, 8, 0.5),
    "city": Scale(255, 255, 250.0, 200.0, (3, 2), 1000, 16, 2, 0.96, 10_000_000, 90, 1700, 0.5),
}

FACILITY_SHARE = {
    "党群服务中心": 0.16,
    "社区卫生服务站": 0.13,
    "养老服务站": 0.10,
    "幼儿园": 0.16,
    "小学": 0.07,
    "菜市场": 0.08,
    "文体活动站": 0.12,
    "便利店": 0.18,
}


@dataclass
class CityPlan:
    """Everything generated before incidents, in local metres and WGS84."""

    grids: pd.DataFrame
    grid_geoms: np.ndarray
    buildings: pd.DataFrame


def _to_lnglat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlng, dlat = metres_to_degrees(x_m, y_m, ORIGIN_LAT)
    return ORIGIN_LNG + dlng, ORIGIN_LAT + dlat


def _nearest_seed(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Group points around ``count`` random seeds (Voronoi regions), returning labels 0..count-1 in seed order."""
    seeds = points[rng.choice(len(points), size=count, replace=False)]
    seeds = seeds[np.lexsort((seeds[:, 0], -seeds[:, 1]))]
    return cKDTree(seeds).query(points)[1]


def _grid_lattice(scale: Scale, rng: np.random.Generator):
    nx, ny, w, h = scale.grids_x, scale.grids_y, scale.grid_w_m, scale.grid_h_m
    vx = np.arange(nx + 1)[:, None] * w + rng.uniform(-0.12, 0.12, (nx + 1, ny + 1)) * w
    vy = np.arange(ny + 1)[None, :] * h + rng.uniform(-0.12, 0.12, (nx + 1, ny + 1)) * h
    # midpoints of horizontal edges (i..i+1 at row j) and vertical edges (column i, j..j+1), jittered across
    hx = (vx[:-1, :] + vx[1:, :]) / 2
    hy = (vy[:-1, :] + vy[1:, :]) / 2 + rng.uniform(-0.06, 0.06, (nx, ny + 1)) * h
    wx = (vx[:, :-1] + vx[:, 1:]) / 2 + rng.uniform(-0.06, 0.06, (nx + 1, ny)) * w
    wy = (vy[:, :-1] + vy[:, 1:]) / 2
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    ring_x = np.stack(
        [
            vx[i, j],
            hx[i, j],
            vx[i + 1, j],
            wx[i + 1, j],
            vx[i + 1, j + 1],
            hx[i, j + 1],
            vx[i, j + 1],
            wx[i, j],
            vx[i, j],
        ],
        axis=1,
    )
    ring_y = np.stack(
        [
            vy[i, j],
            hy[i, j],
            vy[i + 1, j],
            wy[i + 1, j],
            vy[i + 1, j + 1],
            hy[i, j + 1],
            vy[i, j + 1],
            wy[i, j],
            vy[i, j],
        ],
        axis=1,
    )
    return i, j, ring_x, ring_y, (vx, vy, hx, hy, wx, wy)


def _hierarchy(scale: Scale, i: np.ndarray, j: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    bx, by = scale.community_block
    cx, cy = i // bx, j // by
    n_cy = int(np.ceil(scale.grids_y / by))
    community_index = cx * n_cy + cy
    communities = np.unique(community_index)
    centre = np.column_stack([(communities // n_cy + 0.5) * bx, (communities % n_cy + 0.5) * by]).astype(float)
    centre += rng.uniform(-0.01, 0.01, centre.shape)
    street_of_community = _nearest_seed(centre, scale.streets, rng)
    street_centre = np.array([centre[street_of_community == s].mean(axis=0) for s in range(scale.streets)])
    district_of_street = (
        _nearest_seed(street_centre, scale.districts, rng)
        if scale.districts > 1
        else np.zeros(scale.streets, dtype=int)
    )
    position = np.searchsorted(communities, community_index)
    street = street_of_community[position]
    district = district_of_street[street]
    frame = pd.DataFrame({"i": i, "j": j, "community": position, "street": street, "district": district})
    frame["district_code"] = [f"3301{80 + d:02d}" for d in frame["district"]]
    street_rank = frame.groupby("district")["street"].rank(method="dense").astype(int)
    frame["street_code"] = frame["district_code"] + street_rank.map("{:03d}".format)
    community_rank = frame.groupby("street")["community"].rank(method="dense").astype(int)
    frame["community_code"] = frame["street_code"] + community_rank.map("{:03d}".format)
    grid_rank = frame.groupby("community").cumcount() + 1
    frame["grid_code"] = frame["community_code"] + grid_rank.map("{:03d}".format)
    frame["district_name"] = np.array(district_names(scale.districts))[frame["district"]]
    frame["street_name"] = np.array(place_names(scale.streets, "街道", rng))[frame["street"]]
    community_names = np.array(place_names(len(communities), "社区", rng))
    frame["community_name"] = community_names[frame["community"]]
    frame["name"] = frame["community_name"] + "第" + grid_rank.astype(str) + "网格"
    return frame


def _buildings(scale: Scale, grids: pd.DataFrame, corners: tuple, rng: np.random.Generator) -> pd.DataFrame:
    vx, vy = corners[0], corners[1]
    k = scale.slots_per_quadrant_side
    slots = (np.arange(k) + 0.5) / k
    quad = np.concatenate([0.12 + slots * 0.32, 0.56 + slots * 0.32])
    u, v = np.meshgrid(quad, quad, indexing="ij")
    u, v = u.ravel(), v.ravel()
    gi, gj = grids["i"].to_numpy(), grids["j"].to_numpy()
    g = np.repeat(np.arange(len(grids)), len(u))
    uu, vv = np.tile(u, len(grids)), np.tile(v, len(grids))
    i, j = gi[g], gj[g]

    def bilinear(c):
        return (
            (1 - uu) * (1 - vv) * c[i, j]
            + uu * (1 - vv) * c[i + 1, j]
            + uu * vv * c[i + 1, j + 1]
            + (1 - uu) * vv * c[i, j + 1]
        )

    x, y = bilinear(vx), bilinear(vy)
    keep = rng.random(len(x)) < scale.building_keep
    x, y, g = x[keep], y[keep], g[keep]
    n = len(x)
    width = rng.uniform(12, 28, n) * min(1.0, scale.grid_w_m / 250)
    depth = rng.uniform(10, 15, n)
    dx, dy = width / 2, depth / 2
    ring_x = np.stack([x - dx, x + dx, x + dx, x - dx, x - dx], axis=1)
    ring_y = np.stack([y - dy, y - dy, y + dy, y + dy, y - dy], axis=1)
    lng, lat = _to_lnglat(ring_x.ravel(), ring_y.ravel())
    geoms = shapely.polygons(np.stack([lng, lat], axis=1).reshape(n, 5, 2))
    use = np.where(rng.random(n) < 0.9, "住宅", rng.choice(["商业", "办公", "学校", "公共服务"], n))
    floors = rng.choice([2, 3, 5, 6, 6, 6, 7, 11, 18, 24, 33], n)
    units = rng.integers(2, 5, n)
    households = np.where(use == "住宅", np.round(floors * units * rng.uniform(0.75, 1.0, n)), 0).astype(int)
    residents = np.round(households * PERSONS_PER_HOUSEHOLD).astype(int)
    centre_lng, centre_lat = _to_lnglat(x, y)
    number = pd.Series(g).groupby(g).cumcount() + 1
    frame = pd.DataFrame(
        {
            "building_id": grids["grid_code"].to_numpy()[g] + "-" + number.map("{:03d}".format).to_numpy(),
            "name": grids["community_name"].to_numpy()[g] + number.astype(str).to_numpy() + "幢",
            "use": use,
            "floors": floors,
            "height_m": floors * 3.0,
            "residents": residents,
            "households": households,
            "area_m2": area_m2(geoms),
            "lon": centre_lng,
            "lat": centre_lat,
            "grid": g,
        }
    )
    frame["geometry"] = geoms
    return frame


def _roads(scale: Scale, grids: pd.DataFrame, lattice: tuple) -> pd.DataFrame:
    vx, vy, hx, hy, wx, wy = lattice
    nx, ny = scale.grids_x, scale.grids_y
    community = np.full((nx + 2, ny + 2), -1)
    street = np.full((nx + 2, ny + 2), -1)
    community[grids["i"] + 1, grids["j"] + 1] = grids["community"]
    street[grids["i"] + 1, grids["j"] + 1] = grids["street"]

    def classify(a, b):
        """Road class for the edge between grid cells a and b (padded indices)."""
        boundary = (community[a] < 0) | (community[b] < 0) | (street[a] != street[b])
        return np.where(boundary, "主干路", np.where(community[a] != community[b], "次干路", "支路"))

    # horizontal edges: between rows j-1 and j, at column i
    hi, hj = np.meshgrid(np.arange(nx), np.arange(ny + 1), indexing="ij")
    hi, hj = hi.ravel(), hj.ravel()
    h_lines = np.stack(
        [np.stack([vx[hi, hj], hx[hi, hj], vx[hi + 1, hj]], 1), np.stack([vy[hi, hj], hy[hi, hj], vy[hi + 1, hj]], 1)],
        axis=2,
    )
    h_class = classify((hi + 1, hj), (hi + 1, hj + 1))
    wi, wj = np.meshgrid(np.arange(nx + 1), np.arange(ny), indexing="ij")
    wi, wj = wi.ravel(), wj.ravel()
    w_lines = np.stack(
        [np.stack([vx[wi, wj], wx[wi, wj], vx[wi, wj + 1]], 1), np.stack([vy[wi, wj], wy[wi, wj], vy[wi, wj + 1]], 1)],
        axis=2,
    )
    w_class = classify((wi, wj + 1), (wi + 1, wj + 1))
    # lanes through each grid: left mid → centre → right mid, bottom mid → centre → top mid
    gi, gj = grids["i"].to_numpy(), grids["j"].to_numpy()
    cx = (vx[gi, gj] + vx[gi + 1, gj] + vx[gi + 1, gj + 1] + vx[gi, gj + 1]) / 4
    cy = (vy[gi, gj] + vy[gi + 1, gj] + vy[gi + 1, gj + 1] + vy[gi, gj + 1]) / 4
    lane_we = np.stack(
        [np.stack([wx[gi, gj], cx, wx[gi + 1, gj]], 1), np.stack([wy[gi, gj], cy, wy[gi + 1, gj]], 1)], 2
    )
    lane_sn = np.stack(
        [np.stack([hx[gi, gj], cx, hx[gi, gj + 1]], 1), np.stack([hy[gi, gj], cy, hy[gi, gj + 1]], 1)], 2
    )
    lines = np.concatenate([h_lines, w_lines, lane_we, lane_sn])
    classes = np.concatenate([h_class, w_class, np.full(2 * len(gi), "街巷")])
    n = len(lines)
    lng, lat = _to_lnglat(lines[:, :, 0].ravel(), lines[:, :, 1].ravel())
    geoms = shapely.linestrings(np.stack([lng, lat], axis=1).reshape(n, 3, 2))
    names = np.where(classes == "街巷", "小区通道", np.char.add("示例", classes))
    return pd.DataFrame(
        {
            "road_id": pd.Series(np.arange(1, n + 1)).map("R{:07d}".format).to_numpy(),
            "name": names,
            "class": classes,
            "length_m": length_m(geoms),
            "geometry": shapely.to_wkb(geoms),
        }
    )


def _facilities(scale: Scale, grids: pd.DataFrame, buildings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    total = round(len(grids) * scale.facilities_per_grid)
    # Uneven supply: each street gets a factor, one in five streets is badly served, so real gaps exist.
    street_factor = np.where(rng.random(scale.streets) < 0.2, 0.15, rng.uniform(0.6, 1.4, scale.streets))
    weight = street_factor[grids["street"].to_numpy()[buildings["grid"].to_numpy()]]
    weight = weight / weight.sum()
    frames = []
    for number, (kind, share) in enumerate(FACILITY_SHARE.items()):
        count = max(1, round(total * share))
        chosen = rng.choice(len(buildings), size=count, replace=False, p=weight)
        picked = buildings.iloc[chosen]
        frames.append(
            pd.DataFrame(
                {
                    "facility_id": [f"F{number + 1}{k:06d}" for k in range(count)],
                    "type": kind,
                    "name": picked["name"].str.replace("幢", "", regex=False).to_numpy() + kind,
                    "capacity": rng.integers(20, 400, count),
                    "address": picked["name"].to_numpy(),
                    "lon": picked["lon"].to_numpy(),
                    "lat": picked["lat"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _workers(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(grids)
    part_time = rng.random(n) < 0.5
    leader_grid = grids.groupby("community").head(1).index.to_numpy()
    grid_codes = np.concatenate(
        [
            grids["grid_code"].to_numpy(),
            grids["grid_code"].to_numpy()[part_time],
            grids["grid_code"].to_numpy()[leader_grid],
        ]
    )
    roles = np.concatenate(
        [np.full(n, "专职网格员"), np.full(part_time.sum(), "兼职网格员"), np.full(len(leader_grid), "网格长")]
    )
    count = len(grid_codes)
    return pd.DataFrame(
        {
            "worker_id": pd.Series(np.arange(1, count + 1)).map("W{:07d}".format).to_numpy(),
            "name": person_names(count, rng),
            "role": roles,
            "grid_code": grid_codes,
            "phone": phone_numbers(count, rng),
        }
    )


def build_city(scale: Scale, seed: int) -> tuple[CityPlan, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    i, j, ring_x, ring_y, lattice = _grid_lattice(scale, rng)
    grids = _hierarchy(scale, i, j, rng)
    lng, lat = _to_lnglat(ring_x.ravel(), ring_y.ravel())
    grid_geoms = shapely.polygons(np.stack([lng, lat], axis=1).reshape(len(i), 9, 2))
    buildings = _buildings(scale, grids, lattice, rng)
    tables = {
        "roads": _roads(scale, grids, lattice),
        "facilities": _facilities(scale, grids, buildings, rng),
        "grid_workers": _workers(grids, rng),
    }
    return CityPlan(grids, grid_geoms, buildings), tables
