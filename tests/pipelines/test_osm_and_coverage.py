"""Buildings, facilities, roads and OpenStreetMap extracts shaped like real ones, made in tmp_path."""

import duckdb
import numpy as np
import pandas as pd
import pyogrio
import pytest

from pipelines import store
from pipelines.cli import main
from pipelines.coverage import compute_coverage
from pipelines.coverage_cells import hexagon_minutes
from pipelines.loaders import load_file
from pipelines.options import LoadOptions
from pipelines.quality import grid_topology, quality_report
from pipelines.roadclass import RoadFilter
from pipelines.store.coverage import access_for_type, coverage_by_area
from tests.pipelines.test_real_files import geojson, line, query, square


def point(x, y):
    return {"type": "Point", "coordinates": [x, y]}


def test_point_buildings_are_accepted_and_counted_only_when_told(grid_db, tmp_path):
    path = geojson(
        tmp_path / "points.geojson",
        [
            ({"name": "1号楼", "population": 120}, point(120.1510, 30.2510)),
            ({"name": "2号楼"}, point(120.1520, 30.2510)),
        ],
    )
    summary = load_file(grid_db, "buildings", path, progress=False)
    assert (summary.loaded, summary.rejected) == (2, 0)
    assert any("1 point building(s) have no footprint" in n for n in summary.notes)
    assert query(grid_db, "SELECT name, residents, area_m2 FROM buildings ORDER BY name") == [
        ("1号楼", 120, None),
        ("2号楼", None, None),
    ]


def test_residents_from_floor_area_use_and_height(grid_db, tmp_path):
    features = [
        ({"building_id": "apartments", "building": "apartments", "building:levels": "10"}, square(120.1510, 30.2510)),
        ({"building_id": "house", "building": "house"}, square(120.1520, 30.2510)),
        ({"building_id": "tower", "building": "residential", "height": "632 m"}, square(120.1530, 30.2510)),
        ({"building_id": "office", "building": "office", "building:levels": "30"}, square(120.1540, 30.2510)),
        ({"building_id": "counted", "building": "apartments", "households": 100}, square(120.1550, 30.2510)),
        ({"building_id": "mezzanine", "building": "apartments", "building:levels": "2.5"}, square(120.1510, 30.2520)),
    ]
    path = geojson(tmp_path / "b.geojson", features)
    load_file(grid_db, "buildings", path, progress=False)
    got = dict(query(grid_db, "SELECT building_id, residents FROM buildings"))
    footprint = query(grid_db, "SELECT area_m2 FROM buildings WHERE building_id = 'house'")[0][0]
    assert got["apartments"] == round(footprint * 10 / 40)
    assert got["house"] == round(footprint / 40)
    assert got["tower"] == round(footprint * round(632 / 3) / 40)  # 211 floors, not 1
    assert got["office"] == 0
    assert got["counted"] == 260  # 100 households × 2.6
    assert got["mezzanine"] == round(footprint * 2.5 / 40)  # OSM's fractional levels count as they are
    assert query(grid_db, "SELECT floors FROM buildings WHERE building_id = 'mezzanine'")[0][0] in (2, 3)
    load_file(grid_db, "buildings", path, progress=False, options=LoadOptions(densities={"office": 0.01}))
    assert query(grid_db, "SELECT residents FROM buildings WHERE building_id = 'office'")[0][0] == round(
        footprint * 30 * 0.01
    )


def test_nameless_facilities_get_a_name_from_the_nearest_road(grid_db, tmp_path):
    roads = geojson(tmp_path / "r.geojson", [({"name": "文三路"}, line((120.150, 30.2501), (120.156, 30.2501)))])
    load_file(grid_db, "roads", roads, progress=False)
    (tmp_path / "f.csv").write_text(
        "facility_id,type,name,lon,lat\nF1,幼儿园,,120.151,30.2503\nF2,幼儿园,,120.151,30.2539\nF3,,,120.152,30.2516\n",
        encoding="utf-8",
    )
    summary = load_file(grid_db, "facilities", tmp_path / "f.csv", progress=False)
    assert (summary.loaded, summary.rejected) == (2, 1)
    assert summary.reasons == {"missing type": 1}
    assert dict(query(grid_db, "SELECT facility_id, name FROM facilities")) == {
        "F1": "幼儿园（文三路）",
        "F2": "幼儿园 F2",
    }


OSM_ROADS = [
    ({"osm_id": "way/1", "highway": "residential", "name": "东路"}, line((120.150, 30.2510), (120.156, 30.2510))),
    ({"osm_id": "way/2", "highway": "footway"}, line((120.150, 30.2510), (120.150, 30.2535))),
    ({"osm_id": "way/3", "highway": "residential"}, line((120.156, 30.2510), (120.156, 30.2535))),
    ({"osm_id": "way/4", "railway": "rail"}, line((120.150, 30.2535), (120.156, 30.2535))),
    ({"osm_id": "way/5", "route": "ferry"}, line((120.150, 30.2535), (120.156, 30.2510))),
]


def test_rail_and_ferry_lines_are_loaded_but_not_walked_on(grid_db, tmp_path):
    """An Overpass-style GeoJSON: highway, railway and route tags as columns."""
    summary = load_file(grid_db, "roads", geojson(tmp_path / "osm_roads.geojson", OSM_ROADS), progress=False)
    assert summary.loaded == 5
    assert "kept but not walked on by coverage (road class): ferry 1, rail 1" in summary.notes
    assert query(grid_db, "SELECT class FROM roads WHERE road_id = 'way/4'") == [("rail",)]
    (tmp_path / "b.csv").write_text("building_id,residents,lon,lat\nB1,100,120.1559,30.2536\n", encoding="utf-8")
    (tmp_path / "f.csv").write_text("facility_id,type,name,lon,lat\nF1,幼儿园,k,120.1501,30.2536\n", encoding="utf-8")
    load_file(grid_db, "buildings", tmp_path / "b.csv", progress=False)
    load_file(grid_db, "facilities", tmp_path / "f.csv", progress=False)
    con = store.connect(grid_db)
    try:
        walk = compute_coverage(con, types=["幼儿园"])
        walked_m = access_for_type(con, "幼儿园")[0]
        on_rail = compute_coverage(con, types=["幼儿园"], road_filter=RoadFilter.build(enabled=False))
        on_rail_m = access_for_type(con, "幼儿园")[0]
    finally:
        con.close()
    assert set(walk.road_filter.left_out["class"]) == {"rail", "ferry"}
    assert "rail 1" in walk.road_filter.line() and "ferry 1" in walk.road_filter.line()
    assert walk.report.length_m < on_rail.report.length_m
    assert 1100 < walked_m < 1200  # round by the streets: 278 m + 577 m + 278 m
    assert on_rail_m < 600  # straight along the railway when the filter is off


def _coverage_db(grid_db, tmp_path, facilities: str):
    (tmp_path / "b.csv").write_text("building_id,residents,lon,lat\nB1,100,120.151,30.251\n", encoding="utf-8")
    (tmp_path / "f.csv").write_text("facility_id,type,name,lon,lat\n" + facilities, encoding="utf-8")
    load_file(grid_db, "buildings", tmp_path / "b.csv", progress=False)
    load_file(grid_db, "facilities", tmp_path / "f.csv", progress=False)


def test_custom_types_are_optional_and_missing_standard_types_count_as_uncovered(grid_db, tmp_path):
    _coverage_db(grid_db, tmp_path, "F1,幼儿园,k,120.1511,30.2511\nF2,图书馆,l,120.1511,30.2511\n")
    con = store.connect(grid_db)
    try:
        result = compute_coverage(con)
        areas, _ = coverage_by_area(con, "community")
    finally:
        con.close()
    types = result.types.set_index("type")
    assert not types.loc["图书馆", "required"]
    assert len(types) == 9  # 幼儿园 + 图书馆 + the 7 standard types with no facility
    assert types.loc["菜市场", "facilities"] == 0 and types.loc["菜市场", "covered_share"] == 0
    assert areas["required_types"].iloc[0] == 8 and areas["types_in_reach"].iloc[0] == 1


def test_a_custom_type_can_be_marked_required(grid_db, tmp_path, capsys):
    _coverage_db(grid_db, tmp_path, "F2,图书馆,l,120.1511,30.2511\n")
    assert main(["coverage", "--db", str(grid_db), "--require", "图书馆"]) == 0
    assert query(grid_db, "SELECT required FROM coverage_types WHERE type = '图书馆'") == [(True,)]
    assert query(grid_db, "SELECT count(*) FROM coverage_types WHERE required") == [(9,)]


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="gridtwin-test">
  <node id="1" lat="30.2510" lon="120.1500"/>
  <node id="2" lat="30.2510" lon="120.1560"/>
  <node id="3" lat="30.2535" lon="120.1560"/>
  <node id="4" lat="30.2535" lon="120.1500"/>
  <node id="11" lat="30.2515" lon="120.1510"/>
  <node id="12" lat="30.2515" lon="120.1513"/>
  <node id="13" lat="30.2518" lon="120.1513"/>
  <node id="14" lat="30.2518" lon="120.1510"/>
  <node id="21" lat="30.2520" lon="120.1520"><tag k="amenity" v="kindergarten"/></node>
  <node id="22" lat="30.2521" lon="120.1521"><tag k="shop" v="convenience"/><tag k="name" v="好邻居"/></node>
  <node id="23" lat="30.2522" lon="120.1522"><tag k="amenity" v="restaurant"/><tag k="name" v="面馆"/></node>
  <way id="100"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/><tag k="name" v="文三路"/></way>
  <way id="101"><nd ref="2"/><nd ref="3"/><tag k="railway" v="rail"/></way>
  <way id="102"><nd ref="3"/><nd ref="4"/><tag k="route" v="ferry"/></way>
  <way id="103"><nd ref="4"/><nd ref="1"/><tag k="waterway" v="river"/></way>
  <way id="200"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/>
    <tag k="building" v="apartments"/><tag k="building:levels" v="6"/><tag k="height" v="18 m"/></way>
</osm>
"""


@pytest.mark.skipif("OSM" not in pyogrio.list_drivers(), reason="GDAL without the OSM driver")
def test_openstreetmap_extract_loads_roads_buildings_and_facilities(grid_db, tmp_path):
    path = tmp_path / "city.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    roads = load_file(grid_db, "roads", path, progress=False)
    assert roads.loaded == 3 and any("1 OpenStreetMap lines that are not roads" in n for n in roads.notes)
    assert query(grid_db, "SELECT road_id, class FROM roads ORDER BY road_id") == [
        ("way/100", "residential"),
        ("way/101", "rail"),
        ("way/102", "ferry"),
    ]
    buildings = load_file(grid_db, "buildings", path, progress=False)
    assert buildings.loaded == 1
    assert query(grid_db, "SELECT building_id, use, floors, height_m FROM buildings") == [
        ("way/200", "apartments", 6, 18.0)
    ]
    facilities = load_file(grid_db, "facilities", path, progress=False)
    assert facilities.loaded == 2 and any("skipped 1 points of interest" in n for n in facilities.notes)
    assert dict(query(grid_db, "SELECT facility_id, type FROM facilities")) == {
        "node/21": "幼儿园",
        "node/22": "便利店",
    }
    assert query(grid_db, "SELECT name FROM facilities WHERE facility_id = 'node/21'") == [("幼儿园（文三路）",)]
    mapped = load_file(
        grid_db, "facilities", path, progress=False, options=LoadOptions(values={"type": {"restaurant": "餐饮"}})
    )
    assert mapped.loaded == 3


def test_quality_report_finds_overlaps_gaps_slivers_and_stray_points(grid_db, tmp_path, capsys):
    codes = np.array(["A", "B", "C", "D"])
    import shapely

    geoms = np.array(
        [
            shapely.box(120.150, 30.250, 120.152, 30.252),
            shapely.box(120.1519, 30.250, 120.154, 30.252),  # overlaps A by 0.0001° (~10 m)
            shapely.box(120.150, 30.252, 120.154, 30.254).difference(shapely.box(120.151, 30.2525, 120.152, 30.2535)),
            shapely.box(120.154, 30.25, 120.156, 30.254),
        ]
    )
    geoms[3] = shapely.box(120.15401, 30.250, 120.156, 30.254)  # 1 m gap to B and C: a sliver
    topology = grid_topology(codes, geoms)
    problems = set(topology["problem"])
    assert problems == {"overlap", "gap", "sliver"}
    assert topology.loc[topology["problem"] == "overlap", "grids"].tolist() == ["A × B"]

    (tmp_path / "b.csv").write_text("building_id,lon,lat\nB1,120.151,30.251\nB2,121.5,31.2\n", encoding="utf-8")
    load_file(grid_db, "buildings", tmp_path / "b.csv", progress=False)
    con = duckdb.connect(str(grid_db), read_only=True)
    try:
        report = quality_report(con)
    finally:
        con.close()
    outside = report.outside.set_index("kind")
    assert outside.loc["buildings", "rejected"] == 1
    assert report.far_buildings["building_id"].tolist() == ["B1"]  # no roads loaded
    types = report.facility_types.set_index("type")
    assert types.loc["幼儿园", "facilities"] == 0 and types.loc["幼儿园", "required"]
    assert main(["quality", "--db", str(grid_db)]) == 0
    out = capsys.readouterr().out
    assert "grid topology: 0 overlaps, 0 gaps, 0 slivers" in out
    assert "rejected buildings 1: outside the loaded area: no grid contains this point" in out
    assert "幼儿园" in out and "← none loaded" in out


def test_hexagons_without_residents_have_no_minutes():
    cells = pd.DataFrame({"id": ["a", "b"], "residents": [0, 50], "mean_m": [None, 600.0], "share": [None, 0.5]})
    out = hexagon_minutes(cells, 60.0)
    assert out["no_residents"].tolist() == [True, False]
    assert np.isnan(out["minutes"].iloc[0]) and out["minutes"].iloc[1] == 10.0


def test_value_file_and_cli_options(grid_db, tmp_path, capsys):
    (tmp_path / "v.txt").write_text("# 311 words\nstatus:Referred=dispatched\nstatus:Void=\n", encoding="utf-8")
    (tmp_path / "i.csv").write_text(
        "category,reported_at,status,lon,lat\nPothole,05/14/2024 08:00,Referred,120.151,30.251\n"
        "Pothole,05/15/2024 08:00,Void,120.152,30.251\n",
        encoding="utf-8",
    )
    args = ["load", "incidents", str(tmp_path / "i.csv"), "--db", str(grid_db), "--values", str(tmp_path / "v.txt")]
    assert main([*args, "--tz", "Asia/Shanghai", "--deadline", "Pothole=120"]) == 0
    assert query(grid_db, "SELECT status FROM incidents ORDER BY reported_at") == [("dispatched",), ("reported",)]
    assert query(grid_db, "SELECT deadline_h FROM categories WHERE category = 'Pothole'") == [(120,)]
    assert main([*args, "--tz", "Mars/Olympus"]) == 1
    assert "--tz 'Mars/Olympus' is not a time zone" in capsys.readouterr().err
    assert main([*args, "--value", "status"]) == 1
    assert "write it as COLUMN:SOURCE=TARGET" in capsys.readouterr().err
