"""Every indicator computed by hand on the fixture (see conftest.py) equals the code's figure."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipelines import store
from pipelines.party.indicators import INDICATORS, indicator_table, indicators_for, red_black
from pipelines.store.party import set_standard
from pipelines.store.party_indicators import refresh_party_facts
from tests.pipelines.party.conftest import AS_OF, C1, C2, STREET, G

POP = {"district": 5436, C1: 900 + 901 + 910 + 911, C2: 902 + 912}
# By hand, per unit: what the fixture holds (conftest.py's docstring and CSVs).
EXPECTED = {
    ("district", "330106"): {
        "grid_org_coverage": 2 / 6,  # O3 in G1, O4 in G3
        "estate_org_coverage": 1 / 3,  # O5 in E1 of E1..E3
        "head_coverage": 3 / 5,  # B1, B4, B5 of residential B1 B2 B4 B5 B6
        "party_head_share": 1 / 3,  # B1's head is M1
        "in_service_per_1000": 1000 * 2 / 5436,  # M2 and M4 reported; M3 did not
        "workers_per_grid": 4 / 6,
        "households_per_worker": 6 * 350 / 4,
        "social_workers_per_10k": 10000 * 6 / 5436,
        "social_worker_shortfall": math.ceil(18 * 5436 / 10000) - 6,
        "understaffed_communities": 1,  # C2 has 3 paid staff
        "volunteer_hours_per_1000": 1000 * (3 + 2) / 5436,  # V3 is older than 30 days
        "partners": 2,  # P2's agreement expired
        "centre_coverage": (100 + 80 + 40) / 330,  # B1 500 m, B4 900 m, B6 1000 m ≤ 1000 m
    },
    ("community", C1): {
        "grid_org_coverage": 1 / 4,
        "estate_org_coverage": 1 / 2,
        "head_coverage": 2 / 3,
        "party_head_share": 1 / 2,
        "in_service_per_1000": 1000 * 1 / POP[C1],
        "workers_per_grid": 3 / 4,
        "households_per_worker": 4 * 350 / 3,
        "social_workers_per_10k": 10000 * 5 / POP[C1],
        "social_worker_shortfall": math.ceil(18 * POP[C1] / 10000) - 5,
        "understaffed_communities": 0,
        "volunteer_hours_per_1000": 1000 * 2 / POP[C1],
        "partners": 1,
        "centre_coverage": (100 + 80) / (100 + 50 + 80),
    },
    ("community", C2): {
        "grid_org_coverage": 1 / 2,
        "estate_org_coverage": 0.0,
        "head_coverage": 1 / 2,
        "party_head_share": 0.0,
        "in_service_per_1000": 1000 * 1 / POP[C2],
        "workers_per_grid": 1 / 2,
        "households_per_worker": 2 * 350 / 1,
        "social_workers_per_10k": 10000 * 1 / POP[C2],
        "social_worker_shortfall": math.ceil(18 * POP[C2] / 10000) - 1,
        "understaffed_communities": 1,
        "volunteer_hours_per_1000": 1000 * 3 / POP[C2],
        "partners": 1,
        "centre_coverage": 40 / 100,
    },
    ("grid", G[1]): {
        "grid_org_coverage": 1.0,
        "estate_org_coverage": 1 / 2,
        "head_coverage": 1 / 2,
        "party_head_share": 1.0,
        "in_service_per_1000": 0.0,  # M3 serves here but never reported
        "workers_per_grid": 2.0,
        "households_per_worker": 175.0,
        "social_workers_per_10k": None,  # community facts do not exist per grid
        "understaffed_communities": None,
        "volunteer_hours_per_1000": 1000 * 2 / 900,
        "partners": None,
        "centre_coverage": 100 / 150,
    },
    ("grid", G[2]): {"in_service_per_1000": 1000 / 901, "head_coverage": 1.0, "party_head_share": 0.0},
    ("grid", G[5]): {"grid_org_coverage": 0.0, "head_coverage": None, "estate_org_coverage": None},
}


@pytest.fixture
def con(party_template):
    con = store.connect(party_template, read_only=True)
    yield con
    con.close()


def _row(con, level, code):
    parent = {"district": None, "street": None, "community": STREET, "grid": code[:12]}[level]
    table = indicator_table(con, level, parent, AS_OF)
    return table.set_index("code").loc[code]


@pytest.mark.parametrize(("level", "code"), list(EXPECTED))
def test_indicator_by_hand(con, level, code):
    row = _row(con, level, code)
    for key, expected in EXPECTED[(level, code)].items():
        value = row[key]
        if expected is None:
            assert pd.isna(value), key
        else:
            assert value == pytest.approx(expected), key


def test_every_indicator_is_checked_at_district_level():
    assert {i.key for i in INDICATORS} <= set(EXPECTED[("district", "330106")])


def test_street_level_sums_its_communities(con):
    street = _row(con, "street", STREET)
    assert street["partners"] == 2 and street["understaffed_communities"] == 1
    assert street["grid_org_coverage"] == pytest.approx(2 / 6)


def test_the_standards_are_editable(party_db):
    con = store.connect(party_db)
    set_standard(con, "min_paid_staff", 7)  # now C1 (6 paid staff) is under-staffed too
    set_standard(con, "volunteer_window_days", 60)  # V3 (2026-10-01) is inside 60 days
    row = _row(con, "district", "330106")
    con.close()
    assert row["understaffed_communities"] == 2
    assert row["volunteer_hours_per_1000"] == pytest.approx(1000 * 9 / 5436)


def test_without_a_coverage_run_the_centre_coverage_is_empty(party_db):
    con = store.connect(party_db)
    con.execute("DELETE FROM coverage_types")
    refresh_party_facts(con)
    row = _row(con, "district", "330106")
    con.close()
    assert math.isnan(row["centre_coverage"])


def test_red_black_lists(con):
    table = indicator_table(con, "community", STREET, AS_OF)
    boards = red_black(table, "community", n=1).set_index(["indicator", "board"])
    assert boards.loc[("grid_org_coverage", "red"), "code"] == C2  # 1/2 beats 1/4
    assert boards.loc[("grid_org_coverage", "black"), "code"] == C1
    assert boards.loc[("households_per_worker", "red"), "code"] == C1  # fewer households per worker is better
    assert boards.loc[("households_per_worker", "black"), "value"] == pytest.approx(700)
    grids = red_black(indicator_table(con, "grid", C1, AS_OF), "grid")
    assert "partners" not in set(grids["indicator"])  # no grid-level figure
    assert (grids.groupby(["indicator", "board"]).size() <= 5).all()


def test_a_unit_is_on_one_board_only_and_the_best_are_never_on_the_black_one():
    table = pd.DataFrame({"code": ["a", "b", "c", "d", "e"], "name": list("ABCDE")})
    for indicator in indicators_for("community"):
        table[indicator.key] = 300.0
    table["grid_org_coverage"] = [1.0, 1.0, 1.0, 0.5, 0.9]
    boards = red_black(table, "community")
    coverage = boards[boards["indicator"] == "grid_org_coverage"]
    red, black = (coverage.loc[coverage["board"] == b, "code"].tolist() for b in ("red", "black"))
    assert red == ["a", "b"] and black == ["d", "e"]  # two each at most (5 units): c is on neither
    same = boards[boards["indicator"] == "households_per_worker"]
    assert same.loc[same["board"] == "black"].empty  # all equal: nobody is worst
