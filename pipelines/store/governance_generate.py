"""Synthetic governance history for the generated city: 核查, 吹哨报到 with 反向评价, 议事协商 with tasks.

Written in SQL over the generated incidents (deterministic in ``seed`` through ``hash``), so the
``city`` scale stays vectorised.  Checks, whistles and deliberations also appear in
``incident_events`` as history rows that keep the status (from = to), as the API writes them.

- 核查: a fifth of the resolved incidents are checked soon after 办结; one check in twelve fails
  (返工, the worker redoes it before the recorded resolution); the community scores each check.
- 吹哨: about one late 公事 in six is whistled by its street to its department and one more;
  departments differ in how fast they report (报到) and are rated back (反向评价) accordingly.
- 议事: communities with 共事 hold a meeting every few weeks on their commonest 共事 category, with
  two or three follow-up tasks, most of them done within a fortnight.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.domain import CATEGORIES
from pipelines.store import loop_rollup
from pipelines.store.governance import GOVERNANCE_TABLES
from pipelines.vocabulary import sql_in

SECOND_DEPARTMENT = "街道综合执法队"
"""The department whistled with the category's own one (a 吹哨 calls several departments)."""


def _rand(seed: int, salt: int, column: str = "incident_id") -> str:
    """A deterministic uniform number in [0, 1) per row."""
    return f"((hash({column}, {seed}, {salt}) % 1000000)::DOUBLE / 1000000.0)"


def generate_governance(con: duckdb.DuckDBPyConnection, seed: int, end: dt.datetime) -> dict[str, int]:
    """Fill the governance tables from the incidents already generated (replacing what they held); returns row counts."""
    for table in GOVERNANCE_TABLES:
        con.execute(f"DELETE FROM {table}")
    _checks(con, seed)
    _whistles(con, seed, end)
    _deliberations(con, seed, end)
    loop_rollup.rebuild(con)  # the checks changed wholesale
    return {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("verifications", "whistles", "deliberations")
    }


def _checks(con, seed: int) -> None:
    con.execute(
        f"""
        INSERT INTO verifications
        SELECT incident_id,
               resolved_at - INTERVAL 2 HOUR * (0.3 + {_rand(seed, 2)}) AS verified_at, '核查',
               false, 1 + floor({_rand(seed, 3)} * 3)::TINYINT, '网格员复核', '核查不通过，返工',
               grid_code, community_code, street_code, district_code
        FROM incidents WHERE resolved_at IS NOT NULL AND {_rand(seed, 1)} < 0.2 AND {_rand(seed, 4)} < 1.0 / 12
        UNION ALL
        SELECT incident_id, resolved_at + INTERVAL 3 HOUR * (0.2 + {_rand(seed, 2)}), '核查', true,
               CASE WHEN {_rand(seed, 3)} < 0.6 THEN 5 WHEN {_rand(seed, 3)} < 0.9 THEN 4 ELSE 3 END::TINYINT,
               '网格员复核', '核查通过', grid_code, community_code, street_code, district_code
        FROM incidents WHERE resolved_at IS NOT NULL AND {_rand(seed, 1)} < 0.2
        """
    )
    _note_events(
        con,
        "SELECT incident_id, verified_at AS t, actor,"
        " note || CASE WHEN score IS NULL THEN '' ELSE '，社区评价' || score || '分' END AS note FROM verifications",
    )


def _whistles(con, seed: int, end: dt.datetime) -> None:
    departments = {c: d for c, (klass, _, d) in CATEGORIES.items() if klass == "公事"}
    con.execute("CREATE OR REPLACE TEMP TABLE _departments (category VARCHAR, department VARCHAR)")
    con.executemany("INSERT INTO _departments VALUES (?, ?)", list(departments.items()))
    speed = f"(1.0 + 3.0 * {_rand(seed, 13, 'department')})"  # each department's habitual lateness
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _whistled AS
        SELECT i.incident_id, i.reported_at + (i.due_at - i.reported_at) * 0.6 AS blown_at, d.department,
               i.resolved_at, i.grid_code, i.community_code, i.street_code, i.district_code
        FROM incidents i JOIN _departments d USING (category)
        WHERE coalesce(i.resolved_at, $end) > i.due_at AND {_rand(seed, 11, "i.incident_id")} < 1.0 / 6
          AND i.reported_at + (i.due_at - i.reported_at) * 0.6 < $end
        """,
        {"end": end},
    )
    con.execute(
        f"""
        INSERT INTO whistles
        WITH called AS (
            SELECT incident_id, blown_at, department, 1 AS k, resolved_at, grid_code, community_code, street_code,
                   district_code FROM _whistled
            UNION ALL
            SELECT incident_id, blown_at, '{SECOND_DEPARTMENT}', 2, resolved_at, grid_code, community_code,
                   street_code, district_code FROM _whistled WHERE {_rand(seed, 12)} < 0.5),
        timed AS (
            SELECT *, blown_at + INTERVAL 1 HOUR * ({speed} * -ln(1 - 0.98 * {_rand(seed, 14)})) AS answer
            FROM called),
        timed_closed AS (
            SELECT *, resolved_at IS NOT NULL AND answer <= $end AND greatest(resolved_at, answer) + INTERVAL 1 HOUR <= $end
                AS closed
            FROM timed)
        SELECT incident_id || '-W' || k, incident_id, 'street', department, '超期未办结，街道吹哨',
               blown_at, '街道综合指挥室', blown_at + INTERVAL 2 HOUR, blown_at + INTERVAL 24 HOUR,
               CASE WHEN answer <= $end THEN answer END, CASE WHEN answer <= $end THEN '已到场' END,
               CASE WHEN closed THEN greatest(resolved_at, answer) END, CASE WHEN closed THEN '已处置' END,
               CASE WHEN closed
                    THEN greatest(1, least(5, round(6 - epoch(answer - blown_at) / 3600.0 - {_rand(seed, 15)})))
               END::TINYINT,
               NULL, CASE WHEN closed THEN greatest(resolved_at, answer) + INTERVAL 1 HOUR END,
               CASE WHEN closed THEN '街道综合指挥室' END,
               grid_code, community_code, street_code, district_code
        FROM timed_closed
        """,
        {"end": end},
    )
    _note_events(
        con,
        """
        SELECT incident_id, blown_at AS t, blown_by AS actor, '街道吹哨：' || department AS note FROM whistles
        UNION ALL SELECT incident_id, reported_at, department, department || '报到' FROM whistles
            WHERE reported_at IS NOT NULL
        UNION ALL SELECT incident_id, rated_at, rated_by, '反向评价' || department || '：' || rating || '分'
            FROM whistles WHERE rating IS NOT NULL
        """,
    )
    con.execute("DROP TABLE _whistled")
    con.execute("DROP TABLE _departments")


def _deliberations(con, seed: int, end: dt.datetime) -> None:
    shared = sql_in("category", tuple(c for c, (klass, _, _) in CATEGORIES.items() if klass == "共事"))
    meeting = _rand(seed, 21, "community_code, k")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _meetings AS
        WITH span AS (SELECT min(reported_at)::DATE AS first FROM incidents),
        topics AS (
            SELECT community_code, street_code, district_code, mode(category) AS category
            FROM incidents WHERE {shared} GROUP BY ALL),
        weeks AS (SELECT unnest(range(0, ($end::DATE - (SELECT first FROM span)) // 21 + 1)) AS k),
        held AS (
            SELECT 'YS' || community_code || '-' || k AS deliberation_id, community_code, street_code, district_code,
                   category, k, (SELECT first FROM span) + (k * 21 + floor({meeting} * 20))::INTEGER AS held_on
            FROM topics, weeks WHERE {_rand(seed, 22, "community_code, k")} < 0.5)
        SELECT * FROM held WHERE held_on < $end::DATE
        """,
        {"end": end},
    )
    people = f"(6 + floor({_rand(seed, 23, 'deliberation_id')} * 20))::INTEGER"
    con.execute(
        f"""
        INSERT INTO deliberations
        SELECT deliberation_id, category || '议事协商', held_on,
               '{{"居民": ' || {people} || ', "物业": 1, "业委会": 2, "党员": ' || ({people} // 3) || ', "社区": 1}}',
               '议定' || category || '整改措施，明确责任人和完成时限', held_on, '社区居委会',
               community_code, street_code, district_code
        FROM _meetings
        """
    )
    done = f"held_on + INTERVAL 1 DAY * (2 + {_rand(seed, 25, 'deliberation_id, t')} * 14)"
    con.execute(
        f"""
        INSERT INTO deliberation_tasks
        SELECT deliberation_id || '-T' || t, deliberation_id, ['落实整改', '公示议事结果', '回访居民'][t], '社区',
               held_on + 14, CASE WHEN {_rand(seed, 26, "deliberation_id, t")} < 0.85 AND {done} < $end THEN {done} END,
               CASE WHEN {_rand(seed, 26, "deliberation_id, t")} < 0.85 AND {done} < $end THEN '社区' END,
               community_code, street_code, district_code
        FROM _meetings, (SELECT unnest([1, 2, 3]) AS t)
        WHERE t < 3 OR {_rand(seed, 24, "deliberation_id")} < 0.5
        """,
        {"end": end},
    )
    con.execute(
        """
        INSERT INTO deliberation_incidents
        SELECT m.deliberation_id, i.incident_id FROM _meetings m JOIN incidents i
            ON i.community_code = m.community_code AND i.category = m.category
           AND i.reported_at >= m.held_on - INTERVAL 3 DAY AND i.reported_at < m.held_on
        """
    )
    _note_events(
        con,
        """
        SELECT l.incident_id, m.held_on::TIMESTAMP + INTERVAL 19 HOUR AS t, '社区居委会' AS actor,
               '议事协商 ' || m.deliberation_id || '：' || m.category || '议事协商' AS note
        FROM deliberation_incidents l JOIN _meetings m USING (deliberation_id)
        """,
    )
    con.execute("DROP TABLE _meetings")


def _note_events(con, notes_sql: str) -> None:
    """History rows for ``notes_sql`` (incident_id, t, actor, note), each keeping the status it had at ``t``.

    A join on the incident and ``arg_max`` of the earlier steps: an ASOF join sorted all 58M city events
    (over 15 minutes); this hashes the notes and probes the events once (10 s for 2M notes).
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _notes AS SELECT row_number() OVER () AS k, * FROM ({notes_sql})")
    con.execute(
        """
        INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
        SELECT incident_id, status, status, t, actor, note FROM (
            SELECT n.k, any_value(n.incident_id) AS incident_id, any_value(n.t) AS t, any_value(n.actor) AS actor,
                   any_value(n.note) AS note, arg_max(e.to_status, e.occurred_at) AS status
            FROM _notes n JOIN incident_events e ON e.incident_id = n.incident_id AND e.occurred_at <= n.t
            GROUP BY n.k)
        ORDER BY t, k
        """
    )
    con.execute("DROP TABLE _notes")
