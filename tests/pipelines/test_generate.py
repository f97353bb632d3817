import datetime as dt

import duckdb
import pytest

from pipelines.domain import FACILITY_TYPES
from pipelines.generate import LOOP_STAGES, generate
from pipelines.vocabulary import STATUSES
from tests.conftest import DEMO_END


@pytest.fixture(scope="module")
def con(demo_db):
    connection = duckdb.connect(str(demo_db), read_only=True)
    yield connection
    connection.close()


def one(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()


def test_demo_city_has_the_promised_size(con):
    assert one(con, "SELECT name FROM districts") == ("示例区",)
    assert one(con, "SELECT count(*) FROM streets")[0] == 5
    assert 20 <= one(con, "SELECT count(*) FROM communities")[0] <= 26
    assert one(con, "SELECT count(*) FROM grids")[0] == 300
    assert 9_000 <= one(con, "SELECT count(*) FROM buildings")[0] <= 11_000
    assert one(con, "SELECT count(*) FROM incidents")[0] == 50_000
    assert 130 <= one(con, "SELECT count(*) FROM facilities")[0] <= 170
    assert {r[0] for r in con.execute("SELECT DISTINCT type FROM facilities").fetchall()} == set(FACILITY_TYPES)
    roles = {r[0] for r in con.execute("SELECT DISTINCT role FROM grid_workers").fetchall()}
    assert roles == {"网格长", "专职网格员", "兼职网格员"}


def test_codes_follow_the_division_hierarchy(con):
    bad = one(
        con,
        """
        SELECT count(*) FROM grids g JOIN communities c USING (community_code)
        WHERE length(g.grid_code) <> 15 OR NOT starts_with(g.grid_code, c.community_code)
           OR NOT starts_with(c.community_code, c.street_code) OR NOT starts_with(c.street_code, c.district_code)
        """,
    )[0]
    assert bad == 0
    assert one(con, "SELECT count(*) FROM grids WHERE population IS NULL OR population <= 0")[0] == 0
    assert one(con, "SELECT sum(population) FROM districts")[0] == one(con, "SELECT sum(residents) FROM buildings")[0]


def test_every_point_is_in_its_grid_and_carries_a_fine_cell(con):
    for table in ("buildings", "facilities", "incidents"):
        missing = one(con, f"SELECT count(*) FROM {table} WHERE grid_code IS NULL OR h3_cell IS NULL")[0]
        assert missing == 0, table
        assert one(con, f"SELECT DISTINCT h3_resolution(h3_cell) FROM {table}") == (12,)
    # the H3 parent macro agrees with the stored cover resolution
    assert (
        one(con, "SELECT count(*) FROM incidents i SEMI JOIN grid_cells c ON h3_parent(i.h3_cell, 11) = c.h3_cell")[0]
        == 50_000
    )


def test_incidents_have_full_consistent_lifecycles(con):
    statuses = dict(con.execute("SELECT status, count(*) FROM incidents GROUP BY ALL").fetchall())
    assert set(statuses) <= set(STATUSES) and statuses["evaluated"] > 30_000
    assert sum(statuses.get(s, 0) for s in ("reported", "accepted", "dispatched", "in_progress")) > 100
    overdue = one(
        con,
        "SELECT count(*) FROM incidents WHERE status IN ('reported','accepted','dispatched',"
        "'in_progress') AND due_at < ?",
        [DEMO_END],
    )[0]
    assert overdue > 20
    # history ends in the current status, in order, with time moving forward
    inconsistent = one(
        con,
        """
        WITH last AS (SELECT incident_id, arg_max(to_status, occurred_at) AS status, count(*) AS n
                      FROM incident_events WHERE from_status IS DISTINCT FROM to_status GROUP BY ALL)
        SELECT count(*) FROM incidents i JOIN last USING (incident_id)
        WHERE i.status <> last.status OR last.n <> list_position(?, i.status)
        """,
        [list(LOOP_STAGES)],
    )[0]
    assert inconsistent == 0
    assert one(con, "SELECT max(reported_at) <= ? FROM incidents", [DEMO_END])[0]
    assert one(con, "SELECT count(*) FROM incidents WHERE status = 'evaluated' AND satisfaction IS NULL")[0] == 0
    assert one(con, "SELECT count(*) FROM incidents WHERE status <> 'evaluated' AND satisfaction IS NOT NULL")[0] == 0


def test_rhythms_and_hot_spots(con):
    by_hour = dict(con.execute("SELECT hour(reported_at), count(*) FROM incidents GROUP BY ALL").fetchall())
    assert by_hour[10] > 3 * by_hour[4]
    noise_night = one(
        con,
        "SELECT avg(CASE WHEN hour(reported_at) >= 20 OR hour(reported_at) < 2 THEN 1 ELSE 0 END)"
        " FROM incidents WHERE category = '噪声扰民'",
    )[0]
    assert noise_night > 0.3
    per_grid = [r[0] for r in con.execute("SELECT count(*) FROM incidents GROUP BY grid_code ORDER BY 1").fetchall()]
    assert per_grid[-1] > 4 * per_grid[len(per_grid) // 2]  # hot spots stand out


def test_some_communities_lack_services(con):
    without_center = one(
        con,
        """SELECT count(*) FROM communities c WHERE NOT EXISTS (
        SELECT 1 FROM facilities f WHERE f.community_code = c.community_code AND f.type = '党群服务中心')""",
    )[0]
    assert without_center >= 3


def test_generation_is_deterministic(tmp_path):
    end = dt.datetime(2026, 1, 5, 12, 0)
    sums = []
    for name in ("a", "b"):
        db = tmp_path / f"{name}.duckdb"
        generate(db, "demo", seed=3, end=end, incidents=3_000, progress=False)
        con = duckdb.connect(str(db), read_only=True)
        sums.append(
            con.execute("""SELECT
            (SELECT sum(hash(incident_id, category, reported_at, lon, lat, status)) FROM incidents),
            (SELECT sum(hash(building_id, residents, geometry)) FROM buildings),
            (SELECT sum(hash(grid_code, geometry)) FROM grids)""").fetchone()
        )
        con.close()
    assert sums[0] == sums[1]


def test_the_governance_history_feeds_every_indicator(con):
    from pipelines.store.loop_indicators import department_ranking, indicators

    counts = dict(
        con.execute(
            "SELECT 'v', count(*) FROM verifications UNION ALL SELECT 'w', count(*) FROM whistles"
            " UNION ALL SELECT 'd', count(*) FROM deliberations UNION ALL SELECT 'l', count(*) FROM deliberation_incidents"
        ).fetchall()
    )
    assert min(counts.values()) > 10, counts
    row = indicators(con, DEMO_END - dt.timedelta(days=28), DEMO_END).iloc[0]
    assert row.drop("unit_code").notna().all(), row  # the demo's cockpit charts are all non-empty
    assert 0 < row["rework_rate"] < 0.1 and 0.5 < row["closure_rate"] <= 1
    ranking = department_ranking(con, DEMO_END - dt.timedelta(days=28), DEMO_END)
    assert len(ranking) >= 3 and ranking["rating"].notna().all()
    # a note row keeps the status the incident had at that moment
    lies = one(
        con,
        "SELECT count(*) FROM incident_events WHERE from_status = to_status AND note LIKE '街道吹哨%'"
        " AND to_status NOT IN ('reported', 'accepted', 'dispatched', 'in_progress')",
    )[0]
    assert lies == 0
