"""Files shaped like what a GIS office and a hotline hand over, written here in tmp_path."""

import json

import duckdb
import pytest

from pipelines.cli import main
from pipelines.errors import LoadError
from pipelines.loaders import load_file
from pipelines.options import LoadOptions


def query(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def geojson(path, features):
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def line(*coords):
    return {"type": "LineString", "coordinates": [list(c) for c in coords]}


def square(x, y, d=0.0003):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


# --- row identity ---------------------------------------------------------------------------------


def test_geometry_only_line_file_keeps_every_line_and_reloads_idempotently(grid_db, tmp_path):
    """No id column, identical (empty) attributes: every distinct line is its own road."""
    features = [({}, line((120.150 + i * 0.0005, 30.251), (120.150 + i * 0.0005, 30.253))) for i in range(12)]
    features.append(({}, line((120.150, 30.251), (120.150, 30.253))))  # the very same line again: a real duplicate
    path = geojson(tmp_path / "roads.geojson", features)
    summary = load_file(grid_db, "roads", path, progress=False)
    assert (summary.loaded, summary.rejected) == (12, 1)
    assert list(summary.reasons) == ["duplicate id"]
    ids = query(grid_db, "SELECT road_id FROM roads ORDER BY road_id")
    again = load_file(grid_db, "roads", path, progress=False)
    assert again.loaded == 12 and query(grid_db, "SELECT road_id FROM roads ORDER BY road_id") == ids


def test_reject_summary_groups_reasons_with_three_examples(grid_db, tmp_path, capsys):
    rows = ["incident_id,category,reported_at,lon,lat"]
    rows += [f"D{i},噪声扰民,2026-11-20 08:00,120.151,30.251" for i in range(5)] * 2  # 5 distinct duplicated ids
    (tmp_path / "dups.csv").write_text("\n".join(rows), encoding="utf-8")
    summary = load_file(grid_db, "incidents", tmp_path / "dups.csv", progress=False)
    assert summary.reasons == {"duplicate id": 5}
    assert summary.examples["duplicate id"] == ["row 6 [D0]", "row 7 [D1]", "row 8 [D2]"]
    lines = summary.lines()
    assert sum("rejected" in line_ for line_ in lines[1:]) == 1  # one line, not one per id
    assert "  rejected 5: duplicate id — e.g. row 6 [D0], row 7 [D1], row 8 [D2]" in lines
    assert main(["rejects", "--db", str(grid_db), "--all"]) == 0  # the full list
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 5 and "row 10 [D4]: duplicate id D4 (first on row 5)" in listed[-1]


def test_building_split_in_two_features_with_same_osm_id_is_merged(grid_db, tmp_path):
    left, right = square(120.1510, 30.2510), square(120.1513, 30.2510)  # share an edge, like a tile seam
    path = geojson(
        tmp_path / "osm_buildings.geojson",
        [({"osm_id": "way/7", "building": "apartments"}, left), ({"osm_id": "way/7", "building": "apartments"}, right)],
    )
    summary = load_file(grid_db, "buildings", path, progress=False)
    assert (summary.loaded, summary.rejected, summary.merged) == (1, 0, 1)
    (area,) = query(grid_db, "SELECT area_m2 FROM buildings WHERE building_id = 'way/7'")[0]
    assert 1850 < area < 2000  # two 29 m × 33 m halves (959 m² each) as one footprint


def test_same_ids_without_merge_parts_are_duplicates(grid_db, tmp_path):
    features = [({"building_id": "B1"}, square(120.1510, 30.2510)), ({"building_id": "B1"}, square(120.1513, 30.2510))]
    path = geojson(tmp_path / "b.geojson", features)
    assert load_file(grid_db, "buildings", path, progress=False).rejected == 1
    merged = load_file(grid_db, "buildings", path, progress=False, options=LoadOptions(merge_parts=True))
    assert (merged.loaded, merged.rejected, merged.merged) == (1, 0, 1)


# --- columns --------------------------------------------------------------------------------------


def test_one_source_column_for_two_targets(grid_db, tmp_path):
    (tmp_path / "f.csv").write_text("kind,lon,lat\n幼儿园,120.151,30.251\n", encoding="utf-8")
    load_file(grid_db, "facilities", tmp_path / "f.csv", mapping={"type": "kind", "name": "kind"}, progress=False)
    assert query(grid_db, "SELECT type, name FROM facilities") == [("幼儿园", "幼儿园")]


def test_grid_file_names_every_missing_column_at_once_with_map_lines(tmp_path):
    path = geojson(tmp_path / "g.geojson", [({"code": "G-1"}, square(120.15, 30.25, 0.002))])
    with pytest.raises(LoadError) as caught:
        load_file(tmp_path / "x.duckdb", "grids", path, mapping={"grid_code": "code"}, progress=False)
    message = str(caught.value)
    assert "missing required column(s) community_code, street_code, district_code" in message
    assert "--map community_code=YOUR_COLUMN --map street_code=YOUR_COLUMN --map district_code=YOUR_COLUMN" in message
    assert "15-digit GB/T 30428.1 unit-grid code" in message


def test_unit_grid_code_alone_gives_the_hierarchy(tmp_path):
    path = geojson(tmp_path / "g.geojson", [({"单元网格编码": "330106001002007"}, square(120.15, 30.25, 0.002))])
    summary = load_file(tmp_path / "x.duckdb", "grids", path, progress=False)
    assert summary.loaded == 1
    assert query(tmp_path / "x.duckdb", "SELECT community_code, street_code, district_code FROM grids") == [
        ("330106001002", "330106001", "330106")
    ]


def test_a_load_storing_nothing_exits_non_zero(grid_db, tmp_path, capsys):
    (tmp_path / "far.csv").write_text("type,name,lon,lat\n幼儿园,远,121.5,31.2\n", encoding="utf-8")
    code = main(["load", "facilities", str(tmp_path / "far.csv"), "--db", str(grid_db)])
    assert code == 1
    assert "0 loaded, 1 rejected" in capsys.readouterr().out


# --- values and dates -----------------------------------------------------------------------------

US311 = """service_request_id,service_name,requested_datetime,closed_date,status,lat,long
R1,Pothole,05/14/2024 02:30:00 PM,05/15/2024 09:00:00 AM,Closed,30.2510,120.1510
R2,Graffiti,01/02/2024 08:00:00 AM,,Pending,30.2512,120.1512
R3,Pothole,01/03/2024 08:00:00 AM,,Started,30.2514,120.1514
R4,Pothole,01/04/2024 08:00:00 AM,,Unspecified,30.2516,120.1516
R5,Pothole,01/05/2024 08:00:00 AM,,Referred,30.2518,120.1518
R6,Pothole,01/06/2024 08:00:00 AM,,Referred,30.2520,120.1520
R7,Pothole,05/16/2024 08:00:00 AM,05/15/2024 08:00:00 AM,Closed,30.2522,120.1522
R8,Pothole,05/16/2024 08:00:00 AM,,Closed,30.2524,120.1524
"""
US_MAP = {"resolved_at": "closed_date"}


def test_english_311_statuses_month_first_dates_and_value_mapping(grid_db, tmp_path):
    (tmp_path / "311.csv").write_text(US311, encoding="utf-8")
    summary = load_file(grid_db, "incidents", tmp_path / "311.csv", mapping=US_MAP, progress=False)
    assert summary.loaded == 4  # R1, R2, R3, R4
    assert summary.reasons == {
        "unknown status (see the load summary for the --value line that maps it)": 2,
        "resolved_at is before reported_at": 1,
        "closed status without resolved_at (load with --allow-closed-without-time to keep such rows)": 1,
    }
    assert any("'Referred' ×2" in n and "--value 'status:Referred=resolved'" in n for n in summary.notes)
    rows = dict(query(grid_db, "SELECT incident_id, status FROM incidents"))
    assert rows == {"R1": "resolved", "R2": "reported", "R3": "in_progress", "R4": "reported"}
    times = dict(query(grid_db, "SELECT incident_id, strftime(reported_at, '%Y-%m-%d %H:%M') FROM incidents"))
    assert times["R1"] == "2024-05-14 14:30" and times["R2"] == "2024-01-02 08:00"  # month-first for the column

    again = load_file(
        grid_db,
        "incidents",
        tmp_path / "311.csv",
        mapping=US_MAP,
        progress=False,
        options=LoadOptions(values={"status": {"referred": "dispatched"}}),
    )
    assert again.loaded == 6


def test_a_day_first_value_in_a_month_first_column_is_an_error_not_a_guess(grid_db, tmp_path):
    text = US311.replace("01/06/2024 08:00:00 AM", "13/05/2024 08:00:00 AM")
    (tmp_path / "311.csv").write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match="mixes day-first values .* --dayfirst or --monthfirst"):
        load_file(grid_db, "incidents", tmp_path / "311.csv", mapping=US_MAP, progress=False)
    summary = load_file(
        grid_db,
        "incidents",
        tmp_path / "311.csv",
        mapping=US_MAP,
        progress=False,
        options=LoadOptions(date_order="monthfirst"),
    )
    assert "reported_at is not a date/time (use e.g. 2026-11-22 08:30:00)" in summary.reasons
    assert query(grid_db, "SELECT count(*) FROM incidents WHERE incident_id = 'R6'") == [(0,)]


def test_ambiguous_dates_ask_for_dayfirst_or_monthfirst(grid_db, tmp_path):
    (tmp_path / "a.csv").write_text(
        "category,reported_at,lon,lat\n噪声扰民,01/02/2024,120.151,30.251\n", encoding="utf-8"
    )
    with pytest.raises(LoadError, match="pass --dayfirst .* or --monthfirst"):
        load_file(grid_db, "incidents", tmp_path / "a.csv", progress=False)
    load_file(grid_db, "incidents", tmp_path / "a.csv", progress=False, options=LoadOptions(date_order="dayfirst"))
    assert query(grid_db, "SELECT strftime(reported_at, '%Y-%m-%d') FROM incidents") == [("2024-02-01",)]


def test_tz_converts_naive_times_to_the_database_zone(grid_db, tmp_path):
    (tmp_path / "a.csv").write_text(
        "category,reported_at,lon,lat\n噪声扰民,2024-05-14 08:00,120.151,30.251\n", encoding="utf-8"
    )
    load_file(grid_db, "incidents", tmp_path / "a.csv", progress=False, options=LoadOptions(tz="America/New_York"))
    assert query(grid_db, "SELECT value FROM meta WHERE key = 'timezone'") == [("Asia/Shanghai",)]
    assert query(grid_db, "SELECT strftime(reported_at, '%Y-%m-%d %H:%M') FROM incidents") == [("2024-05-14 20:00",)]


def test_new_categories_are_listed_and_old_open_items_archived(grid_db, tmp_path):
    (tmp_path / "h.csv").write_text(
        "category,reported_at,lon,lat\nPothole,2023-01-05 08:00,120.151,30.251\nPothole,2026-11-20 08:00,120.152,30.251\n",
        encoding="utf-8",
    )
    options = LoadOptions(archive_before=__import__("datetime").datetime(2025, 1, 1), deadlines={"Graffiti": 96})
    summary = load_file(grid_db, "incidents", tmp_path / "h.csv", progress=False, options=options)
    assert any("Pothole (2 rows)" in n and "--deadline 'Pothole=HOURS'" in n for n in summary.notes)
    rows = query(grid_db, "SELECT strftime(reported_at, '%Y'), archived, due_at IS NULL FROM incidents ORDER BY 1")
    assert rows == [("2023", True, True), ("2026", False, False)]
    # archived items keep their status but leave the open table (open and overdue figures)
    assert query(grid_db, "SELECT strftime(reported_at, '%Y') FROM open_incidents") == [("2026",)]
    assert query(grid_db, "SELECT deadline_h FROM categories WHERE category = 'Graffiti'") == [(96,)]
