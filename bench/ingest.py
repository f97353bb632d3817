"""Ingest benchmark: H3 indexing + grid assignment + load of N incident points.

    python bench/ingest.py --incidents 1000000
    python bench/ingest.py --incidents 10000000

Runs on the city-scale grids (about 65,000 grids; built once with
``gridtwin generate --scale city --incidents 0`` into ``--db`` if that file
holds no grids).  The baseline is measured in the same run on the same points
and grids: a geopandas ``sjoin`` (predicate ``within``), which only assigns
points and neither indexes nor loads them.  The load is the path
``gridtwin load incidents`` takes (upsert plus import history) inside a
transaction that is rolled back, so the database is unchanged afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.h3cells import POINT_RES, latlng_to_cells
from pipelines import store
from pipelines.area import read_area
from pipelines.domain import CATEGORIES, PRIORITIES, SOURCES
from pipelines.generate import generate
from pipelines.loaders import write_incidents

OUTSIDE_SHARE = 0.02
"""Share of points placed just beyond the city, as real feeds carry some."""


def ensure_city(db: Path, scale: str, seed: int) -> None:
    if db.exists():
        con = store.connect(db, read_only=True)
        try:
            if con.execute("SELECT count(*) FROM grids").fetchone()[0] > 0:
                return
        finally:
            con.close()
    print(f"building the {scale} grids into {db} (once; reused by later runs) …", flush=True)
    generate(db, scale, seed=seed, incidents=0)


def incident_frame(n: int, bounds: tuple[float, float, float, float], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    pad_x, pad_y = (east - west) * OUTSIDE_SHARE / 2, (north - south) * OUTSIDE_SHARE / 2
    names = list(CATEGORIES)
    category = np.array(names)[rng.integers(0, len(names), n)]
    reported = np.datetime64("2026-11-01T00:00:00") + rng.integers(0, 21 * 86400, n).astype("timedelta64[s]")
    deadline = np.array([CATEGORIES[c][1] for c in names])[pd.Index(names).get_indexer(category)]
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series(np.arange(n)).map("BENCH{:09d}".format).to_numpy(),
            "category": category,
            "affair_class": np.array([CATEGORIES[c][0] for c in names])[pd.Index(names).get_indexer(category)],
            "source": np.array(SOURCES)[rng.integers(0, len(SOURCES), n)],
            "priority": np.array(PRIORITIES)[rng.integers(0, len(PRIORITIES), n)],
            "status": "reported",
            "reported_at": reported.astype("datetime64[us]"),
            "due_at": (reported + (deadline * 3600).astype("timedelta64[s]")).astype("datetime64[us]"),
            "resolved_at": pd.NaT,
            "lon": rng.uniform(west - pad_x, east + pad_x, n),
            "lat": rng.uniform(south - pad_y, north + pad_y, n),
        }
    )
    for column in ("description", "address", "reporter_name", "reporter_phone"):
        frame[column] = None
    frame["satisfaction"] = pd.array([pd.NA] * n, dtype="Int8")
    return frame


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} pts/s  ({seconds:7.2f} s)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="number of points (default 1,000,000)")
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridtwin-bench-city.duckdb"))
    parser.add_argument("--scale", default="city", choices=["demo", "city"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    n = args.incidents

    ensure_city(args.db, args.scale, args.seed)
    con = store.connect(args.db)
    t = time.perf_counter()
    area = read_area(con)
    locator = area.locator
    setup = time.perf_counter() - t
    frame = incident_frame(n, area.bounds, args.seed)
    lng, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    area.locate(lng[:10_000], lat[:10_000])  # warm-up: load the compiled kernels

    t0 = time.perf_counter()
    cells = latlng_to_cells(lat, lng, POINT_RES)
    t1 = time.perf_counter()
    index = locator.assign(lng, lat, cells)
    t2 = time.perf_counter()
    located = frame.assign(h3_cell=cells, grid_index=index)[index >= 0]
    con.execute("BEGIN TRANSACTION")
    try:
        write_incidents(con, located, area, "bench", "bench/ingest.py")
        loaded = con.execute("SELECT count(*) FROM incidents WHERE incident_id LIKE 'BENCH%'").fetchone()[0]
    finally:
        con.execute("ROLLBACK")
    t3 = time.perf_counter()
    con.close()
    ours = t3 - t0

    grids = gpd.GeoDataFrame({"grid_index": np.arange(len(area.geoms))}, geometry=list(area.geoms), crs="EPSG:4326")
    b0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, grids, how="left", predicate="within")
    b1 = time.perf_counter()
    baseline = b1 - b0

    first = joined[~joined.index.duplicated(keep="first")]["grid_index"].fillna(-1).astype(np.int64)
    disagree = int((first.reindex(range(n)).to_numpy() != index).sum())
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print(f"\ningest benchmark: {n:,} incident points on {len(area.geoms):,} grids ({args.db})")
    print(f"  setup (read grids + cover, compile lookup, once per process): {setup:.2f} s")
    print(f"  H3 index (res {POINT_RES})        {rate(n, t1 - t0)}")
    print(f"  grid assignment            {rate(n, t2 - t1)}")
    print(f"  load into DuckDB           {rate(n, t3 - t2)}   {loaded:,} rows + history, rolled back")
    print(f"  gridtwin end to end        {rate(n, ours)}")
    print(f"  baseline geopandas sjoin   {rate(n, baseline)}   (assignment only)")
    print(f"  ratio end to end / baseline:        {baseline / ours:6.1f}x")
    print(f"  ratio assignment / baseline:        {baseline / (t2 - t1):6.1f}x")
    print(f"  points outside every grid: {int((index < 0).sum()):,}; disagreements with sjoin: {disagree:,}")
    print(f"  peak memory: {peak_gib:.1f} GiB   ({dt.datetime.now():%Y-%m-%d %H:%M})")


if __name__ == "__main__":
    main()
