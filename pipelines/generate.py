"""Deterministic synthetic city (示例区): grids, buildings, roads, facilities, workers, incidents.

The city is clearly fictional but placed at Hangzhou's coordinates so that
maps, H3 cells and GCJ-02 offsets behave as for a real Chinese city.
Everything is vectorised so that the ``city`` scale (65,000 grids,
1,000,000 buildings, 10,000,000 incidents) finishes on a 2-core machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from tqdm import tqdm

from geo.measure import area_m2, length_m, metres_to_degrees
from pipelines import store
from pipelines.area import read_area
from pipelines.coverage import compute_coverage
from pipelines.domain import CATEGORIES, PRIORITIES, SAMPLE_DESCRIPTIONS, SOURCES
from pipelines.incidents.repository import sync_derived_tables
from pipelines.loaders import PERSONS_PER_HOUSEHOLD, refresh_grid_derivatives
from pipelines.names import district_names, person_names, phone_numbers, place_names
from pipelines.party.generate import generate_party
from pipelines.store.areas import fill_grid_population_from_buildings, roll_up_population
from pipelines.store.meta import bump_data_version, set_meta
from pipelines.store.rows import append_rows, clear_city, table_counts
from pipelines.vocabulary import STATUS_LABELS_ZH, STATUSES

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
CATEGORY_WEIGHTS = {
    "车辆停放": 0.18,
    "市容环境": 0.14,
    "垃圾分类": 0.12,
    "噪声扰民": 0.10,
    "物业服务": 0.12,
    "设施损坏": 0.10,
    "邻里纠纷": 0.08,
    "安全隐患": 0.06,
    "占道经营": 0.07,
    "养老服务": 0.03,
}
DAY_PROFILE = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1.2,
        2.5,
        4.5,
        5.5,
        5.5,
        4.8,
        3.8,
        4.0,
        5.0,
        5.2,
        5.0,
        4.5,
        3.8,
        3.5,
        3.0,
        2.4,
        1.8,
        1.3,
    ]
)
NIGHT_PROFILE = np.array(
    [3, 2, 1.2, 0.6, 0.3, 0.3, 0.6, 1.2, 1.5, 1.5, 1.5, 1.5, 1.6, 1.6, 1.5, 1.5, 1.6, 2.0, 2.8, 3.8, 5.0, 5.8, 5.5, 4.5]
)
INCIDENT_CHUNK = 1_000_000


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


def _sample_times(scale: Scale, n: int, categories: np.ndarray, end: dt.datetime, rng) -> np.ndarray:
    day_index = np.arange(scale.days)
    start_day = np.datetime64(end.date()) - np.timedelta64(scale.days - 1, "D")
    weekday = (start_day + day_index.astype("timedelta64[D]")).astype("datetime64[D]").view("int64")
    weekday = (weekday + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    day_weight = np.where(weekday >= 5, 0.8, 1.0) * np.linspace(0.9, 1.1, scale.days)
    day = rng.choice(scale.days, size=n, p=day_weight / day_weight.sum())
    night = categories == "噪声扰民"
    hour = np.where(
        night,
        rng.choice(24, size=n, p=NIGHT_PROFILE / NIGHT_PROFILE.sum()),
        rng.choice(24, size=n, p=DAY_PROFILE / DAY_PROFILE.sum()),
    )
    seconds = day.astype("int64") * 86_400 + hour * 3_600 + rng.integers(0, 3_600, n)
    times = start_day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    end64 = np.datetime64(end.replace(microsecond=0), "s")
    too_late = times > end64
    times[too_late] = end64 - rng.integers(60, 6 * 3_600, too_late.sum()).astype("timedelta64[s]")
    return times


def _sample_locations(scale: Scale, plan: CityPlan, n: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lng, lat, home building) per incident: near residents, a third at hot spots."""
    b = plan.buildings
    residents = b["residents"].to_numpy(float) + 5.0
    home = rng.choice(len(b), size=n, p=residents / residents.sum())
    lng = b["lon"].to_numpy()[home]
    lat = b["lat"].to_numpy()[home]
    jitter_x, jitter_y = metres_to_degrees(rng.normal(0, 12, n), rng.normal(0, 12, n), ORIGIN_LAT)
    lng, lat = lng + jitter_x, lat + jitter_y
    hot_rng = np.random.default_rng(rng.integers(1 << 32))
    centres = hot_rng.choice(len(b), size=scale.hotspots, replace=False)
    at_hotspot = rng.random(n) < 0.35
    which = centres[rng.integers(0, scale.hotspots, at_hotspot.sum())]
    hx, hy = metres_to_degrees(rng.normal(0, 120, at_hotspot.sum()), rng.normal(0, 120, at_hotspot.sum()), ORIGIN_LAT)
    lng[at_hotspot] = b["lon"].to_numpy()[which] + hx
    lat[at_hotspot] = b["lat"].to_numpy()[which] + hy
    return lng, lat, home


def _incident_times(scale: Scale, end: dt.datetime, rng) -> tuple[np.ndarray, np.ndarray]:
    """Category and report time of every incident, in time order.

    Writing incidents in the order they were reported (as a live feed does) keeps
    DuckDB's per-row-group min/max on ``reported_at`` tight, so time-window queries
    skip most of the table.
    """
    names = list(CATEGORY_WEIGHTS)
    weights = np.array(list(CATEGORY_WEIGHTS.values()))
    category = rng.choice(len(names), size=scale.incidents, p=weights / weights.sum()).astype(np.int8)
    reported = _sample_times(scale, scale.incidents, np.array(names)[category], end, rng)
    order = np.argsort(reported, kind="stable")
    return category[order], reported[order]


def _incident_chunk(scale: Scale, plan: CityPlan, area, category_index, reported, first: int, end: dt.datetime, rng):
    names = list(CATEGORY_WEIGHTS)
    category = np.array(names)[category_index]
    n = len(category)
    lng, lat, home = _sample_locations(scale, plan, n, rng)
    cells, index = area.locate(lng, lat)
    outside = index < 0  # hot-spot scatter beyond the city edge: put those at the reporter's home
    if outside.any():
        lng[outside] = plan.buildings["lon"].to_numpy()[home[outside]]
        lat[outside] = plan.buildings["lat"].to_numpy()[home[outside]]
        cells[outside], index[outside] = area.locate(lng[outside], lat[outside])
    deadline_h = np.array([CATEGORIES[c][1] for c in names])[pd.Index(names).get_indexer(category)]
    deadline = (deadline_h * 3600).astype("timedelta64[s]")
    # Handling time: log-normal around 45% of the deadline; about 1 in 8 runs late, 1% gets stuck.
    handling_s = deadline_h * 3600 * 0.45 * np.exp(rng.normal(0, 0.7, n))
    handling_s = np.where(rng.random(n) < 0.01, handling_s * 8, handling_s).astype("int64")
    steps = np.sort(rng.uniform(0.02, 0.4, (n, 3)), axis=1)
    stage_times = np.empty((n, 6), dtype="datetime64[s]")
    stage_times[:, 0] = reported
    for k in range(3):
        stage_times[:, k + 1] = reported + (handling_s * steps[:, k]).astype("timedelta64[s]")
    stage_times[:, 4] = reported + handling_s.astype("timedelta64[s]")
    evaluated_after = rng.exponential(20 * 3600, n).astype("int64") + 600
    stage_times[:, 5] = stage_times[:, 4] + evaluated_after.astype("timedelta64[s]")
    end64 = np.datetime64(end.replace(microsecond=0), "s")
    reached = (stage_times <= end64).sum(axis=1) - 1
    never_evaluated = rng.random(n) < 0.1
    reached = np.where((reached == 5) & never_evaluated, 4, reached)
    status = np.array(STATUSES)[reached]
    late = stage_times[:, 4] > reported + deadline
    score_p = np.array([[0.02, 0.03, 0.10, 0.35, 0.50], [0.12, 0.18, 0.30, 0.25, 0.15]])
    satisfaction = np.where(late, rng.choice(5, n, p=score_p[1]), rng.choice(5, n, p=score_p[0])) + 1
    template = rng.integers(0, 3, n)
    description = _descriptions(category, template)
    b = plan.buildings
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series(np.arange(first, first + n)).map("SJ{:09d}".format).to_numpy(),
            "category": category,
            "affair_class": np.array([CATEGORIES[c][0] for c in names])[pd.Index(names).get_indexer(category)],
            "source": np.array(SOURCES)[rng.choice(4, n, p=[0.45, 0.3, 0.17, 0.08])],
            "priority": np.array(PRIORITIES)[rng.choice(3, n, p=[0.85, 0.12, 0.03])],
            "status": status,
            "reported_at": reported.astype("datetime64[us]"),
            "due_at": (reported + deadline).astype("datetime64[us]"),
            "resolved_at": pd.Series(stage_times[:, 4].astype("datetime64[us]")).where(reached >= 4).to_numpy(),
            "description": description,
            "address": b["name"].to_numpy()[home],
            "reporter_name": np.char.add(
                np.array(list("王李张刘陈杨黄赵吴周"))[rng.integers(0, 10, n)],
                np.where(rng.random(n) < 0.5, "先生", "女士"),
            ),
            "reporter_phone": phone_numbers(n, rng),
            "satisfaction": pd.array(np.where(reached == 5, satisfaction, 0), dtype="Int8"),
            "lon": lng,
            "lat": lat,
            "h3_cell": cells,
            "grid_index": index,
        }
    )
    frame.loc[reached != 5, "satisfaction"] = pd.NA
    events = _events(frame, stage_times, reached, satisfaction)
    return frame, events


def _descriptions(category: np.ndarray, template: np.ndarray) -> np.ndarray:
    names = list(SAMPLE_DESCRIPTIONS)
    table = np.array([SAMPLE_DESCRIPTIONS[c] for c in names])
    return table[pd.Index(names).get_indexer(category), template]


def _events(frame: pd.DataFrame, stage_times: np.ndarray, reached: np.ndarray, satisfaction: np.ndarray):
    departments = frame["category"].map({c: v[2] for c, v in CATEGORIES.items()}).to_numpy(dtype=object)
    parts = []
    actors = ("居民/热线", "指挥中心值班员", "指挥中心值班员", None, None, "回访专员")
    for stage, to_status in enumerate(STATUSES):
        rows = np.flatnonzero(reached >= stage)
        label = STATUS_LABELS_ZH[to_status]
        if stage == 2:
            note = "派单至" + departments[rows]
        elif stage == 5:
            note = np.char.add(np.char.add("回访满意度", satisfaction[rows].astype(str)), "分")
        else:
            note = np.full(len(rows), label)
        actor = departments[rows] if actors[stage] is None else np.full(len(rows), actors[stage])
        parts.append(
            pd.DataFrame(
                {
                    "incident_id": frame["incident_id"].to_numpy()[rows],
                    "from_status": None if stage == 0 else STATUSES[stage - 1],
                    "to_status": to_status,
                    "occurred_at": stage_times[rows, stage].astype("datetime64[us]"),
                    "actor": actor,
                    "note": note,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def generate(
    db_path: str | Path,
    scale_name: str = "demo",
    seed: int = 7,
    end: dt.datetime | None = None,
    incidents: int | None = None,
    progress: bool | None = None,
) -> dict[str, int]:
    """Build the synthetic city into ``db_path`` (replacing what it held); returns the table counts."""
    scale = SCALES[scale_name]
    if incidents is not None:
        scale = replace(scale, incidents=incidents)
    end = (end or dt.datetime.now()).replace(second=0, microsecond=0)
    chunks = -(-scale.incidents // INCIDENT_CHUNK)
    bar = tqdm(
        total=5 + chunks, desc=f"generate {scale_name}", unit="step", disable=None if progress is None else not progress
    )
    with bar:
        plan, tables = build_city(scale, seed)
        bar.update()
        con = store.connect(db_path)
        try:
            with store.transaction(con):
                clear_city(con)
                grids = plan.grids
                point = shapely.point_on_surface(plan.grid_geoms)
                rows = grids[
                    [
                        "grid_code",
                        "name",
                        "community_code",
                        "street_code",
                        "district_code",
                        "community_name",
                        "street_name",
                        "district_name",
                    ]
                ].copy()
                rows["population"], rows["households"] = None, None
                rows["area_m2"] = area_m2(plan.grid_geoms)
                rows["lon"], rows["lat"] = shapely.get_x(point), shapely.get_y(point)
                rows["geometry"] = shapely.to_wkb(plan.grid_geoms)
                append_rows(con, "grids", rows)
                refresh_grid_derivatives(con)
                bar.update()
                area = read_area(con)
                b = plan.buildings
                cells, index = area.locate(b["lon"].to_numpy(), b["lat"].to_numpy())
                b = b.assign(h3_cell=cells, grid_index=index)[index >= 0]
                b = b.assign(geometry=shapely.to_wkb(b["geometry"].to_numpy()))
                append_rows(con, "buildings", b.drop(columns=["grid"]), area.code_table)
                fill_grid_population_from_buildings(con)
                roll_up_population(con)
                f = tables["facilities"]
                cells, index = area.locate(f["lon"].to_numpy(), f["lat"].to_numpy())
                f = f.assign(h3_cell=cells, grid_index=index)
                append_rows(con, "facilities", f[index >= 0], area.code_table)
                append_rows(con, "roads", tables["roads"])
                append_rows(con, "grid_workers", tables["grid_workers"])
                bar.update()
            rng = np.random.default_rng([seed, 1])
            categories, times = _incident_times(scale, end, rng)
            for chunk in range(chunks):
                first = chunk * INCIDENT_CHUNK
                part = slice(first, min(first + INCIDENT_CHUNK, scale.incidents))
                frame, events = _incident_chunk(scale, plan, area, categories[part], times[part], first + 1, end, rng)
                with store.transaction(con):
                    append_rows(con, "incidents", frame, area.code_table)
                    append_rows(con, "incident_events", events)
                bar.update()
            with store.transaction(con):
                sync_derived_tables(con)
            set_meta(con, "generated", f"{scale_name} seed={seed}")
            set_meta(con, "demo_city", "true")  # only a generated city may get the demo accounts
            set_meta(con, "generated_end", end.isoformat(sep=" "))
            bump_data_version(con)
            bar.update()
            compute_coverage(con)  # the planner page (服务圈分析) opens with results
            with store.transaction(con):
                generate_party(con, seed, end)  # 党建引领: organisations, members, staffing
            bar.update()
            return table_counts(con)
        finally:
            con.close()
