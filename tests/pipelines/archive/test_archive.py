"""The GeoParquet archive: export (valid GeoParquet 1.1, sorted, incremental) and Dask batch jobs that give the
single-machine results, on a 2-process LocalCluster."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely

from pipelines import store
from pipelines.archive import batch, layout
from pipelines.archive.export import export_archive
from pipelines.archive.synthetic import synthetic_incidents, write_synthetic_archive
from pipelines.area import read_area
from pipelines.cli import main
from pipelines.errors import GridtwinError
from pipelines.incidents.repository import sync_derived_tables
from pipelines.loaders import load_file
from pipelines.store.rows import append_rows

START, END = dt.datetime(2026, 8, 1), dt.datetime(2026, 11, 1)
CODES = ["grid_code", "community_code", "street_code", "district_code"]


def _grids(data_dir, path, shift_deg=0.0, recode=()):
    grids = gpd.read_file(data_dir / "grids.geojson")
    for i in recode:
        grids.loc[i, "grid_code"] = "330107" + grids.loc[i, "grid_code"][6:]
        grids.loc[i, "district_name"] = "测试二区"
    grids["geometry"] = grids.geometry.translate(xoff=shift_deg)
    grids.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def city(tmp_path_factory, data_dir):
    """Six test grids in two districts, 3,000 incidents (some outside every grid) over three months."""
    folder = tmp_path_factory.mktemp("archive")
    db = folder / "city.duckdb"
    load_file(db, "grids", _grids(data_dir, folder / "grids.geojson", recode=(2, 5)), progress=False)
    con = store.connect(db)
    try:
        area = read_area(con)
        west, south, east, north = area.bounds
        box = (west - 0.0005, south - 0.0005, east + 0.0005, north + 0.0005)
        incidents, events = synthetic_incidents(np.random.default_rng(3), 3000, box, START, END, 1)
        cells, index = area.locate(incidents["lon"].to_numpy(), incidents["lat"].to_numpy())
        with store.transaction(con):
            append_rows(con, "incidents", incidents.assign(h3_cell=cells, grid_index=index), area.code_table)
            append_rows(con, "incident_events", events)
            sync_derived_tables(con)
            spots = incidents.iloc[:200]  # facilities too: a redraw re-assigns every point layer
            facilities = pd.DataFrame(
                {"facility_id": "F" + spots["incident_id"], "type": "幼儿园", "name": "测试幼儿园"}
                | {"lon": spots["lon"], "lat": spots["lat"], "h3_cell": cells[:200], "grid_index": index[:200]}
            )
            append_rows(con, "facilities", facilities[index[:200] >= 0], area.code_table)
    finally:
        con.close()
    new_grids = _grids(data_dir, folder / "new_grids.geojson", shift_deg=0.0004, recode=(1, 2, 5))
    return folder, db, new_grids


@pytest.fixture(scope="module")
def archive(city):
    folder, db, _ = city
    export_archive(db, str(folder / "arch"))
    return folder / "arch"


@pytest.fixture(scope="module")
def redrawn(city, tmp_path_factory):
    """The single-machine path: the city database with the new grids loaded (a redraw replaces every grid)."""
    _, db, new_grids = city
    single = tmp_path_factory.mktemp("redrawn") / "single.duckdb"
    shutil.copy(db, single)
    con = store.connect(single)
    try:
        con.execute("DELETE FROM grids")  # a load alone upserts by code
    finally:
        con.close()
    load_file(single, "grids", new_grids, progress=False)
    return single


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


def _db_rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _archive_rows(root, table, columns="*"):
    glob = f"{root}/{table}/district=*/month=*/*.parquet"
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{glob}')").df()


def test_export_writes_valid_sorted_geoparquet_per_district_and_month(city, archive):
    _, db, _ = city
    files = layout.partition_files(*layout.filesystem(str(archive)), "incidents")
    assert {layout.partition_of(f) for f in files} == {
        (d, m) for d in ("330106", "330107", "_") for m in ("2026-08", "2026-09", "2026-10")
    }
    first = archive / files[0]
    frame = gpd.read_parquet(first)
    assert frame.crs.to_epsg() == 4326
    assert "bbox" not in frame.columns  # geopandas knows it as the covering column
    geo = json.loads(pq.read_schema(first).metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["columns"]["geometry"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    assert np.allclose(shapely.get_x(frame.geometry.to_numpy()), frame["lon"])
    for relative in files:
        cells = pq.read_table(archive / relative, columns=["h3_cell"]).column("h3_cell").to_numpy()
        assert (np.diff(cells.astype(np.float64)) >= 0).all()
    stored = _db_rows(db, "SELECT incident_id, status, resolved_at, grid_code, district_code FROM incidents")
    exported = _archive_rows(archive, "incidents", "incident_id, status, resolved_at, grid_code, district_code")
    key = "incident_id"
    assert exported.sort_values(key).reset_index(drop=True).equals(stored.sort_values(key).reset_index(drop=True))
    assert len(_archive_rows(archive, "incident_events")) == len(_db_rows(db, "SELECT * FROM incident_events"))
    assert "reporter_phone" not in pq.read_schema(first).names
    assert gpd.read_parquet(archive / "grids.parquet").crs.to_epsg() == 4326


def test_dask_geopandas_opens_the_archive_as_one_geodataframe(archive):
    import dask
    import dask_geopandas

    frame = dask_geopandas.read_parquet(archive / "incidents")
    assert frame.crs.to_epsg() == 4326 and {"district", "month", "geometry"} <= set(frame.columns)
    with dask.config.set(scheduler="synchronous"):
        assert len(frame) == 3000
        assert frame[frame["month"] == "2026-09"].geometry.x.between(120.0, 121.0).all().compute()


def test_reexport_rewrites_only_the_changed_partition(city, tmp_path):
    _, db, _ = city
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    root = tmp_path / "arch"
    export_archive(copy, str(root))
    again = export_archive(copy, str(root))
    assert again.written == [] and again.removed == [] and again.unchanged > 0
    con = store.connect(copy)
    try:
        incident, district, month = con.execute(
            "SELECT incident_id, district_code, strftime(reported_at, '%Y-%m') FROM incidents"
            " WHERE status = 'reported' AND district_code = '330107' ORDER BY incident_id LIMIT 1"
        ).fetchone()
        con.execute("UPDATE incidents SET status = 'accepted' WHERE incident_id = ?", [incident])
        con.execute(
            "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor)"
            " VALUES (?, 'reported', 'accepted', TIMESTAMP '2026-11-01 08:00', 'test')",
            [incident],
        )
    finally:
        con.close()
    changed = export_archive(copy, str(root))
    assert changed.written == [
        f"{layout.partition_dir(t, district, month)}/part-0.parquet" for t in ("incidents", "incident_events")
    ]
    con = store.connect(copy)
    try:
        con.execute("DELETE FROM incidents WHERE district_code IS NULL AND reported_at < '2026-09-01'")
    finally:
        con.close()
    removed = export_archive(copy, str(root))
    gone = [f"{layout.partition_dir(t, None, '2026-08')}/part-0.parquet" for t in ("incident_events", "incidents")]
    assert removed.written == [] and removed.removed == gone
    assert not any((root / g).exists() for g in gone)
    assert json.loads((root / layout.MANIFEST).read_text()).keys().isdisjoint(gone)


def test_reassign_on_two_workers_equals_loading_the_new_grids(city, archive, redrawn, client, tmp_path):
    _, db, new_grids = city
    single = redrawn
    expected = _db_rows(single, f"SELECT incident_id, {', '.join(CODES)} FROM incidents")
    out = tmp_path / "new"
    lines = batch.reassign(str(archive), str(new_grids), str(out), client)
    got = _archive_rows(out, "incidents", f"incident_id, {', '.join(CODES)}")
    key = "incident_id"
    assert got.sort_values(key).reset_index(drop=True).equals(expected.sort_values(key).reset_index(drop=True))
    before = _archive_rows(archive, "incidents", f"incident_id, {', '.join(CODES)}").set_index(key)
    assert (before.loc[expected[key], "grid_code"].to_numpy() != expected["grid_code"].to_numpy()).any()
    moved = before.loc[expected[key], "district_code"].fillna("_").to_numpy() != expected["district_code"].fillna("_")
    assert moved.sum() > 0 and "changed district" in lines[0]
    # every file of the new archive is in its rows' partition, events beside their incidents
    placed = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{out}/incidents/*/*/*.parquet', hive_partitioning=true,"
        " hive_types={'district': VARCHAR, 'month': VARCHAR})"
        " WHERE district <> coalesce(district_code, '_') OR month <> strftime(reported_at, '%Y-%m')"
    ).fetchone()[0]
    assert placed == 0
    events = _archive_rows(out, "incident_events", "incident_id")
    assert len(events) == len(_db_rows(db, "SELECT 1 FROM incident_events"))
    assert len(pd.read_parquet(out / "grids.parquet")) == 6
    facilities = pd.read_parquet(out / "facilities.parquet", columns=["facility_id", *CODES])
    expected = _db_rows(single, f"SELECT facility_id, {', '.join(CODES)} FROM facilities")
    assert len(expected) > 100 and facilities.sort_values("facility_id").reset_index(drop=True).equals(
        expected.sort_values("facility_id").reset_index(drop=True)
    )
    with pytest.raises(GridtwinError, match="already holds an archive"):
        batch.reassign(str(archive), str(new_grids), str(out), client)


def test_reassign_of_a_many_file_archive_works_file_by_file(city, redrawn, client, tmp_path):
    """A synthetic archive built in steps (two files per partition): each file is one task, rows keep their
    H3 order, every row gets the single-machine grid and its events follow it."""
    _, db, new_grids = city
    con = store.connect(db, read_only=True)
    try:
        area = read_area(con)
    finally:
        con.close()
    months = ["2026-08", "2026-09"]
    whole, steps = str(tmp_path / "whole"), str(tmp_path / "steps")
    assert write_synthetic_archive(whole, area, 2000, months, chunk_rows=500) == 2000
    write_synthetic_archive(steps, area, 1000, months, chunk_rows=500)
    write_synthetic_archive(steps, area, 1000, months, chunk_rows=500, first_chunk=2)
    everything = "SELECT * EXCLUDE (geometry, bbox) FROM read_parquet('{}/incidents/*/*/*.parquet') ORDER BY ALL"
    assert duckdb.sql(everything.format(whole)).fetchall() == duckdb.sql(everything.format(steps)).fetchall()
    files = batch.archive_files(whole)
    assert len(files) > len(batch.archive_partitions(whole))  # several files per partition
    out = tmp_path / "new"
    batch.reassign(whole, str(new_grids), str(out), client)
    got = _archive_rows(out, "incidents", f"incident_id, lon, lat, h3_cell, {', '.join(CODES)}")
    assert len(got) == 2000
    con = store.connect(redrawn, read_only=True)
    try:
        new_area = read_area(con)
    finally:
        con.close()
    index = new_area.locator.assign(got["lon"].to_numpy(), got["lat"].to_numpy(), got["h3_cell"].to_numpy(np.uint64))
    codes = new_area.grids[CODES].to_numpy(dtype=object)
    expected = pd.DataFrame(np.where(index[:, None] >= 0, codes[np.maximum(index, 0)], None), columns=CODES)
    same = got[CODES].fillna("-").to_numpy(dtype=object) == expected.fillna("-").to_numpy(dtype=object)
    assert same.all() and 1000 < expected["grid_code"].notna().sum() < 2000
    for relative in layout.partition_files(*layout.filesystem(str(out)), "incidents"):
        cells = pq.read_table(out / relative, columns=["h3_cell"]).column("h3_cell").to_numpy()
        assert (np.diff(cells.astype(np.float64)) >= 0).all()
    stray = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{out}/incident_events/*/*/*.parquet', filename = true) e"
        f" ANTI JOIN read_parquet('{out}/incidents/*/*/*.parquet', filename = true) i"
        " ON e.incident_id = i.incident_id AND replace(e.filename, 'incident_events', 'incidents') = i.filename"
    ).fetchone()[0]
    assert stray == 0 and len(_archive_rows(out, "incident_events")) == len(_archive_rows(whole, "incident_events"))
    counts = batch.aggregate(whole, str(tmp_path / "agg.parquet"), client)  # one task per partition, 2 files each
    expected = duckdb.sql(
        f"SELECT grid_code, strftime(reported_at, '%Y-%m') AS month, count(*) AS incidents,"
        " count(resolved_at) AS closed, count(*) FILTER (WHERE resolved_at <= due_at) AS closed_on_time"
        f" FROM read_parquet('{whole}/incidents/*/*/*.parquet') GROUP BY ALL ORDER BY grid_code NULLS LAST, month"
    ).df()
    assert counts[expected.columns].astype(expected.dtypes.to_dict()).equals(expected)
    lost = Path(whole) / layout.partition_dir("incident_events", "330106", "2026-08") / "part-99999.parquet"
    shutil.copy(next(lost.parent.glob("*.parquet")), lost)
    with pytest.raises(GridtwinError, match="without the incidents file of the same name"):
        batch.archive_files(whole)


def test_aggregate_on_two_workers_equals_duckdb_on_the_database(city, archive, client, tmp_path):
    _, db, _ = city
    table = batch.aggregate(str(archive), str(tmp_path / "agg.parquet"), client)
    expected = _db_rows(
        db,
        "SELECT grid_code, strftime(reported_at, '%Y-%m') AS month, count(*) AS incidents,"
        " count(resolved_at) AS closed, count(*) FILTER (WHERE resolved_at <= due_at) AS closed_on_time"
        " FROM incidents GROUP BY ALL ORDER BY grid_code NULLS LAST, month",
    )
    assert table[expected.columns].astype(expected.dtypes.to_dict()).equals(expected)
    written = pd.read_parquet(tmp_path / "agg.parquet")
    assert np.allclose(written["closure_rate"], expected["closed"] / expected["incidents"])
    assert np.allclose(written["on_time_rate"], expected["closed_on_time"] / expected["incidents"])


def test_cli_runs_on_a_scheduler_address_and_names_bad_input(archive, client, tmp_path, capsys):
    address = client.scheduler.address
    out = tmp_path / "agg.parquet"
    assert main(["batch", "aggregate", "--archive", str(archive), "--scheduler", address, "--to", str(out)]) == 0
    assert "grid × month rows (3,000 incidents)" in capsys.readouterr().out
    assert main(["batch", "aggregate", "--archive", str(tmp_path / "none"), "--scheduler", address]) == 1
    assert "holds no incidents/ folder" in capsys.readouterr().err
    assert main(["batch", "aggregate", "--archive", str(archive), "--scheduler", "localhost:1"]) == 1
    assert "give `local` or a scheduler address" in capsys.readouterr().err
    assert main(["export", "--db", str(tmp_path / "missing.duckdb"), "--to", str(tmp_path / "a")]) == 1
    assert "does not exist" in capsys.readouterr().err


def _by_unit(frame):
    return frame.sort_values("unit_code", na_position="last").reset_index(drop=True)


def test_cold_history_gives_the_all_in_duckdb_indicators(city, archive, tmp_path):
    from pipelines.store.loop_indicators import indicators

    _, db, _ = city
    hot = tmp_path / "hot.duckdb"
    shutil.copy(db, hot)
    con = store.connect(hot)
    try:  # the database keeps October on; August and September live only in the archive
        con.execute(
            "DELETE FROM incident_events WHERE incident_id IN (SELECT incident_id FROM incidents"
            " WHERE reported_at < '2026-10-01')"
        )
        con.execute("DELETE FROM incidents WHERE reported_at < '2026-10-01'")
        sync_derived_tables(con)
    finally:
        con.close()
    full = duckdb.connect(str(db), read_only=True)
    con = duckdb.connect(str(hot), read_only=True)
    try:
        cold = layout.open_cold_history(con, str(archive))
        assert cold.hot_start >= dt.datetime(2026, 10, 1)
        windows = [
            (dt.datetime(2026, 8, 3), dt.datetime(2026, 8, 17)),  # wholly cold
            (dt.datetime(2026, 9, 20), dt.datetime(2026, 10, 11)),  # across the hot start
            (dt.datetime(2026, 8, 1), dt.datetime(2026, 11, 1)),  # everything
        ]
        for since, until in windows:
            assert cold.reaches(since)
            for level, code, by in (("city", None, None), ("city", None, "district"), ("district", "330107", "week")):
                expected = indicators(full, since, until, level, code, by)
                with cold.cursor(con, since, until) as cur:
                    got = indicators(cur, since, until, level, code, by, rollup=False)  # loop_daily: the file only
                pd.testing.assert_frame_equal(_by_unit(got), _by_unit(expected))  # groups come in any order
                assert expected["due"].sum() > 0
        assert cold.months(*windows[0]) == ["2026-08"]  # the other months' partitions are never opened
        assert cold.months(dt.datetime(2025, 1, 1), dt.datetime(2025, 2, 1)) == []
        assert not cold.reaches(dt.datetime(2026, 10, 2))
    finally:
        con.close()
        full.close()


def test_point_wkb_matches_shapely_and_missing_coordinates_are_null():
    lon, lat = np.array([120.1, np.nan, 120.3, -0.5]), np.array([30.1, 30.2, np.nan, 51.25])
    wkb, box = layout.point_geometry(lon, lat)
    assert wkb.is_null().to_pylist() == [False, True, True, False] == box.is_null().to_pylist()
    assert wkb[0].as_py() == shapely.to_wkb(shapely.Point(120.1, 30.1))
    assert shapely.equals(shapely.from_wkb(wkb[3].as_py()), shapely.Point(-0.5, 51.25))
    assert box.field("xmin")[3].as_py() == -0.5 == box.field("xmax")[3].as_py()
