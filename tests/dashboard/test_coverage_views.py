"""The planner page's view models (服务圈分析) against pandas on the stored results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.data import DashboardData
from dashboard.views import coverage
from tests.conftest import DEMO_END


@pytest.fixture(scope="module")
def access(data):
    with data.cursor() as cur:
        return cur.execute(
            "SELECT b.building_id, b.residents, b.street_code, a.type, a.distance_m, t.threshold_m"
            " FROM buildings b JOIN building_access a USING (building_id) JOIN coverage_types t USING (type)"
        ).df()


def test_kpis_and_cells_agree_with_the_stored_distances(data, access):
    fig, tiles, banner, css, tier, panel = coverage.build_view(
        data, None, "district", "330180", "幼儿园", None, None, "zh"
    )
    rows = access[access["type"] == "幼儿园"]
    covered = rows["residents"][rows["distance_m"] <= rows["threshold_m"]].sum() / rows["residents"].sum()
    shown = float(tiles[0].children[1].children[0])
    assert shown == pytest.approx(100 * covered, abs=0.05)
    assert banner[0] == "测算方式：路网步行距离"
    assert css == "gt-method"
    assert tier.startswith("5分钟 生活圈 · ≤300 m")
    assert panel is None
    names = [trace["name"] for trace in fig["data"]]
    assert names[:1] == ["access"] and "现有设施" in names
    assert len(json.dumps(fig)) < 2_000_000


def test_area_table_by_street(data, access):
    frame, columns = coverage.area_table(data, "district", "330180", "zh")
    assert len(frame) == 5
    assert {c["id"] for c in columns} >= {"name", "residents", "types_in_reach", "幼儿园", "测算方式"}
    rows = access[(access["type"] == "小学") & (access["street_code"] == frame["code"].iloc[0])]
    share = rows["residents"][rows["distance_m"] <= rows["threshold_m"]].sum() / rows["residents"].sum()
    assert frame["小学"].iloc[0] == pytest.approx(100 * share, abs=0.05)
    assert (frame["测算方式"] == "路网步行距离").all()


def test_what_if_and_sites(data, access):
    planner = data.planner.network()
    kids = access[access["type"] == "幼儿园"].set_index("building_id")
    far = kids[(kids["distance_m"] > 600) | kids["distance_m"].isna()].sort_values("residents").index[-1]
    row = planner.buildings.set_index("building_id").loc[far]
    result = data.planner.what_if("幼儿园", row["lon"], row["lat"], "district", "330180")
    assert result["gained_residents"] >= row["residents"] > 0
    assert result["after"] > result["before"]
    fig, *_, panel = coverage.build_view(
        data, None, "district", "330180", "幼儿园", {"kind": "site", "lon": row["lon"], "lat": row["lat"]}, None, "zh"
    )
    assert "拟建设施" in [trace["name"] for trace in fig["data"]]
    assert f"{result['gained_residents']:,}" in panel[1].children
    sites = data.planner.suggest_sites("幼儿园", "street", planner.buildings["street_code"].iloc[0], 3)
    assert len(sites) == 3 and (np.diff(sites["gain"]) <= 0).all()


def test_service_area_and_uncovered_export(data):
    fid = data.shapes.facilities("district", "330180", "小学")["facility_id"].iloc[0]
    area = data.planner.service_area(fid, "小学")
    assert area["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    export = coverage.uncovered_export(data, "district", "330180", "小学", "zh")
    assert (export["步行距离(米)"].fillna(np.inf) >= 500).all()  # rounded to whole metres
    assert (export["测算方式"] == "路网步行距离").all()


def test_page_without_a_coverage_run_says_how_to_get_one(tmp_path):
    from pipelines.loaders import load_file
    from tests.conftest import DATA

    path = tmp_path / "grids.duckdb"
    load_file(path, "grids", DATA / "grids.geojson", progress=False)
    view = DashboardData(path, clock=lambda: DEMO_END)
    try:
        level, code = view.shapes.home()
        _, tiles, banner, css, *_ = coverage.build_view(view, None, level, code, None, None, None, "zh")
    finally:
        view.close()
    assert tiles == []
    assert "gridtwin coverage" in banner
    assert css.endswith("gt-method-warn")


def test_hexagons_without_residents_are_grey_not_zero_minutes():
    import pandas as pd

    from dashboard.coverage_figures import NO_RESIDENTS_COLOUR, access_traces

    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "residents": [120, 0, 30], "mean_m": [600.0, None, 1200.0], "share": [1.0, None, 0.0]}
    )
    traces = access_traces(frame, {}, speed_m_per_min=60, tier_minutes=10, lang="zh")
    access, empty = traces
    assert access["locations"] == ["a", "c"] and access["z"] == [10.0, 20.0]
    assert empty["name"] == "无居民" and empty["locations"] == ["b"] and empty["showlegend"]
    assert empty["colorscale"][0][1] == NO_RESIDENTS_COLOUR and not empty["showscale"]
    assert "无居民" in empty["hovertemplate"]
    english = access_traces(frame, {}, speed_m_per_min=60, tier_minutes=10, lang="en")
    assert english[1]["name"] == "No residents"


def test_the_map_draws_empty_hexagons_as_no_residents(data):
    fig, *_ = coverage.build_view(data, None, "district", "330180", "幼儿园", None, None, "zh")
    cells = data.planner.access_cells("district", "330180", "幼儿园", 8, 600.0, 60.0)[0]
    drawn = {trace["name"]: trace for trace in fig["data"]}
    assert "access" in drawn
    if cells["no_residents"].any():  # the demo city may have hexagons with only empty buildings
        assert "无居民" in drawn
    assert cells.loc[cells["no_residents"], "minutes"].isna().all()
    assert (cells.loc[~cells["no_residents"], "residents"] > 0).all()


def test_the_planner_map_is_fitted_to_the_maps_size_on_the_page(data):
    low = coverage.build_view(data, None, "city", None, "幼儿园", None, None, "zh", {"width": 980, "height": 370})[0]
    high = coverage.build_view(data, None, "city", None, "幼儿园", None, None, "zh", {"width": 980, "height": 900})[0]
    assert low["layout"]["map"]["zoom"] < high["layout"]["map"]["zoom"]
