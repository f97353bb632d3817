"""The party page's view model: ranked table, 红黑榜, drill targets, export neutralisation, masking."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dashboard import exports
from dashboard.views import command
from dashboard.views import party as view
from pipelines.party.indicators import BY_KEY, indicator_table, indicators_for

DISTRICT = "330180"


def _texts(component) -> list[str]:
    """Every string inside a Dash component tree."""
    if component is None:
        return []
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [s for c in component for s in _texts(c)]
    return _texts(getattr(component, "children", None))


@pytest.fixture(scope="module")
def streets(data):
    with data.cursor() as cur:
        return indicator_table(cur, "street", DISTRICT)


def test_table_is_the_districts_streets_ranked_by_the_chosen_indicator(data, streets):
    row_level, table = view.unit_table(data, "district", DISTRICT)
    assert row_level == "street"
    pd.testing.assert_frame_equal(table, streets)
    records, columns, tooltips = view.table_rows(table, row_level, "head_coverage", "zh")
    assert [r["code"] for r in records] == streets.sort_values("head_coverage", ascending=False)["code"].tolist()
    assert [r["rank"] for r in records] == list(range(1, len(streets) + 1))
    first = streets.set_index("code").loc[records[0]["code"]]
    assert records[0]["head_coverage"] == pytest.approx(round(100 * first["head_coverage"], 1))
    ids = [c["id"] for c in columns]
    assert {i.key for i in indicators_for("street")} <= set(ids)
    assert tooltips["head_coverage"] == BY_KEY["head_coverage"].definition("zh")


def test_lower_is_better_ranks_ascending(data, streets):
    records, _, _ = view.table_rows(streets, "street", "households_per_worker", "en")
    values = [r["households_per_worker"] for r in records if r["households_per_worker"] is not None]
    assert values == sorted(values)


def test_english_headers_and_definitions_carry_english_units(streets):
    _, columns, _ = view.table_rows(streets, "street", "head_coverage", "en")
    units = [c["name"] for c in columns if c["id"] in BY_KEY]
    assert "in-service members reporting (per 1k residents)" in units
    assert all(name.isascii() for name in units), units  # no Chinese term or unit left in an English header
    assert "grid workers per grid" in units  # its unit is in its name: not repeated
    assert view.definition("in_service_per_1000", "en").startswith("in-service members reporting (per 1k residents): ")
    assert "（人/千人）" in view.definition("in_service_per_1000", "zh")


def test_red_and_black_boards_are_the_best_and_worst_five(data, streets):
    with data.cursor() as cur:
        grids = indicator_table(cur, "grid", None)
    blocks = view.boards(grids, "grid", "head_coverage", "zh")
    red, black = (block.children[1].children for block in blocks)
    assert len(red) == 5 and len(black) == 5
    ordered = grids.dropna(subset=["head_coverage"]).sort_values(["head_coverage", "code"], ascending=[False, True])
    assert [li.id for li in red] == [f"party-red-{c}" for c in ordered["code"].head(5)]
    worst = grids.dropna(subset=["head_coverage"]).sort_values(["head_coverage", "code"])
    assert [li.id for li in black] == [f"party-black-{c}" for c in worst["code"].head(5)]


def test_drill_targets_go_one_level_down_and_stop_at_grids():
    assert view.drill_target("city", "330180") == {"level": "district", "code": "330180"}
    assert view.drill_target("district", "330180001") == {"level": "street", "code": "330180001"}
    assert view.drill_target("community", "330180001001001") == {"level": "grid", "code": "330180001001001"}
    assert view.drill_target("grid", "330180001001001") is None
    click = {"points": [{"customdata": ["330180001", "某街道", "unit", "90%"]}]}
    assert view.clicked_unit(click, "district") == {"level": "street", "code": "330180001"}
    assert view.clicked_unit({"points": [{"customdata": ["org", "PO1"]}]}, "district") is None
    assert view.clicked_unit(None, "district") is None


def test_a_bad_indicator_in_the_url_falls_back_to_the_default():
    assert view.indicator_key("=cmd|x", "district") == view.DEFAULT_INDICATOR
    assert view.indicator_key("partners", "grid") == view.DEFAULT_INDICATOR  # no grid-level figure
    assert view.indicator_key("partners", "district") == "partners"


def test_exports_neutralise_formulas_and_keep_numbers(streets):
    evil = streets.copy()
    evil.loc[evil.index[0], "name"] = '=HYPERLINK("http://x")'
    evil.loc[evil.index[1], "name"] = "@SUM(A1)"
    evil.loc[evil.index[2], "name"] = "\tTAB"
    content, name = view.export(evil, "street", "head_coverage", "csv", "zh", "20261123")
    assert name == "gridtwin-party-street-20261123.csv"
    assert content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    names = frame["名称"].tolist()
    assert '\'=HYPERLINK("http://x")' in names and "'@SUM(A1)" in names and "'\tTAB" in names
    for column in frame.columns:
        for cell in frame[column]:
            if cell.startswith(exports.FORMULA_STARTS):
                float(cell)  # only a negative number may start with '-'
    content, name = view.export(evil, "street", "head_coverage", "xlsx", "en", "20261123")
    assert name.endswith(".xlsx")
    sheet = pd.read_excel(io.BytesIO(content))
    assert '\'=HYPERLINK("http://x")' in sheet["Name"].tolist()
    assert pd.api.types.is_numeric_dtype(sheet["Grids"])


def test_neutralise_leaves_negative_numbers_alone():
    frame = pd.DataFrame({"a": ["-x", "ok", None], "b": [-1.5, 2.0, 3.0]})
    out = exports.neutralise(frame)
    assert out["a"].tolist()[:2] == ["'-x", "ok"] and out["a"].isna().tolist()[2]
    assert out["b"].tolist() == [-1.5, 2.0, 3.0]


def _first_grid(data) -> str:
    with data.cursor() as cur:
        return cur.execute(
            "SELECT grid_code FROM party_orgs WHERE unit_level = 'grid' AND secretary_name IS NOT NULL"
            " ORDER BY grid_code LIMIT 1"
        ).fetchone()[0]


def test_names_are_masked_for_viewers_and_whole_for_dispatchers(data):
    grid = _first_grid(data)
    with data.cursor() as cur:
        secretary, phone = cur.execute(
            "SELECT secretary_name, secretary_phone FROM party_orgs WHERE grid_code = ? AND unit_level = 'grid'",
            [grid],
        ).fetchone()
    viewer = " ".join(_texts(view.people(data, "grid", grid, view.may_reveal("viewer"), "zh")))
    dispatcher = " ".join(_texts(view.people(data, "grid", grid, view.may_reveal("dispatcher"), "zh")))
    assert secretary not in viewer and secretary[0] + "*" in viewer
    assert secretary in dispatcher
    assert phone not in viewer and phone not in dispatcher  # phones are always masked
    fig = view.build_view(data, None, "grid", grid, "head_coverage", "viewer", "zh")[0]
    hover = " ".join(str(x) for trace in fig["data"] for x in trace.get("text", []))
    assert "楼栋长" in hover and secretary not in hover


def test_the_map_shades_units_and_draws_party_points(data):
    fig = view.build_view(data, None, "district", DISTRICT, "grid_org_coverage", "admin", "zh")[0]
    names = [trace["name"] for trace in fig["data"]]
    assert "units" in names and "党群服务中心" in names and "街道大工委" in names
    units = next(trace for trace in fig["data"] if trace["name"] == "units")
    assert all(c[2] == "unit" for c in units["customdata"])


def test_command_grid_panel_shows_the_party_side_masked_for_viewers(data):
    grid = _first_grid(data)
    with data.cursor() as cur:
        secretary = cur.execute(
            "SELECT secretary_name FROM party_orgs WHERE grid_code = ? AND unit_level = 'grid'", [grid]
        ).fetchone()[0]
        worker = cur.execute("SELECT name FROM grid_workers WHERE grid_code = ? LIMIT 1", [grid]).fetchone()
    as_viewer = " ".join(_texts(command.build_side(data, "grid", grid, "7d", (None, None), "zh", "viewer")[4]))
    as_admin = " ".join(_texts(command.build_side(data, "grid", grid, "7d", (None, None), "zh", "admin")[4]))
    assert "党支部" in as_viewer and "组团服务" in as_viewer and "楼栋长" in as_viewer
    assert secretary not in as_viewer and secretary in as_admin
    if worker:
        assert worker[0] not in as_viewer and worker[0] in as_admin


def test_english_grid_panel_names_roles_and_categories_in_english(data):
    grid = _first_grid(data)
    text = " ".join(_texts(command.build_side(data, "grid", grid, "7d", (None, None), "en", "admin")[4]))
    assert "grid worker" in text.lower() or "Grid head" in text
    assert "Building head" in text and "Volunteer" in text
    assert not any(role in text for role in ("网格长", "专职网格员", "兼职网格员", "楼栋长 ", "志愿者", "在职党员"))


def _street_with_centres(data) -> tuple[str, pd.DataFrame]:
    centres = data.shapes.facilities("city", None, "党群服务中心")
    with data.cursor() as cur:
        streets = cur.execute(
            "SELECT facility_id, street_code FROM facilities WHERE type = '党群服务中心' AND street_code IS NOT NULL"
        ).df()
    street = streets["street_code"].value_counts().index[0]
    return street, centres[centres["facility_id"].isin(streets.loc[streets["street_code"] == street, "facility_id"])]


def test_the_map_draws_one_walking_area_per_centre_of_a_street(data, monkeypatch):
    street, centres = _street_with_centres(data)
    assert len(centres) >= 2  # the demo city has streets with several 党群服务中心
    fig = view.build_view(data, None, "street", street, "head_coverage", "viewer", "zh")[0]
    areas = next(trace for trace in fig["data"] if trace["name"] == "15分钟党群服务圈（步行）")
    assert sorted(areas["locations"]) == sorted(centres["facility_id"])
    assert sorted(f["id"] for f in areas["geojson"]["features"]) == sorted(centres["facility_id"])
    assert areas["visible"] is True
    named = dict(zip(centres["facility_id"], centres["name"], strict=True))
    for fid, text in zip(areas["locations"], areas["text"], strict=True):
        assert named[fid] in text and "15分钟党群服务圈" in text
    for feature in areas["geojson"]["features"]:  # walking areas are real polygons near their centre
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    english = view.build_view(data, None, "street", street, "head_coverage", "viewer", "en")[0]
    assert any(trace["name"] == "15-minute party service circle (walking)" for trace in english["data"])

    calls = []
    original = data.planner.service_area_geometry
    monkeypatch.setattr(
        data.planner, "service_area_geometry", lambda *a: calls.append(a) or original(*a)
    )  # cached per (run, facility): drawing the street again computes nothing
    view.build_view(data, None, "street", street, "partners", "viewer", "zh")
    assert calls == []


def test_a_district_draws_its_covered_area_as_one_shape(data):
    fig = view.build_view(data, None, "district", DISTRICT, "head_coverage", "viewer", "en")[0]
    areas = [trace for trace in fig["data"] if trace["name"] == "15-minute party service circle (walking)"]
    assert len(areas) == 1 and areas[0]["locations"] == ["covered"]
    assert "within a walk" in areas[0]["text"][0]


def test_the_cached_table_follows_an_edited_standard(data):
    from pipelines.store.party import set_standard, standards

    before = view.unit_table(data, "district", DISTRICT)[1]["understaffed_communities"].sum()
    old = standards(data.con)["min_paid_staff"]
    with data.cursor() as cur:
        set_standard(cur, "min_paid_staff", 1000)
    try:
        after = view.unit_table(data, "district", DISTRICT)[1]["understaffed_communities"].sum()
    finally:
        with data.cursor() as cur:
            set_standard(cur, "min_paid_staff", old)
    assert after > before
    assert view.unit_table(data, "district", DISTRICT)[1]["understaffed_communities"].sum() == before


def test_new_incidents_keep_the_cached_table_a_load_does_not(data):
    from pipelines.store.meta import bump_data_version

    first = data.party.table("street", DISTRICT)
    with data.db.write() as cur:
        bump_data_version(cur, reference=False)  # what intake, the loop and the simulator do
    assert data.party.table("street", DISTRICT) is first
    with data.db.write() as cur:
        bump_data_version(cur)  # a load or an edit of reference data
    assert data.party.table("street", DISTRICT) is not first


def test_the_party_map_is_fitted_to_the_maps_size_on_the_page(data):
    """A 1366×768 screen leaves the map ~360 px high: fitted to its real size the whole unit is in view (the
    default view of an 820×620 map was zoomed in past the city's outline)."""
    wide = view.build_view(data, None, "city", None, "head_coverage", "viewer", "zh", {"width": 940, "height": 360})
    tall = view.build_view(data, None, "city", None, "head_coverage", "viewer", "zh", {"width": 940, "height": 900})
    low_zoom, high_zoom = wide[0]["layout"]["map"]["zoom"], tall[0]["layout"]["map"]["zoom"]
    assert low_zoom < high_zoom  # the lower map shows the city from further away
    assert (
        view.build_view(data, None, "city", None, "head_coverage", "viewer", "zh")[0]["layout"]["map"]["zoom"]
        > low_zoom
    )
