"""Ingest benchmark: H3 indexing + grid assignment + storing N incident points in DuckDB.

    python bench/ingest.py --incidents 1000000
    python bench/ingest.py --incidents 10000000

Runs on the city-scale grids (about 65,000 grids), copied from ``--grids-from`` (default
/tmp/city-6.duckdb, opened read-only) into a fresh temporary database under /tmp that is deleted
afterwards; without such a file the grids are generated (``gridtwin generate --scale city``, minutes).
"End to end" is H3 cells + grid assignment + the write ``gridtwin load incidents`` takes (incidents,
open_incidents, resolutions, imported history, the loop roll-up) committed and checkpointed to disk.  The baseline is
measured in the same run on the same points and grids: a geopandas ``sjoin`` (predicate ``within``),
which only assigns points and neither indexes nor stores them.

Every stage prints its wall-clock and CPU seconds (all threads of the process, DuckDB's included): on a
busy machine the CPU seconds are the steadier figure, and their sum over the cores is the fastest this
end to end can go here.  As a ceiling, DuckDB's own append of the same Arrow rows to bare tables shaped like
the real ones (nothing derived, no defaults) is timed in the same run: every table the bulk path writes
(incidents, open_incidents, resolutions, incident_events, loop_daily, loop_district_daily), then ``incidents``
alone with every column and with only the non-text ones.  "bound" is the locate stages plus the first of these:
the fastest end to end DuckDB allows for these tables on this machine at this load.  ``--set threads=1`` (and
other DuckDB settings, repeatable) applies to the write and the ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from geo.h3cells import POINT_RES, latlng_to_cells
from pipelines import store
from pipelines.area import read_area
from pipelines.domain import CATEGORIES, PRIORITIES, SOURCES
from pipelines.generate import generate
from pipelines.incidents import bulk
from pipelines.incidents.repository import append_arrow, upsert_incidents
from pipelines.loaders import INCIDENT_COLUMNS
from pipelines.store.loop_sums import incident_sums

OUTSIDE_SHARE = 0.02
"""Share of points placed just beyond the city, as real feeds carry some."""


def city_grids(db: Path, source: Path, seed: int) -> None:
    """A new database at ``db`` holding only the grids (and their H3 cover) of ``source``, or generated ones."""
    con = store.connect(db)
    try:
        if source.exists():
            quoted = str(source).replace("'", "''")  # ATTACH takes no parameters
            try:
                con.execute(f"ATTACH '{quoted}' AS source (READ_ONLY)")
            except duckdb.IOException as exc:
                raise SystemExit(
                    f"cannot read the grids of {source} ({exc}); pass --grids-from another city file"
                ) from None
            for table in ("grids", "grid_cells"):
                con.execute(f"INSERT INTO {table} SELECT * FROM source.{table}")
            con.execute("DETACH source")
            return
    finally:
        con.close()
    print(f"{source} not found: generating the city grids into {db} (minutes) …", flush=True)
    generate(db, "city", seed=seed, incidents=0)


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
    return f"{n / seconds:>12,.0f} pts/s  {seconds:8.2f}"


def ratio(baseline_s: float, ours_s: float) -> str:
    """How many times faster ours is than the baseline, said plainly either way."""
    times = baseline_s / ours_s
    return f"{times:.2f}× ({'faster' if times >= 1 else 'slower'})"


def store_rows(db: Path, located: pd.DataFrame, area, stages: dict, settings: list[str]) -> dict:
    """Write the located points the way ``gridtwin load incidents`` does (``loaders.write_incidents``: the same
    columns and code table), commit and checkpoint; each stage's (wall, CPU) seconds go to ``stages``."""
    with bulk.stage(stages, "open the database"):
        con = store.connect(db)
    configure(con, settings)
    try:
        con.execute("BEGIN TRANSACTION")
        upsert_incidents(con, located[INCIDENT_COLUMNS], area.code_table, "bench", "bench/ingest.py", stages)
        with bulk.stage(stages, "commit + checkpoint"):
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("incidents", "open_incidents", "resolutions", "incident_events", "loop_daily", "recent_incidents")
        }
    finally:
        con.close()


def configure(con, settings: list[str]) -> None:
    """``SET name = value`` for each ``--set name=value`` (the bench's DuckDB settings experiments)."""
    for setting in settings:
        name, _, value = setting.partition("=")
        con.execute(f"SET {name.strip()} = '{value.strip()}'")


def written_rows(located: pd.DataFrame, area) -> dict[str, pa.Table]:
    """The Arrow rows the bulk path appends to each table for these points (built by its own functions, no
    database): incidents, open_incidents, resolutions, incident_events and the loop's roll-ups (loop_daily, loop_community_daily,
    loop_district_daily)."""
    tables: dict[str, pa.Table] = {}
    batch = bulk.batch_table(located[INCIDENT_COLUMNS])
    rows = bulk.insert_incidents(tables.__setitem__, batch, area.code_table, "bench", "bench/ingest.py")
    tables.update(incident_sums(rows))
    return {name: rows for name, rows in tables.items() if len(rows)}


def ceilings(db: Path, located: pd.DataFrame, area, settings: list[str]) -> dict[str, tuple[float, float]]:
    """DuckDB's own append rate, as the bound: the same Arrow rows appended (committed, checkpointed) to bare
    tables shaped like the real ones (no defaults, no derived work): every table the bulk path writes, then
    ``incidents`` alone, then only its non-text columns.  (wall, CPU) seconds of each."""
    tables = written_rows(located, area)
    rows = tables["incidents"]
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_dictionary, pa.types.is_null)
    numeric = [f.name for f in rows.schema if not any(test(f.type) for test in text)]
    every = f"every table written ({', '.join(f'{t} {len(r):,}' for t, r in tables.items())} rows)"
    out: dict[str, tuple[float, float]] = {}
    con = store.connect(db)
    configure(con, settings)
    try:
        for name, parts in (
            (every, tables),
            (f"incidents alone, all {rows.num_columns} columns", {"incidents": rows}),
            (f"incidents alone, only the {len(numeric)} non-text columns", {"incidents": rows.select(numeric)}),
        ):
            for table in parts:
                con.execute(f"CREATE OR REPLACE TABLE _ceiling_{table} AS SELECT * FROM {table} LIMIT 0")
            with bulk.stage(out, name):
                con.execute("BEGIN TRANSACTION")
                for table, part in parts.items():
                    append_arrow(con, f"_ceiling_{table}", part)
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            for table in parts:
                con.execute(f"DROP TABLE _ceiling_{table}")
    finally:
        con.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000, help="number of points (default 1,000,000)")
    parser.add_argument("--grids-from", type=Path, default=Path("/tmp/city-6.duckdb"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a DuckDB setting for the write and the ceiling, e.g. threads=1 (repeatable)",
    )
    args = parser.parse_args(argv)
    n = args.incidents
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores", flush=True)
    if args.set:
        print(f"DuckDB settings for the write and the ceiling: {', '.join(args.set)}")

    handle, name = tempfile.mkstemp(prefix="gridtwin-ingest-", suffix=".duckdb", dir="/tmp")
    os.close(handle)
    db = Path(name)
    db.unlink()  # DuckDB creates the file itself
    try:
        run(db, n, args)
    finally:
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)


def run(db: Path, n: int, args) -> None:
    city_grids(db, args.grids_from, args.seed)
    con = store.connect(db, read_only=True)
    t = time.perf_counter()
    area = read_area(con)
    locator = area.locator
    setup = time.perf_counter() - t
    con.close()
    frame = incident_frame(n, area.bounds, args.seed)
    lng, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    area.locate(lng[:10_000], lat[:10_000])  # warm-up: load the compiled kernels

    stages: dict[str, tuple[float, float]] = {}
    t0 = time.perf_counter()
    with bulk.stage(stages, f"H3 index (res {POINT_RES})"):
        cells = latlng_to_cells(lat, lng, POINT_RES)
    with bulk.stage(stages, "grid assignment"):
        index = locator.assign(lng, lat, cells)
    with bulk.stage(stages, "keep the located rows"):
        located = frame.assign(h3_cell=cells, grid_index=index)[index >= 0]
    counts = store_rows(db, located, area, stages, args.set)
    ours = time.perf_counter() - t0
    ceiling = ceilings(db, located, area, args.set)
    del located

    grids = gpd.GeoDataFrame({"grid_index": np.arange(len(area.geoms))}, geometry=list(area.geoms), crs="EPSG:4326")
    b0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, grids, how="left", predicate="within")
    baseline = time.perf_counter() - b0

    first = joined[~joined.index.duplicated(keep="first")]["grid_index"].fillna(-1).astype(np.int64)
    disagree = int((first.reindex(range(n)).to_numpy() != index).sum())
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    load = os.getloadavg()

    print(f"\ningest benchmark: {n:,} incident points on {len(area.geoms):,} grids (temporary {db}, deleted)")
    print(f"  setup (read grids + cover, compile lookup, once per process): {setup:.2f} s")
    print(f"  {'stage':<34} {'rate (wall)':>16}  {'wall s':>8} {'CPU s':>8}  (CPU: all threads of the process)")
    for name, (wall_s, cpu_s) in stages.items():
        print(f"  {name:<34} {rate(n, wall_s)}  {cpu_s:8.2f}")
    cpu_total = sum(cpu_s for _, cpu_s in stages.values())
    print(
        f"  gridtwin end to end                {rate(n, ours)}  {cpu_total:8.2f}   stored: "
        + ", ".join(f"{t} {c:,}" for t, c in counts.items())
    )
    cores = os.cpu_count() or 1
    print(
        f"  CPU-bound limit on {cores} idle cores: {n * cores / cpu_total:,.0f} pts/s (CPU s above spread on all cores)"
    )
    print("  ceiling: DuckDB's bare append of the same Arrow rows (commit + checkpoint), nothing derived:")
    for name, (wall_s, cpu_s) in ceiling.items():
        print(f"    {name}\n    {'':<32} {rate(n, wall_s)}  {cpu_s:8.2f}")
    every_s = next(iter(ceiling.values()))[0]
    locate_s = sum(stages[k][0] for k in stages if k.startswith(("H3 index", "grid assignment", "keep the")))
    bound = locate_s + every_s
    every_cpu = next(iter(ceiling.values()))[1]
    locate_cpu = sum(stages[k][1] for k in stages if k.startswith(("H3 index", "grid assignment", "keep the")))
    print(
        f"  bound: locate ({locate_s:.2f} s) + bare append of every table written ({every_s:.2f} s):"
        f" {n / bound:,.0f} pts/s; end to end reaches {bound / ours:.0%} of it\n"
        f"  bound in CPU s: {locate_cpu + every_cpu:.2f} (on {cores} idle cores at best"
        f" {n * cores / (locate_cpu + every_cpu):,.0f} pts/s) vs end to end {cpu_total:.2f}"
        f" ({(locate_cpu + every_cpu) / cpu_total:.0%})"
    )
    print(f"  baseline geopandas sjoin   {rate(n, baseline)}   (assignment only, nothing stored)")
    print(f"  end to end vs baseline:    {ratio(baseline, ours)}")
    print(f"  assignment vs baseline:    {ratio(baseline, stages['grid assignment'][0])}")
    print(f"  points outside every grid: {int((index < 0).sum()):,}; disagreements with sjoin: {disagree:,}")
    print(
        f"  peak memory: {peak_gib:.1f} GiB; load average at end {load[0]:.2f}   ({dt.datetime.now():%Y-%m-%d %H:%M})"
    )


if __name__ == "__main__":
    main()
