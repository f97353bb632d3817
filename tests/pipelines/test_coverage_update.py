"""One facility type recomputed on the stored network gives what a full coverage run gives."""

import shutil

import numpy as np
import pytest

from pipelines import coverage, store
from pipelines.coverage_update import recompute_type
from pipelines.errors import GridtwinError
from pipelines.store.coverage import access_for_type, coverage_types_frame

KIND = "幼儿园"


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    return path


def stored(con) -> dict[str, np.ndarray]:
    kinds = coverage_types_frame(con)["type"]
    return {kind: np.nan_to_num(access_for_type(con, kind), nan=np.inf) for kind in kinds}


def same_to_the_millimetre(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((a == b) | (np.abs(a - b) < 1e-3)))


def test_changed_facilities_of_one_type_match_a_full_run(demo_copy):
    con = store.connect(demo_copy)
    planner = coverage.load_planner(con)  # the model a page keeps: loaded before the facilities change
    before = stored(con)
    ids = con.execute("SELECT facility_id FROM facilities WHERE type = ? ORDER BY facility_id", [KIND]).fetchall()
    con.execute("DELETE FROM facilities WHERE facility_id IN (SELECT unnest(?))", [[i[0] for i in ids[::2]]])
    con.execute("UPDATE facilities SET lon = lon + 0.002 WHERE facility_id = ?", [ids[1][0]])

    update = recompute_type(con, KIND, planner)
    assert update.stored and update.facilities == len(ids) - len(ids[::2])
    incremental = stored(con)
    assert not same_to_the_millimetre(incremental[KIND], before[KIND])  # fewer facilities: farther for some
    for kind in before:
        if kind != KIND:
            assert np.array_equal(incremental[kind], before[kind])  # other types untouched
    assert np.array_equal(update.distance_m, incremental[KIND])
    counts = coverage_types_frame(con).set_index("type")["facilities"]
    assert counts[KIND] == update.facilities

    coverage.compute_coverage(con, types=[KIND])  # the full run: network built again, everything joined again
    assert same_to_the_millimetre(stored(con)[KIND], incremental[KIND])
    con.close()


def test_a_hypothetical_site_is_computed_not_stored(demo_copy):
    con = store.connect(demo_copy)
    planner = coverage.load_planner(con)
    before = stored(con)[KIND]
    far = int(np.argmax(np.where(np.isfinite(before), before, -1)))  # the building worst served (but reached)
    lon, lat = planner.buildings.loc[far, ["lon", "lat"]]
    update = recompute_type(con, KIND, planner, extra_lon=np.array([lon]), extra_lat=np.array([lat]))
    assert not update.stored
    assert update.distance_m[far] < before[far]
    assert np.all(update.distance_m <= before + 1e-9)
    assert update.covered_share >= (planner.buildings["residents"].to_numpy()[before <= update.threshold_m]).sum() / (
        planner.buildings["residents"].sum()
    )
    assert np.array_equal(stored(con)[KIND], before)
    con.close()


def test_refusals_are_one_clear_message(demo_copy, tmp_path):
    con = store.connect(demo_copy)
    with pytest.raises(GridtwinError, match="unknown facility type"):
        recompute_type(con, "火星基地")
    con.close()
    empty = store.connect(tmp_path / "empty.duckdb")
    with pytest.raises(GridtwinError, match="no coverage computed yet"):
        recompute_type(empty, KIND)
    empty.close()


def party_facts(con):
    return con.execute("SELECT * FROM party_grid_facts ORDER BY grid_code").df()


def test_only_changed_rows_are_written_and_party_reach_equals_a_full_recount(demo_copy):
    from pipelines.store.party_indicators import refresh_party_facts

    centre = "党群服务中心"
    con = store.connect(demo_copy)
    planner = coverage.load_planner(con)
    unchanged = recompute_type(con, centre, planner)
    assert unchanged.timings_s["rows_written"] == 0  # same facilities: nothing to write
    ids = [r[0] for r in con.execute("SELECT facility_id FROM facilities WHERE type = ?", [centre]).fetchall()]
    con.execute("DELETE FROM facilities WHERE facility_id = ?", [ids[0]])
    update = recompute_type(con, centre, planner)
    assert 0 < update.timings_s["rows_written"] < len(planner.buildings)
    assert np.array_equal(stored(con)[centre], update.distance_m)
    incremental = party_facts(con)
    refresh_party_facts(con)
    assert incremental.equals(party_facts(con))
    assert incremental["centre_reached"].sum() > 0
    coverage.compute_coverage(con, types=[centre])  # a full run's partial recount gives the full recount too
    full_run = party_facts(con)
    refresh_party_facts(con)
    assert full_run.equals(party_facts(con))
    con.close()
