"""Deterministic synthetic city (示例区): the plan (:mod:`pipelines.city_plan`), incidents with their history, load.

The city is clearly fictional but placed at Hangzhou's coordinates so that
maps, H3 cells and GCJ-02 offsets behave as for a real Chinese city.
Everything is vectorised so that the ``city`` scale (65,000 grids,
1,000,000 buildings, 10,000,000 incidents) finishes on a 2-core machine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geo.measure import area_m2, metres_to_degrees
from pipelines import store
from pipelines.area import read_area
from pipelines.city_plan import ORIGIN_LAT, SCALES, CityPlan, Scale, build_city
from pipelines.coverage import compute_coverage
from pipelines.domain import CATEGORIES, PRIORITIES, SAMPLE_DESCRIPTIONS, SOURCES
from pipelines.incidents.repository import sync_derived_tables
from pipelines.loaders import refresh_grid_derivatives
from pipelines.names import phone_numbers
from pipelines.party.generate import generate_party
from pipelines.store.areas import fill_grid_population_from_buildings, roll_up_population
from pipelines.store.governance_generate import generate_governance
from pipelines.store.meta import bump_data_version, set_meta
from pipelines.store.rows import append_rows, clear_city, table_counts
from pipelines.vocabulary import STATUS_LABELS_ZH

LOOP_STAGES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "evaluated")
"""The stages a generated incident passes (核查 is recorded beside them by :mod:`pipelines.store.governance_generate`)."""

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
    status = np.array(LOOP_STAGES)[reached]
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
    for stage, to_status in enumerate(LOOP_STAGES):
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
                    "from_status": None if stage == 0 else LOOP_STAGES[stage - 1],
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
                generate_governance(con, seed, end)  # 核查, 吹哨报到, 反向评价, 议事协商
            bar.update()
            return table_counts(con)
        finally:
            con.close()
