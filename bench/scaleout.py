"""Scale-out benchmark: a synthetic incident archive on disk, processed by `gridtwin batch` on 1 and 2 local workers.

    flock /tmp/gridtwin-bench.lock python bench/scaleout.py                       # 100M incidents
    flock /tmp/gridtwin-bench.lock python bench/scaleout.py --incidents 20000000 --grids-db /tmp/city.duckdb
    # in steps, each one short under the lock: grow a kept archive, then measure on it
    flock /tmp/gridtwin-bench.lock python bench/scaleout.py --archive /tmp/arch --incidents 10000000 --build-only
    flock /tmp/gridtwin-bench.lock python bench/scaleout.py --archive /tmp/arch --incidents 20000000 --build-only
    flock /tmp/gridtwin-bench.lock python bench/scaleout.py --archive /tmp/arch --incidents 20000000

Steps, each timed:
1. build (or grow) the archive under /tmp, one chunk (``--chunk`` incidents, one month) at a time: points spread
   over the grids' extent, located on the grids of ``--grids-db`` (read-only; the 65,025-grid city by
   default), split by district, written as GeoParquet with their events — never the archive in memory;
2. the redraw: every grid moved 30 m east (GeoParquet), read as `gridtwin load grids` reads it;
3. with 1 and then 2 worker processes (``LocalCluster``, 1 thread each, 4 GB limit): ``reassign`` and
   ``aggregate``, throughput in incidents per second and each worker's peak resident memory;
4. an archive-backed dashboard query (one district's incidents per category over one month) with
   partition pruning (filter on the hive columns) and without (same filter on the data columns,
   hive folders ignored), and a small-area query, reading only the row groups whose bbox meets it;
5. ``--row-groups``: one partition rewritten at several row-group sizes, the small-area query timed on each.
Generated files are deleted at the end (``--keep`` keeps them); an ``--archive DIR`` is kept, and grown to
``--incidents`` (the chunks it lacks are appended) before it is measured.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import duckdb
import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from geo.h3cells import POINT_RES, latlng_to_cells
from pipelines import store
from pipelines.archive import batch, layout, partitions
from pipelines.archive.synthetic import write_synthetic_archive
from pipelines.area import read_area

MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _worker_peak() -> float:
    """The worker's own peak resident memory (VmHWM: ru_maxrss would carry its parent's peak across exec)."""
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 2**20


def redraw(grids_db: Path, path: Path, shift_deg: float = 0.0003) -> None:
    con = store.connect(grids_db, read_only=True)
    try:
        frame = con.execute(
            "SELECT grid_code, name, community_code, street_code, district_code, community_name, street_name,"
            " district_name, geometry FROM grids"
        ).df()
    finally:
        con.close()
    geoms = shapely.from_wkb(frame.pop("geometry").map(bytes).to_numpy())
    gdf = gpd.GeoDataFrame(
        frame, geometry=shapely.transform(geoms, lambda xy: xy + np.array([shift_deg, 0.0])), crs=4326
    )
    gdf.to_parquet(path)


def redrawn(grids_db: Path, work: Path, kept: str | None):
    """The redraw read as `gridtwin batch reassign --grids` reads it; kept beside a kept archive for the next run."""
    cache = Path(f"{kept.rstrip('/')}-redraw.pickle") if kept else None
    if cache and cache.exists():
        with cache.open("rb") as f:
            return pickle.load(f)
    started = time.perf_counter()
    redraw(grids_db, work / "new_grids.parquet")
    prepared = batch.area_from_file(work / "new_grids.parquet")
    took = time.perf_counter() - started
    print(f"  redraw: {len(prepared[0].codes):,} grids moved 30 m, read and covered in {took:.1f} s ({load()})")
    if cache:
        with cache.open("wb") as f:
            pickle.dump(prepared, f)
    return prepared


def run_jobs(archive: str, out: str, prepared, workers: int, rows: int, jobs: list[str]) -> None:
    lines, peaks = [f"  {workers} worker(s):"], []
    with batch.dask_client("local", workers, "4GB") as client:
        client.run(lambda: __import__("pipelines.archive.partitions"))
        if "reassign" in jobs:
            started = time.perf_counter()
            batch.reassign(archive, "", out, client, prepared=prepared)
            took = time.perf_counter() - started
            lines.append(f"    reassign  {took:8.1f} s  {rows / took:12,.0f} incidents/s   ({load()})")
            peaks.append(("after reassign", client.run(_worker_peak)))
        if "aggregate" in jobs:
            started = time.perf_counter()
            table = batch.aggregate(archive, f"{out}-agg.parquet", client)
            took = time.perf_counter() - started
            assert int(table["incidents"].sum()) == rows
            lines.append(f"    aggregate {took:8.1f} s  {rows / took:12,.0f} incidents/s   ({load()})")
            peaks.append(("after " + " and ".join(jobs), client.run(_worker_peak)))
    print("\n".join(lines))
    print(
        "    peak resident memory (VmHWM) per worker: "
        + "; ".join(f"{when} " + ", ".join(f"{v:.2f}" for v in got.values()) + " GiB" for when, got in peaks)
    )
    shutil.rmtree(out, ignore_errors=True)


def baseline(archive: str, area, work: Path, sample: int = 8) -> None:
    """The single-machine path in this process on files of the same archive: H3 + exact assignment (what
    `Area.locate` does), the assignment alone (reassign keeps the stored H3 cells), and `reassign_file`
    (read, assign, write) called in a loop without Dask."""
    files = batch.archive_files(archive)
    files = files[:: max(1, len(files) // sample)][:sample]
    fs, root = layout.filesystem(archive)
    paths = [f"{root}/{layout.partition_dir('incidents', d, m)}/{n}.parquet" for d, m, n in files]
    points = pa.concat_tables([layout.read_file(fs, p, ["lon", "lat", "h3_cell"]) for p in paths])
    lon, lat = points.column("lon").to_numpy(), points.column("lat").to_numpy()
    stored = points.column("h3_cell").to_numpy().astype(np.uint64)
    locator, _ = area.prepared()
    locator.assign(lon, lat, stored)  # warm: the kernels load from numba's cache once per process
    started = time.perf_counter()
    locator.assign(lon, lat, latlng_to_cells(lat, lon, POINT_RES))
    with_h3 = time.perf_counter() - started
    started = time.perf_counter()
    locator.assign(lon, lat, stored)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    for district, month, name in files:
        partitions.reassign_file(archive, str(work / "baseline"), district, month, name, area)
    whole = time.perf_counter() - started
    shutil.rmtree(work / "baseline", ignore_errors=True)
    n = len(lon)
    print(f"  baseline in this process, {n:,} incidents of {len(files)} files, {load()}")
    print(f"    H3 + exact assignment     {n / with_h3:12,.0f} incidents/s")
    print(f"    assignment (stored cells) {n / alone:12,.0f} incidents/s")
    print(f"    reassign_file, no Dask    {n / whole:12,.0f} incidents/s (read, assign, write with events)")


def timed(con, sql: str, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - started)
    return best, result


def queries(archive: str, area) -> None:
    glob = f"{archive}/incidents/district=*/month=*/*.parquet"
    found = [p for p in batch.archive_partitions(archive) if p[0] != layout.NO_DISTRICT]
    district, month = found[len(found) // 2]
    con = duckdb.connect()
    con.execute("SET threads = 2")
    pruned = (
        f"SELECT category, count(*) FROM read_parquet('{glob}', hive_partitioning = true,"
        " hive_types = {'district': VARCHAR, 'month': VARCHAR})"
        f" WHERE district = '{district}' AND month = '{month}' GROUP BY ALL ORDER BY ALL"
    )
    unpruned = (
        f"SELECT category, count(*) FROM read_parquet('{glob}', hive_partitioning = false)"
        f" WHERE district_code = '{district}' AND reported_at >= '{month}-01'"
        f" AND reported_at < '{month}-01'::DATE + INTERVAL 1 MONTH GROUP BY ALL ORDER BY ALL"
    )
    with_s, a = timed(con, pruned)
    without_s, b = timed(con, unpruned)
    assert a == b
    print(f"  query: one district × one month by category ({sum(n for _, n in a):,} incidents), {load()}")
    print(f"    with partition pruning    {with_s * 1000:8.1f} ms")
    print(f"    without (data columns)    {without_s * 1000:8.1f} ms  ({without_s / with_s:.1f}x)")
    west, south, east, north = shapely.bounds(area.geoms[len(area.geoms) // 2])
    small = (
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true,"
        " hive_types = {'district': VARCHAR, 'month': VARCHAR})"
        f" WHERE month = '{month}' AND bbox.xmin <= {east} AND bbox.xmax >= {west}"
        f" AND bbox.ymin <= {north} AND bbox.ymax >= {south}"
    )
    small_s, c = timed(con, small)
    print(f"    one grid's bbox, one month, all districts: {small_s * 1000:8.1f} ms ({c[0][0]:,} incidents)")
    con.close()


def row_groups(archive: str, area, sizes=(8_192, 32_768, 131_072, 1_048_576)) -> None:
    fs, root = layout.filesystem(archive)
    found = [p for p in layout.partition_files(fs, root, "incidents") if "district=_" not in p]
    rows = layout.read_file(fs, f"{root}/{found[0]}")
    west, south, east, north = shapely.bounds(area.geoms[len(area.geoms) // 2])
    con = duckdb.connect()
    con.execute("SET threads = 2")
    print(f"  row-group size on one partition ({rows.num_rows:,} rows), one grid's bbox, {load()}")
    for size in sizes:
        path = f"{root}/rg-{size}.parquet"
        layout.write_file(fs, path, rows, size)
        sql = (
            f"SELECT count(*) FROM read_parquet('{path}') WHERE bbox.xmin <= {east} AND bbox.xmax >= {west}"
            f" AND bbox.ymin <= {north} AND bbox.ymax >= {south}"
        )
        best, _ = timed(con, sql, repeat=5)
        full, _ = timed(con, f"SELECT category, count(*) FROM read_parquet('{path}') GROUP BY ALL", repeat=3)
        mib = os.path.getsize(path) / 2**20
        print(
            f"    {size:>9,} rows/group: {mib:7.1f} MiB, small area {best * 1000:6.1f} ms, full scan {full * 1000:6.1f} ms"
        )
        os.remove(path)
    con.close()


def archive_rows(archive: str) -> int:
    fs, root = layout.filesystem(archive)
    return sum(pq.read_metadata(f"{root}/{p}").num_rows for p in layout.partition_files(fs, root, "incidents"))


def build(archive: str, area, total: int, chunk: int) -> None:
    """Grow ``archive`` to ``total`` incidents (whole chunks; nothing to do when it holds them already)."""
    have = archive_rows(archive) if Path(archive).exists() else 0
    if have % chunk:
        raise SystemExit(f"{archive} holds {have:,} incidents, not a whole number of --chunk {chunk:,}")
    started = time.perf_counter()
    if total > have:
        write_synthetic_archive(archive, area, total - have, MONTHS, chunk, first_chunk=have // chunk)
    build_s = time.perf_counter() - started
    rows = archive_rows(archive)
    size = sum(f.stat().st_size for f in Path(archive).rglob("*.parquet")) / 2**30
    files = layout.partition_files(*layout.filesystem(archive), "incidents")
    print(f"  archive: {rows:,} incidents in {len(files):,} files, {size:.2f} GiB ({load()})")
    largest = max(pq.read_metadata(f"{archive}/{p}").num_rows for p in files)
    print(f"    largest incidents file {largest:,} rows")
    if total > have:
        print(
            f"    {total - have:,} appended in {build_s:.1f} s ({(total - have) / build_s:,.0f} incidents/s;"
            f" peak memory of this process {peak_gib():.2f} GiB)"
        )


def export_bench(db: Path, work: Path) -> None:
    """`gridtwin export` of a database (read-only), then the same export again with nothing changed."""
    from pipelines.archive.export import export_archive

    target = str(work / "export")
    print(f"  export of {db}, {load()}")
    started = time.perf_counter()
    first = export_archive(db, target)
    first_s = time.perf_counter() - started
    size = sum(f.stat().st_size for f in Path(target).rglob("*.parquet")) / 2**30
    print(f"    first export   {first_s:8.1f} s  {first.lines()[0]}; {size:.2f} GiB")
    started = time.perf_counter()
    again = export_archive(db, target)
    print(f"    re-export      {time.perf_counter() - started:8.1f} s  {again.lines()[0]}")
    shutil.rmtree(target, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000, help="incidents generated at a time")
    parser.add_argument("--grids-db", type=Path, default=Path("/tmp/city.duckdb"), help="grids (read-only)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    parser.add_argument("--jobs", default="reassign,aggregate", help="batch jobs to measure")
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-process baseline")
    parser.add_argument("--row-groups", action="store_true", help="also compare row-group sizes")
    parser.add_argument("--keep", action="store_true", help="keep the generated archive")
    parser.add_argument("--archive", help="build into (or grow, or reuse) this archive folder and keep it")
    parser.add_argument("--build-only", action="store_true", help="stop once the archive holds --incidents")
    parser.add_argument("--export-db", type=Path, help="only time `gridtwin export` of this database (read-only)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gridtwin-scaleout-", dir="/tmp"))
    what = (
        f"export of {args.export_db}" if args.export_db else f"{args.incidents:,} incidents, grids of {args.grids_db}"
    )
    print(f"scale-out bench: {what}, {load()}")
    try:
        if args.export_db:
            export_bench(args.export_db, work)
            return
        con = store.connect(args.grids_db, read_only=True)
        try:
            area = read_area(con)
        finally:
            con.close()
        archive = args.archive or str(work / "archive")
        build(archive, area, args.incidents, args.chunk)
        rows = archive_rows(archive)
        if args.build_only:
            return
        prepared = redrawn(args.grids_db, work, args.archive)
        if not args.no_baseline:
            baseline(archive, prepared[0], work)
        for workers in (int(w) for w in args.workers.split(",")):
            run_jobs(archive, str(work / f"new-{workers}"), prepared, workers, rows, args.jobs.split(","))
        queries(archive, area)
        if args.row_groups:
            row_groups(archive, area)
    finally:
        if args.keep:
            print(f"  kept {work} {args.archive or ''}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
