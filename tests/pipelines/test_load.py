import subprocess
import sys
import zipfile

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from pipelines import store
from pipelines.errors import DatabaseBusyError, LoadError
from pipelines.loaders import load_file
from pipelines.options import LoadOptions
from pipelines.store.rows import table_counts

KEEP_CLOSED = LoadOptions(allow_closed_without_time=True)
"""The hotline sample closes A001 (已办结) without a 办结时间."""

HOTLINE_MAP = {
    "incident_id": "工单编号",
    "category": "诉求分类",
    "reported_at": "来电时间",
    "lon": "东经",
    "lat": "北纬",
    "description": "问题描述",
    "status": "办理状态",
}


def snapshot(db) -> dict:
    """Every table's rows, to prove a failed load changed nothing."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {t: sorted(map(str, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        con.close()


def query(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_grids_load_builds_cover_and_hierarchy(grid_db):
    assert query(grid_db, "SELECT count(*) FROM grids")[0][0] == 6
    assert query(grid_db, "SELECT count(*), sum(population) FROM communities")[0] == (
        2,
        6 * 900 + 10 * 3 + 2 * (0 + 1 + 2),
    )
    assert query(grid_db, "SELECT street_code, name FROM streets") == [("330106001", "测试街道")]
    assert query(grid_db, "SELECT district_code, name FROM districts") == [("330106", "测试区")]
    inside, boundary = query(grid_db, "SELECT count(*) FILTER (inside), count(*) FILTER (NOT inside) FROM grid_cells")[
        0
    ]
    assert inside > 0 and boundary > 0
    area = query(grid_db, "SELECT min(area_m2), max(area_m2) FROM grids")[0]
    assert 40_000 < area[0] <= area[1] < 50_000  # 0.002° x 0.002° at 30°N is about 0.046 km²


def test_hotline_csv_loads_with_map_and_quarantines_bad_rows(grid_db, data_dir):
    summary = load_file(
        grid_db,
        "incidents",
        data_dir / "hotline_12345_gbk.csv",
        mapping=HOTLINE_MAP,
        progress=False,
        options=KEEP_CLOSED,
    )
    assert (summary.rows_in, summary.loaded, summary.rejected) == (7, 3, 4)
    assert "read as gbk/gb18030" in summary.notes
    reasons = dict(query(grid_db, "SELECT record_id, reason FROM rejects WHERE kind = 'incidents'"))
    assert reasons == {
        "A003": "no coordinates",
        "A004": "latitude and longitude look swapped (map them with --map lon=…,lat=…)",
        "A005": "outside the loaded area: no grid contains this point",
        "A002": "duplicate id A002 (first on row 2)",
    }
    raw = query(grid_db, "SELECT raw FROM rejects WHERE record_id = 'A003'")[0][0]
    assert "无坐标" in raw
    rows = query(
        grid_db,
        "SELECT incident_id, status, grid_code, description, due_at - reported_at FROM incidents ORDER BY incident_id",
    )
    assert [r[:3] for r in rows] == [
        ("A001", "resolved", "330106001001001"),
        ("A002", "in_progress", "330106001001005"),
        ("A006", "reported", "330106001002006"),
    ]
    assert rows[1][3] == "<script>alert(1)</script>车辆堵门"  # stored as text, verbatim
    assert rows[0][4].total_seconds() == 24 * 3600  # 噪声扰民 deadline
    assert query(grid_db, "SELECT deadline_h FROM categories WHERE category = '井盖丢失'") == [(72,)]
    history = query(
        grid_db, "SELECT from_status, to_status FROM incident_events WHERE incident_id = 'A001' ORDER BY event_id"
    )
    assert history == [(None, "reported"), ("reported", "resolved")]


def test_reloading_the_same_file_is_idempotent(grid_db, data_dir):
    path = data_dir / "hotline_12345_gbk.csv"

    def state():
        return (
            query(grid_db, "SELECT * FROM incidents ORDER BY incident_id"),
            query(
                grid_db,
                "SELECT incident_id, from_status, to_status, occurred_at, actor, note "
                "FROM incident_events ORDER BY ALL",
            ),
            query(grid_db, "SELECT row_number, record_id, reason, raw FROM rejects ORDER BY ALL"),
        )

    load_file(grid_db, "incidents", path, mapping=HOTLINE_MAP, progress=False, options=KEEP_CLOSED)
    first = state()
    again = load_file(grid_db, "incidents", path, mapping=HOTLINE_MAP, progress=False, options=KEEP_CLOSED)
    assert (again.loaded, again.rejected) == (3, 4)
    assert state() == first  # same rows, same history, rejects replaced rather than doubled
    assert len(first[0]) == 3 and len(first[2]) == 4


def test_missing_column_leaves_database_unchanged(grid_db, data_dir):
    before = snapshot(grid_db)
    with pytest.raises(LoadError) as info:
        load_file(grid_db, "incidents", data_dir / "hotline_12345_gbk.csv", progress=False)
    message = str(info.value)
    assert "missing required column(s) category, reported_at" in message
    assert "Found: 工单编号, 诉求分类, 来电时间" in message and "--map" in message
    assert snapshot(grid_db) == before


def test_facility_file_without_type_column_names_it(grid_db, data_dir):
    with pytest.raises(LoadError, match=r"missing required column\(s\) type for facilities"):
        load_file(grid_db, "facilities", data_dir / "facilities_missing_type.csv", progress=False)


def test_bad_map_arguments_are_listed_together(grid_db, data_dir):
    with pytest.raises(LoadError) as info:
        load_file(
            grid_db,
            "incidents",
            data_dir / "hotline_12345_gbk.csv",
            mapping={"colour": "诉求分类", "category": "分类"},
            progress=False,
        )
    assert "'colour' is not a incidents column" in str(info.value)
    assert "the file has no column '分类'" in str(info.value)


def test_unknown_crs_is_a_file_level_error(grid_db, data_dir):
    before = snapshot(grid_db)
    with pytest.raises(LoadError, match="unknown coordinate system 'EPSG:123456'.*gcj02"):
        load_file(grid_db, "incidents", data_dir / "incidents_gcj02.csv", crs="EPSG:123456", progress=False)
    assert snapshot(grid_db) == before


def test_gcj02_points_land_at_their_wgs84_position(grid_db, data_dir):
    summary = load_file(grid_db, "incidents", data_dir / "incidents_gcj02.csv", crs="gcj02", progress=False)
    assert summary.loaded == 2 and "converted from gcj02 to WGS84" in summary.notes
    rows = query(grid_db, "SELECT lon, lat FROM incidents ORDER BY incident_id")
    assert np.allclose(rows, [(120.151, 30.251), (120.155, 30.253)], atol=1e-7)  # about 1 cm


def test_gcj02_points_read_as_wgs84_fall_outside(grid_db, data_dir):
    # Without --crs gcj02 the points sit several hundred metres off, here outside every grid.
    summary = load_file(grid_db, "incidents", data_dir / "incidents_gcj02.csv", progress=False)
    assert summary.rejected == 2
    assert summary.reasons == {"outside the loaded area: no grid contains this point": 2}


def test_projected_coordinates_without_crs_are_refused(grid_db, tmp_path):
    path = tmp_path / "projected.csv"
    pd.DataFrame(
        {"category": ["市容环境"], "reported_at": ["2026-11-21 08:00"], "x": [514_000.0], "y": [3_347_500.0]}
    ).to_csv(path, index=False)
    with pytest.raises(LoadError, match="look projected in metres .*--crs EPSG:4547"):
        load_file(grid_db, "incidents", path, progress=False)
    summary = load_file(grid_db, "incidents", path, crs="EPSG:4549", progress=False)
    assert summary.loaded + summary.rejected == 1


def test_cgcs2000_gauss_kruger_grids_load(tmp_path, data_dir):
    grids = gpd.read_file(data_dir / "grids.geojson").to_crs("EPSG:4549")
    path = tmp_path / "grids_4549.gpkg"
    grids.to_file(path)
    db = tmp_path / "g.duckdb"
    summary = load_file(db, "grids", path, progress=False)
    assert summary.loaded == 6 and "converted from EPSG:4549 to WGS84" in summary.notes
    lon, lat = query(db, "SELECT min(lon), min(lat) FROM grids")[0]
    assert 120.15 < lon < 120.152 and 30.25 < lat < 30.252


def test_self_intersecting_polygon_is_repaired_and_degenerate_one_rejected(tmp_path, data_dir):
    db = tmp_path / "g.duckdb"
    summary = load_file(db, "grids", data_dir / "grids_bad_polygons.geojson", progress=False)
    assert (summary.loaded, summary.rejected, summary.repaired) == (7, 1, 1)
    assert query(db, "SELECT record_id, reason FROM rejects") == [
        ("330106001002901", "invalid polygon that cannot be repaired")
    ]


@pytest.mark.filterwarnings("ignore:Column names longer than 10:UserWarning")
@pytest.mark.filterwarnings("ignore:Normalized/laundered field name:RuntimeWarning")
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp.zip", "parquet", "csv"])
def test_every_vector_format_loads_the_same_grids(tmp_path, data_dir, fmt):
    gdf = gpd.read_file(data_dir / "grids.geojson")
    path = tmp_path / f"grids.{fmt}"
    if fmt == "shp.zip":
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        gdf.to_file(shp_dir / "grids.shp", engine="pyogrio", encoding="utf-8")
        path = tmp_path / "grids.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp_dir.iterdir():
                archive.write(part, part.name)
    elif fmt == "parquet":
        gdf.to_parquet(path)
    elif fmt == "csv":
        frame = pd.DataFrame(gdf.drop(columns="geometry"))
        frame["wkt"] = gdf.geometry.to_wkt()
        frame.to_csv(path, index=False)
    else:
        gdf.to_file(path)
    db = tmp_path / "f.duckdb"
    summary = load_file(db, "grids", path, progress=False)
    assert summary.loaded == 6, summary.lines()
    assert query(db, "SELECT count(*) FROM communities")[0][0] == 2
    assert query(db, "SELECT name FROM grids ORDER BY grid_code LIMIT 1") == [("测试网格1",)]


def test_xlsx_facilities_with_chinese_coordinate_headers(grid_db, data_dir):
    summary = load_file(grid_db, "facilities", data_dir / "facilities.xlsx", progress=False)
    assert (summary.loaded, summary.rejected) == (2, 1)
    assert query(grid_db, "SELECT reason FROM rejects WHERE record_id = 'F3'") == [("capacity is not a whole number",)]
    assert query(grid_db, "SELECT facility_id, grid_code FROM facilities ORDER BY 1") == [
        ("F1", "330106001001001"),
        ("F2", "330106001002006"),
    ]


def test_roads_outside_the_area_are_rejected(grid_db, data_dir):
    summary = load_file(grid_db, "roads", data_dir / "roads.geojson", progress=False)
    assert (summary.loaded, summary.rejected) == (1, 1)
    length = query(grid_db, "SELECT length_m FROM roads")[0][0]
    assert 570 < length < 590  # 0.006° of longitude at 30.25°N


def test_buildings_get_residents_and_fill_grid_population(tmp_path, data_dir):
    db = tmp_path / "b.duckdb"
    grids = gpd.read_file(data_dir / "grids.geojson").drop(columns=["population", "households"])
    grids.to_file(tmp_path / "grids.geojson")
    load_file(db, "grids", tmp_path / "grids.geojson", progress=False)
    summary = load_file(db, "buildings", data_dir / "buildings.geojson", progress=False)
    assert summary.loaded == 2
    residents = dict(query(db, "SELECT building_id, residents FROM buildings"))
    assert residents["B2"] == 0 and 90 < residents["B1"] < 100  # about 640 m² x 6 floors / 40 m²
    assert query(db, "SELECT population FROM grids WHERE grid_code = '330106001001001'") == [(residents["B1"],)]


def test_points_before_grids_are_refused(tmp_path, data_dir):
    with pytest.raises(LoadError, match="load the grid polygons first"):
        load_file(tmp_path / "empty.duckdb", "incidents", data_dir / "incidents_gcj02.csv", progress=False)


def test_unreadable_and_unsupported_files(grid_db, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(LoadError, match="cannot read broken.geojson"):
        load_file(grid_db, "grids", broken, progress=False)
    with pytest.raises(LoadError, match="unsupported file type .dbf"):
        load_file(grid_db, "grids", broken.with_suffix(".dbf").touch() or broken.with_suffix(".dbf"), progress=False)
    binary = tmp_path / "latin.csv"
    binary.write_bytes(b"category,reported_at,lon,lat\n\xff\xfe\xfa,2026-11-21,120.151,30.251\n")
    with pytest.raises(LoadError, match="UTF-8 or GBK"):
        load_file(grid_db, "incidents", binary, progress=False)


def test_row_level_value_problems_are_all_listed(grid_db, tmp_path):
    path = tmp_path / "values.csv"
    pd.DataFrame(
        {
            "category": ["市容环境", "", "市容环境", "市容环境"],
            "reported_at": ["2026-11-21 08:00", "2026-11-21 08:00", "yesterday", "2026-11-21 08:00"],
            "status": ["已受理", "已受理", "已受理", "飞走了"],
            "satisfaction": ["", "", "", "9"],
            "lon": ["120.151", "120.151", "abc", "120.152"],
            "lat": ["30.251", "30.251", "30.251", "30.251"],
        }
    ).to_csv(path, index=False, encoding="utf-8-sig")
    summary = load_file(grid_db, "incidents", path, progress=False)
    assert (summary.loaded, summary.rejected) == (1, 3)
    reasons = [r[0] for r in query(grid_db, "SELECT reason FROM rejects ORDER BY row_number")]
    assert reasons[0] == "missing category"
    assert (
        reasons[1]
        == "reported_at is not a date/time (use e.g. 2026-11-22 08:30:00); lon/lat is not a number; no coordinates"
    )
    assert reasons[2].startswith("unknown status")


def test_busy_database_is_refused_politely(grid_db, data_dir):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(grid_db)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseBusyError, match="in use by another process .*gridtwin serve"):
            load_file(grid_db, "incidents", data_dir / "incidents_gcj02.csv", crs="gcj02", progress=False)
    finally:
        holder.communicate("")
    assert table_counts(store.connect(grid_db, read_only=True))["incidents"] == 0
