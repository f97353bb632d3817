"""The governance family (三事分流, 吹哨报到, 核查, 反向评价, 议事协商): its tables and every read and write of them.

``GOVERNANCE_SCHEMA`` is its tables; the schema module includes it and migration 6 created it in
older files.  Every row carries the hierarchy codes of its incident or community, so indicators
group without joins back to the units.  Each write that concerns an incident also appends a row to
``incident_events`` with the incident's status unchanged (from = to), so 过程追踪 shows 吹哨, 报到,
results and ratings beside the status changes.  Writes expect to run inside ``Database.write()``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipelines.store import loop_rollup
from pipelines.store.meta import bump_data_version

GOVERNANCE_SCHEMA = """
-- 吹哨报到: one row per whistled department; report/resolve deadlines are that department's response clock.
CREATE TABLE IF NOT EXISTS whistles (
    whistle_id VARCHAR PRIMARY KEY, incident_id VARCHAR, level VARCHAR, department VARCHAR, reason VARCHAR,
    blown_at TIMESTAMP, blown_by VARCHAR, report_due_at TIMESTAMP, resolve_due_at TIMESTAMP,
    reported_at TIMESTAMP, report_note VARCHAR, resolved_at TIMESTAMP, result VARCHAR,
    rating TINYINT, rating_comment VARCHAR, rated_at TIMESTAMP, rated_by VARCHAR,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Checks of closed work: kind 核查 (grid worker/supervisor; score is the community's evaluation 1-5) or
-- 回访 (a reopening after the visit); passed = false is a 返工, counted by the 返工率.
CREATE TABLE IF NOT EXISTS verifications (
    incident_id VARCHAR, verified_at TIMESTAMP, kind VARCHAR, passed BOOLEAN, score TINYINT, actor VARCHAR,
    note VARCHAR,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- 议事协商 of a community (共事): participants is JSON {role: count}; its incidents and follow-up tasks.
CREATE TABLE IF NOT EXISTS deliberations (
    deliberation_id VARCHAR PRIMARY KEY, topic VARCHAR, held_on DATE, participants VARCHAR, decision VARCHAR,
    created_at TIMESTAMP, actor VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
CREATE TABLE IF NOT EXISTS deliberation_incidents (deliberation_id VARCHAR, incident_id VARCHAR);
CREATE TABLE IF NOT EXISTS deliberation_tasks (
    task_id VARCHAR PRIMARY KEY, deliberation_id VARCHAR, task VARCHAR, owner VARCHAR, due_on DATE,
    done_at TIMESTAMP, done_by VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
"""

GOVERNANCE_TABLES = ("whistles", "verifications", "deliberations", "deliberation_incidents", "deliberation_tasks")
_CODES = "grid_code, community_code, street_code, district_code"


def _event(con, incident_id: str, when, actor: str, note: str) -> None:
    """A history row that keeps the status (吹哨, 报到, 结果, 评价 are steps of the process, not of the state)."""
    con.execute(
        "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
        " SELECT incident_id, status, status, ?, ?, ? FROM incidents WHERE incident_id = ?",
        [when, actor, note, incident_id],
    )


# --- 吹哨报到 -----------------------------------------------------------------------------------
# Every whistle step adds an event to its incident's history and moves only the data version: the dashboard's
# shared results recompute the units holding that incident, and the caches kept per reference version (party,
# grid workers, shapes) stay (the simulator blows and answers whistles every few ticks).


def blow_whistle(
    con,
    incident_id: str,
    level: str,
    departments: list[str],
    reason: str,
    now,
    report_h: float,
    resolve_h: float,
    actor: str,
) -> list[str]:
    """One whistle per department with its response clock; returns the whistle ids."""
    first = con.execute("SELECT count(*) FROM whistles WHERE incident_id = ?", [incident_id]).fetchone()[0]
    ids = [f"{incident_id}-W{first + k + 1}" for k in range(len(departments))]
    con.executemany(
        f"INSERT INTO whistles (whistle_id, incident_id, level, department, reason, blown_at, blown_by,"
        f" report_due_at, resolve_due_at, {_CODES})"
        f" SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, {_CODES} FROM incidents WHERE incident_id = ?",
        [
            [
                wid,
                incident_id,
                level,
                dep,
                reason,
                now,
                actor,
                now + dt.timedelta(hours=report_h),
                now + dt.timedelta(hours=resolve_h),
                incident_id,
            ]
            for wid, dep in zip(ids, departments, strict=True)
        ],
    )
    label = "街道" if level == "street" else "社区"
    _event(con, incident_id, now, actor, f"{label}吹哨：{'、'.join(departments)}（{reason}）")
    bump_data_version(con, reference=False)
    return ids


def whistle(con, whistle_id: str) -> dict | None:
    frame = con.execute("SELECT * FROM whistles WHERE whistle_id = ?", [whistle_id]).df()
    return None if frame.empty else plain_records(frame)[0]


def incident_whistles(con, incident_id: str) -> list[dict]:
    frame = con.execute("SELECT * FROM whistles WHERE incident_id = ? ORDER BY whistle_id", [incident_id]).df()
    return plain_records(frame)


def plain_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: times as ISO text, missing values (NaN, NaT, NA) as None, numpy as Python."""
    return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _json_value(value):
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).isoformat()
    return value.item() if hasattr(value, "item") else value


def report_whistle(con, whistle_id: str, note: str | None, now, actor: str) -> None:
    """The department's 报到 (first response)."""
    con.execute("UPDATE whistles SET reported_at = ?, report_note = ? WHERE whistle_id = ?", [now, note, whistle_id])
    row = whistle(con, whistle_id)
    _event(con, row["incident_id"], now, actor, f"{row['department']}报到" + (f"：{note}" if note else ""))
    bump_data_version(con, reference=False)


def resolve_whistle(con, whistle_id: str, result: str, now, actor: str) -> None:
    """The department's result (办理结果)."""
    con.execute("UPDATE whistles SET resolved_at = ?, result = ? WHERE whistle_id = ?", [now, result, whistle_id])
    row = whistle(con, whistle_id)
    _event(con, row["incident_id"], now, actor, f"{row['department']}反馈结果：{result}")
    bump_data_version(con, reference=False)


def rate_whistle(con, whistle_id: str, score: int, comment: str | None, now, actor: str) -> None:
    """反向评价: the street or community rates the department's handling of this whistle."""
    con.execute(
        "UPDATE whistles SET rating = ?, rating_comment = ?, rated_at = ?, rated_by = ? WHERE whistle_id = ?",
        [score, comment, now, actor, whistle_id],
    )
    row = whistle(con, whistle_id)
    _event(
        con,
        row["incident_id"],
        now,
        actor,
        f"反向评价{row['department']}：{score}分" + (f"，{comment}" if comment else ""),
    )
    bump_data_version(con, reference=False)


_WAITING_COLUMNS = (
    "whistle_id, incident_id, department, level, blown_at, report_due_at, resolve_due_at, reported_at, resolved_at,"
    f" {_CODES}"
)
_OVERDUE_COLUMNS = [
    "whistle_id",
    "incident_id",
    "department",
    "level",
    "blown_at",
    "report_due_at",
    "resolve_due_at",
    "late_for",
    "late_since",
    "grid_code",
    "community_code",
    "street_code",
]


def waiting_whistles(con, incident_ids: list[str] | None = None) -> pd.DataFrame:
    """Whistles still waiting for a department's report or result: the only ones that can be overdue, a few
    thousand of a city's hundred thousand, so a ticker refreshing with the clock filters them in memory
    (:func:`overdue_among`) instead of scanning the table each time; only those of ``incident_ids`` if given
    (every whistle step adds an event to its incident: the ones a write may have moved)."""
    of = "" if incident_ids is None else " AND incident_id = ANY($ids::VARCHAR[])"
    return con.execute(
        f"SELECT {_WAITING_COLUMNS} FROM whistles WHERE (reported_at IS NULL OR resolved_at IS NULL){of}",
        {} if incident_ids is None else {"ids": incident_ids},
    ).df()


def waiting_columns(frame: pd.DataFrame, kept: Mapping[str, np.ndarray] | None = None, ids=()) -> dict:
    """:func:`waiting_whistles`' frame as numpy columns (what :func:`overdue_among` cuts at every refresh); with
    ``kept``: those columns without the whistles of the incidents ``ids``, and ``frame`` (their whistles now)."""
    fresh = {name: np.asarray(frame[name]) for name in frame.columns}
    if kept is None:
        return fresh
    moved = set(ids)
    keep = np.fromiter((i not in moved for i in kept["incident_id"]), bool, len(kept["incident_id"]))
    return {name: np.concatenate([kept[name][keep], fresh[name]]) for name in kept}


def overdue_among(
    waiting: Mapping[str, np.ndarray], now, limit: int = 20, column: str | None = None, code: str | None = None
) -> pd.DataFrame:
    """:func:`overdue_whistles` of the waiting whistles already fetched (:func:`waiting_columns`: cut at every
    refresh, they are kept as numpy columns): the same rows in the same order (the few late rows are picked with
    numpy, then sorted in Python: no frame is sorted or indexed)."""
    col = waiting.__getitem__
    now = pd.Timestamp(now).as_unit("us").to_datetime64()
    report_due, resolve_due = col("report_due_at"), col("resolve_due_at")
    unreported = np.isnat(col("reported_at")) & (report_due < now)  # NaT compares False
    unresolved = np.isnat(col("resolved_at")) & (resolve_due < now)
    late = unreported | unresolved
    if column in _CODES.split(", "):
        late &= col(column) == code
    rows = np.flatnonzero(late)
    since = np.where(unreported, report_due, resolve_due)[rows]
    if len(rows) > limit:
        keep = since <= np.partition(since, limit - 1)[limit - 1]
        rows, since = rows[keep], since[keep]
    ids = col("whistle_id")
    order = sorted(range(len(rows)), key=lambda i: (since[i], ids[rows[i]]))[:limit]
    rows = rows[order]
    picked = {name: col(name)[rows] for name in _OVERDUE_COLUMNS if name not in ("late_for", "late_since")}
    picked |= {"late_for": np.where(unreported[rows], "report", "resolve"), "late_since": since[order]}
    return pd.DataFrame({name: picked[name] for name in _OVERDUE_COLUMNS})


def overdue_whistles(con, now, limit: int = 20, column: str | None = None, code: str | None = None) -> pd.DataFrame:
    """Whistles whose department has not reported, or not resolved, by its deadline, most overdue first
    (for the ticker); within one unit when ``column`` (a hierarchy code column) and ``code`` are given."""
    unit = f" AND {column} = $code" if column in _CODES.split(", ") else ""
    params = {"now": now, "limit": limit} | ({"code": code} if unit else {})
    return con.execute(
        f"""
        SELECT whistle_id, incident_id, department, level, blown_at, report_due_at, resolve_due_at,
               CASE WHEN reported_at IS NULL AND report_due_at < $now THEN 'report' ELSE 'resolve' END AS late_for,
               CASE WHEN reported_at IS NULL AND report_due_at < $now THEN report_due_at ELSE resolve_due_at END
                   AS late_since,
               grid_code, community_code, street_code
        FROM whistles
        WHERE ((reported_at IS NULL AND report_due_at < $now) OR (resolved_at IS NULL AND resolve_due_at < $now)){unit}
        ORDER BY late_since, whistle_id LIMIT $limit
        """,
        params,
    ).df()


# --- 核查 ----------------------------------------------------------------------------------------


def record_verification(
    con, incident_id: str, kind: str, passed: bool, score: int | None, note: str | None, now, actor: str
) -> None:
    """One check of closed work: ``kind`` 核查 (verify/rework) or 回访 (reopen after the visit)."""
    con.execute(
        f"INSERT INTO verifications (incident_id, verified_at, kind, passed, score, actor, note, {_CODES})"
        f" SELECT incident_id, ?, ?, ?, ?, ?, ?, {_CODES} FROM incidents WHERE incident_id = ?",
        [now, kind, passed, score, actor, note, incident_id],
    )
    loop_rollup.add_check(con, incident_id, now, kind, passed, score)


# --- 议事协商 ------------------------------------------------------------------------------------


def community_codes(con, community_code: str) -> tuple[str, str] | None:
    """(street code, district code) of a community, None when unknown."""
    return con.execute(
        "SELECT street_code, district_code FROM communities WHERE community_code = ?", [community_code]
    ).fetchone()


def add_deliberation(con, record: dict, incident_ids: list[str], tasks: list[dict], now, actor: str) -> str:
    """Store a 议事 record, link its incidents (history rows on each), add its follow-up tasks; returns its id."""
    number = con.execute("SELECT count(*) FROM deliberations").fetchone()[0] + 1
    deliberation_id = f"YS{now:%Y%m%d}{number:06d}"
    street, district = community_codes(con, record["community_code"])
    con.execute(
        "INSERT INTO deliberations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            deliberation_id,
            record["topic"],
            record["held_on"],
            json.dumps(record["participants"], ensure_ascii=False),
            record.get("decision"),
            now,
            actor,
            record["community_code"],
            street,
            district,
        ],
    )
    con.executemany("INSERT INTO deliberation_incidents VALUES (?, ?)", [[deliberation_id, i] for i in incident_ids])
    con.executemany(
        "INSERT INTO deliberation_tasks VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?)",
        [
            [
                f"{deliberation_id}-T{k + 1}",
                deliberation_id,
                t["task"],
                t.get("owner"),
                t.get("due_on"),
                record["community_code"],
                street,
                district,
            ]
            for k, t in enumerate(tasks)
        ],
    )
    for incident_id in incident_ids:
        _event(con, incident_id, now, actor, f"议事协商 {deliberation_id}：{record['topic']}")
    bump_data_version(con)
    return deliberation_id


def deliberation(con, deliberation_id: str) -> dict | None:
    frame = con.execute("SELECT * FROM deliberations WHERE deliberation_id = ?", [deliberation_id]).df()
    if frame.empty:
        return None
    record = plain_records(frame)[0]
    record["held_on"] = str(record["held_on"])[:10]
    record["participants"] = json.loads(record["participants"] or "{}")
    record["incident_ids"] = [
        r[0]
        for r in con.execute(
            "SELECT incident_id FROM deliberation_incidents WHERE deliberation_id = ? ORDER BY 1", [deliberation_id]
        ).fetchall()
    ]
    tasks = con.execute(
        "SELECT task_id, task, owner, due_on::VARCHAR AS due_on, done_at, done_by FROM deliberation_tasks"
        " WHERE deliberation_id = ? ORDER BY task_id",
        [deliberation_id],
    ).df()
    record["tasks"] = plain_records(tasks)
    return record


def task_done(con, deliberation_id: str, task_id: str, now, actor: str) -> bool | None:
    """Mark a follow-up task done; None when there is no such task, False when it was done already."""
    row = con.execute(
        "SELECT done_at FROM deliberation_tasks WHERE deliberation_id = ? AND task_id = ?", [deliberation_id, task_id]
    ).fetchone()
    if row is None:
        return None
    if row[0] is not None:
        return False
    con.execute("UPDATE deliberation_tasks SET done_at = ?, done_by = ? WHERE task_id = ?", [now, actor, task_id])
    bump_data_version(con)
    return True


# --- what the live simulator picks --------------------------------------------------------------


def recently_resolved(con, now, seed: int, n: int) -> list[str]:
    """Up to ``n`` incidents resolved in the last day and not yet checked (resolutions is in resolved_at order)."""
    rows = con.execute(
        "SELECT incident_id FROM resolutions WHERE resolved_at >= $now - INTERVAL 1 DAY AND status = 'resolved'"
        " ORDER BY hash(incident_id, $seed) LIMIT $n",
        {"now": now, "seed": seed, "n": n},
    ).fetchall()
    return [r[0] for r in rows]


def overdue_unwhistled(con, now, seed: int, n: int) -> pd.DataFrame:
    """Up to ``n`` overdue open 公事 with no whistle yet, with their category's department."""
    return con.execute(
        """
        SELECT o.incident_id, c.department FROM open_incidents o JOIN categories c USING (category)
        WHERE o.due_at < $now AND c.affair_class = '公事'
          AND o.incident_id NOT IN (SELECT incident_id FROM whistles)
        ORDER BY hash(o.incident_id, $seed) LIMIT $n
        """,
        {"now": now, "seed": seed, "n": n},
    ).df()


def open_whistles(con, seed: int, n: int) -> pd.DataFrame:
    """Up to ``n`` whistles waiting for a report, a result or a rating, with what each waits for."""
    return con.execute(
        """
        SELECT w.whistle_id, CASE WHEN w.reported_at IS NULL THEN 'report'
                                  WHEN w.resolved_at IS NULL THEN 'result' ELSE 'rate' END AS step,
               epoch(coalesce(w.reported_at, now()::TIMESTAMP) - w.blown_at) / 3600.0 AS waited_h
        FROM whistles w WHERE w.rating IS NULL
        ORDER BY hash(w.whistle_id, $seed) LIMIT $n
        """,
        {"seed": seed, "n": n},
    ).df()
