"""Service coverage stored in DuckDB, the `gridtwin coverage` command, and the planner model."""

import shutil

import duckdb
import numpy as np
import pytest
import shapely

from pipelines import coverage, store
from pipelines.cli import main
from pipelines.domain import SERVICE_STANDARDS
from pipelines.store.coverage import access_for_type, coverage_by_area, coverage_types_frame


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


def test_generated_demo_has_coverage_for_every_type(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    types = coverage_types_frame(con).set_index("type")
    n_buildings = con.execute("SELECT count(*) FROM buildings").fetchone()[0]
    n_access = con.execute("SELECT count(*) FROM building_access").fetchone()[0]
    con.close()
    assert set(types.index) == set(SERVICE_STANDARDS)
    assert (types["method"] == "network").all()
    assert types.loc["幼儿园", "threshold_m"] == 300
    assert types.loc["小学", "threshold_m"] == 500
    assert types.loc["菜市场", "threshold_m"] == 1000
    assert n_access == n_buildings * len(SERVICE_STANDARDS)


def test_real_gaps_exist_and_shares_are_consistent(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    areas, by_type = coverage_by_area(con, "community")
    streets, _ = coverage_by_area(con, "street")
    direct = con.execute(
        "SELECT sum(b.residents) FILTER (WHERE a.distance_m <= 300) / sum(b.residents)"
        " FROM buildings b JOIN building_access a USING (building_id) WHERE a.type = '幼儿园'"
    ).fetchone()[0]
    con.close()
    kindergarten = by_type[by_type["type"] == "幼儿园"]
    assert kindergarten["covered"].sum() / kindergarten["residents"].sum() == pytest.approx(direct)
    assert (kindergarten["share"] < 0.05).any(), "some communities must lack a kindergarten nearby"
    assert (kindergarten["share"] > 0.3).any()
    assert areas["residents"].sum() == streets["residents"].sum()
    assert areas["types_in_reach"].between(0, 8).all()
    assert areas["name"].str.endswith("社区").all()


def test_rerun_replaces_results(demo_copy):
    con = store.connect(demo_copy)
    before = con.execute("SELECT count(*), sum(distance_m) FROM building_access").fetchone()
    coverage.compute_coverage(con)
    after = con.execute("SELECT count(*), sum(distance_m) FROM building_access").fetchone()
    con.close()
    assert after[0] == before[0]
    assert after[1] == pytest.approx(before[1])


def test_cli_prints_a_table_per_community(demo_copy, capsys, tmp_path):
    out_csv = tmp_path / "coverage.csv"
    assert main(["coverage", "--db", str(demo_copy), "--type", "幼儿园", "--type", "小学", "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "路网步行距离" in out
    assert "幼儿园" in out
    assert "小学" in out
    assert "兰亭社区" in out
    assert "residents covered" in out
    assert out_csv.read_text(encoding="utf-8-sig").count("\n") == 26  # header + 25 communities


def test_cli_minutes_override_and_unknown_type(demo_copy, capsys):
    assert main(["coverage", "--db", str(demo_copy), "--type", "菜市场", "--minutes", "10", "--speed", "50"]) == 0
    con = duckdb.connect(str(demo_copy), read_only=True)
    threshold = con.execute("SELECT threshold_m FROM coverage_types WHERE type = '菜市场'").fetchone()[0]
    con.close()
    assert threshold == 500
    capsys.readouterr()
    assert main(["coverage", "--db", str(demo_copy), "--type", "医院"]) == 1
    err = capsys.readouterr().err
    assert "unknown facility type 医院" in err
    assert "幼儿园" in err


def test_without_roads_straight_line_is_used_and_labelled(demo_copy, capsys):
    con = store.connect(demo_copy)
    walk_before = access_for_type(con, "幼儿园")
    con.execute("DELETE FROM roads")
    con.close()
    assert main(["coverage", "--db", str(demo_copy), "--type", "幼儿园"]) == 0
    out = capsys.readouterr().out
    assert "直线距离" in out
    assert "STRAIGHT-LINE" in out
    con = duckdb.connect(str(demo_copy), read_only=True)
    assert con.execute("SELECT method FROM coverage_types WHERE type = '幼儿园'").fetchone()[0] == "straight_line"
    straight = access_for_type(con, "幼儿园")
    planner = coverage.load_planner(con)
    con.close()
    assert planner.method == "straight_line"
    assert planner.network is None
    # a straight line is never longer than the walk it stands for
    assert (np.nan_to_num(straight, nan=np.inf) <= np.nan_to_num(walk_before, nan=np.inf) + 1e-6).all()


def test_errors_are_one_clear_message(tmp_path, capsys):
    assert main(["coverage", "--db", str(tmp_path / "empty.duckdb")]) == 1
    assert "no buildings loaded" in capsys.readouterr().err


def test_planner_model_what_if_service_area_and_sites(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    planner = coverage.load_planner(con)
    current = access_for_type(con, "幼儿园")
    con.close()
    assert planner.method == "network"
    uncovered = ~(np.nan_to_num(current, nan=np.inf) <= 300)
    # a new kindergarten right at an uncovered building covers that building
    target = int(np.flatnonzero(uncovered & (planner.buildings["residents"].to_numpy() > 0))[0])
    x, y = planner.buildings.loc[target, ["x", "y"]]
    new = planner.distances_from(np.array([x]), np.array([y]), 300)
    assert new[target] <= 300
    # a service area holds its own facility and lies within the radius as the crow flies (+ reach)
    fid = planner.facilities["facility_id"].iloc[0]
    area = planner.service_area([fid], 500)
    lon, lat = planner.facilities.loc[0, ["lon", "lat"]]
    assert area.contains(shapely.Point(lon, lat))
    sites = planner.suggest_sites(uncovered, 300, 3)
    assert list(sites["rank"]) == [1, 2, 3]
    assert (np.diff(sites["gain"]) <= 0).all()
    assert sites["cumulative"].iloc[-1] == sites["gain"].sum()


def test_demo_roads_are_noded_as_geos_union_all_nodes_them(demo_db):
    """The numpy noder on a whole generated city's walkable roads: the same pieces as union_all(grid_size)."""
    from geo import network as walk
    from geo.noding import pixel_index, snap_round
    from pipelines.roadclass import RoadFilter, walkable_roads

    con = store.connect(demo_db, read_only=True)
    roads = walkable_roads(con, RoadFilter())
    con.close()
    parts = shapely.get_parts(roads)
    frame = walk.LocalFrame.around(*shapely.get_coordinates(parts).T)
    lines = walk._snap_ends(frame.geoms_to_xy(parts), walk.SNAP_M, walk.NetworkReport())
    start, end = snap_round(lines, walk.GRID_SIZE_M)
    noded = shapely.get_parts(shapely.union_all(lines, grid_size=walk.GRID_SIZE_M))
    coords, index = shapely.get_coordinates(noded, return_index=True)
    same = index[1:] == index[:-1]
    a, b = (pixel_index(c, 1 / walk.GRID_SIZE_M).tolist() for c in (coords[:-1][same], coords[1:][same]))
    geos = {tuple(sorted([tuple(p), tuple(q)])) for p, q in zip(a, b, strict=True) if p != q}
    ours = {(tuple(p), tuple(q)) for p, q in zip(start.tolist(), end.tolist(), strict=True)}
    assert len(ours) == len(start) > 1000
    assert ours == geos
