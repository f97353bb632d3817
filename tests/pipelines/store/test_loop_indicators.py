"""Each loop indicator against a count made by hand on a small fixture (see the comments for the sums)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import store
from pipelines.incidents.repository import sync_derived_tables
from pipelines.store.loop_indicators import UnknownUnitError, department_ranking, indicators, unit_level

SINCE, UNTIL = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 8)
S1, S2 = "330100001", "330100002"
C1, C2 = S1 + "001", S2 + "001"
G1, G2 = C1 + "001", C2 + "001"
CODES = {G1: (C1, S1), G2: (C2, S2)}

# id, grid, status, reported, due, resolved, satisfaction, archived
INCIDENTS = [
    ("A", G1, "evaluated", "10-31 08:00", "11-01 08:00", "10-31 20:00", 5, False),  # due in P, on time
    ("B", G1, "resolved", "11-02 00:00", "11-03 00:00", "11-04 00:00", None, False),  # due, late; resolved 48 h
    ("C", G1, "in_progress", "11-05 00:00", "11-06 00:00", None, None, False),  # due, open
    ("D", G2, "evaluated", "11-06 00:00", "11-07 12:00", "11-07 10:00", 3, False),  # due, on time; 34 h, 3 points
    ("E", G2, "evaluated", "11-04 00:00", "11-10 00:00", "11-05 00:00", 4, False),  # not due in P; 24 h, 4 points
    ("F", G1, "reported", "11-01 00:00", "11-02 00:00", None, None, True),  # archived: never counted
    ("G", G1, "resolved", "11-06 00:00", "11-07 00:00", "11-09 00:00", None, False),  # due, closed after P
]
# incident, kind, passed, score, when
CHECKS = [
    ("B", "核查", False, 2, "11-03 12:00"),  # 返工
    ("D", "核查", True, 5, "11-07 11:00"),
    ("E", "回访", False, None, "11-06 00:00"),  # reopened after the visit: 返工
    ("A", "核查", True, 1, "10-31 21:00"),  # before P
]
# id, incident, department, blown, report due, reported, rating
WHISTLES = [
    ("W1", "B", "城管执法", "11-02 10:00", "11-02 12:00", "11-02 11:00", 4),  # 1 h, on time
    ("W2", "B", "交警大队", "11-02 10:00", "11-02 12:00", "11-02 14:00", 2),  # 4 h, late
    ("W3", "D", "城管执法", "11-06 09:00", "11-06 11:00", None, None),  # never reported: late
    ("W4", "A", "交警大队", "10-30 09:00", "10-30 11:00", "10-30 10:00", 5),  # before P
]


def _t(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("loop") / "loop.duckdb")
    con.execute("INSERT INTO districts (district_code, name) VALUES ('330100', '区')")
    con.execute(
        "INSERT INTO streets (street_code, name, district_code) VALUES (?, '一街', '330100'), (?, '二街', '330100')",
        [S1, S2],
    )
    con.execute(
        "INSERT INTO communities (community_code, name, street_code, district_code)"
        " VALUES (?, '一社区', ?, '330100'), (?, '二社区', ?, '330100')",
        [C1, S1, C2, S2],
    )
    for grid, (community, street) in CODES.items():
        con.execute(
            "INSERT INTO grids (grid_code, name, community_code, street_code, district_code) VALUES (?, ?, ?, ?, '330100')",
            [grid, grid, community, street],
        )
    for iid, grid, status, reported, due, resolved, score, archived in INCIDENTS:
        community, street = CODES[grid]
        con.execute(
            "INSERT INTO incidents (incident_id, category, status, reported_at, due_at, resolved_at, satisfaction,"
            " grid_code, community_code, street_code, district_code, archived)"
            " VALUES (?, '噪声扰民', ?, ?, ?, ?, ?, ?, ?, ?, '330100', ?)",
            [iid, status, _t(reported), _t(due), _t(resolved), score, grid, community, street, archived],
        )
    for iid, kind, passed, score, when in CHECKS:
        con.execute(
            "INSERT INTO verifications SELECT incident_id, ?, ?, ?, ?, 'checker', NULL, grid_code, community_code,"
            " street_code, district_code FROM incidents WHERE incident_id = ?",
            [_t(when), kind, passed, score, iid],
        )
    sync_derived_tables(con)  # resolutions and the daily roll-up from the rows written here
    for wid, iid, department, blown, report_due, reported, rating in WHISTLES:
        con.execute(
            "INSERT INTO whistles (whistle_id, incident_id, level, department, reason, blown_at, report_due_at,"
            " resolve_due_at, reported_at, rating, grid_code, community_code, street_code, district_code)"
            " SELECT ?, incident_id, 'street', ?, '久拖未决', ?, ?, ?, ?, ?, grid_code, community_code, street_code,"
            " district_code FROM incidents WHERE incident_id = ?",
            [wid, department, _t(blown), _t(report_due), _t(report_due), _t(reported), rating, iid],
        )
    con.execute(
        "INSERT INTO deliberations VALUES ('Y1', '停车', '2026-11-03', '{}', '划线', now(), 'x', ?, ?, '330100'),"
        " ('Y2', '噪声', '2026-10-20', '{}', '公约', now(), 'x', ?, ?, '330100')",
        [C1, S1, C2, S2],
    )
    con.execute(
        "INSERT INTO deliberation_tasks VALUES"
        " ('T1', 'Y1', '划线', NULL, NULL, '2026-11-05', 'x', ?, ?, '330100'),"  # done in P
        " ('T2', 'Y1', '公示', NULL, NULL, NULL, NULL, ?, ?, '330100'),"  # open
        " ('T3', 'Y1', '回访', NULL, NULL, '2026-11-09', 'x', ?, ?, '330100'),"  # done after P
        " ('T4', 'Y2', '公约', NULL, NULL, '2026-10-21', 'x', ?, ?, '330100')",  # meeting before P
        [C1, S1, C1, S1, C1, S1, C2, S2],
    )
    yield con
    con.close()


def test_the_city_figures_equal_the_hand_count(con):
    row = indicators(con, SINCE, UNTIL).iloc[0].to_dict()
    # due A B C D G; closed A B D G (G after P: 结案 counts as of now); on time A D
    assert (row["due"], row["closed"], row["closed_on_time"]) == (5, 4, 2)
    assert row["closure_rate"] == pytest.approx(4 / 5) and row["on_time_closure_rate"] == pytest.approx(2 / 5)
    # resolved in P: B (48 h) D (34 h) E (24 h); evaluated D 3, E 4; 返工 B 核查 + E 回访
    assert row["resolved"] == 3 and row["avg_handling_h"] == pytest.approx((48 + 34 + 24) / 3)
    assert row["satisfaction"] == pytest.approx(3.5)
    assert row["reworked"] == 2 and row["rework_rate"] == pytest.approx(2 / 3)
    assert row["community_evaluation"] == pytest.approx((2 + 5) / 2)
    # whistles W1 (1 h, on time) W2 (4 h, late) W3 (never reported, deadline passed)
    assert row["whistles"] == 3 and row["whistle_response_h"] == pytest.approx(2.5)
    assert row["whistle_on_time_rate"] == pytest.approx(1 / 3)
    # Y1's tasks T1 (done) T2 (open) T3 (done after P)
    assert (row["deliberation_tasks"], row["tasks_done"]) == (3, 1)
    assert row["deliberation_done_rate"] == pytest.approx(1 / 3)


def test_per_street_figures_equal_the_hand_count(con):
    table = indicators(con, SINCE, UNTIL, by="street").set_index("unit_code")
    one, two = table.loc[S1], table.loc[S2]
    assert (one["due"], one["closed"], one["closed_on_time"]) == (4, 3, 1)  # A B C G; A B G; A
    assert one["closure_rate"] == pytest.approx(0.75) and one["on_time_closure_rate"] == pytest.approx(0.25)
    assert one["resolved"] == 1 and one["avg_handling_h"] == pytest.approx(48) and one["rework_rate"] == 1.0
    assert one["whistle_response_h"] == pytest.approx(2.5) and one["deliberation_done_rate"] == pytest.approx(1 / 3)
    assert (two["due"], two["closed"], two["closed_on_time"]) == (1, 1, 1)
    assert two["avg_handling_h"] == pytest.approx(29) and two["satisfaction"] == pytest.approx(3.5)
    assert two["rework_rate"] == pytest.approx(0.5) and two["community_evaluation"] == 5
    assert two["whistle_on_time_rate"] == 0 and two["deliberation_tasks"] == 0


def test_a_grid_and_a_unit_filter(con):
    assert unit_level(con, G1) == "grid" and unit_level(con, S2) == "street" and unit_level(con, "city") == "city"
    row = indicators(con, SINCE, UNTIL, "grid", G1).iloc[0]
    assert (row["due"], row["closed"]) == (4, 3) and row["deliberation_tasks"] == 0
    by_grid = indicators(con, SINCE, UNTIL, "community", C2, by="grid")
    assert by_grid["unit_code"].tolist() == [G2] and by_grid.iloc[0]["due"] == 1
    with pytest.raises(UnknownUnitError, match="is not a district, street, community or grid code"):
        unit_level(con, "999")


def test_an_empty_period_has_no_rates(con):
    assert indicators(con, dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 2)).empty


def test_departments_rank_by_rating_then_response(con):
    ranking = department_ranking(con, SINCE, UNTIL)
    assert ranking["department"].tolist() == ["城管执法", "交警大队"]
    first = ranking.iloc[0]
    assert (first["whistles"], first["reported"], first["rating"], first["response_h"]) == (2, 1, 4.0, 1.0)
    assert ranking.iloc[1]["on_time_rate"] == 0.0 and ranking["rank"].tolist() == [1, 2]


def test_weekly_buckets_split_the_period(con):
    weeks = indicators(con, SINCE, UNTIL, by="week").set_index("unit_code")
    # 2026-11-01 is a Sunday: A (due 11-01) falls in the week of 10-26, the rest in the week of 11-02
    assert {str(k)[:10]: v for k, v in weeks["due"].items()} == {"2026-10-26": 1, "2026-11-02": 4}
    assert weeks["due"].sum() == 5 and weeks["closed"].sum() == 4
