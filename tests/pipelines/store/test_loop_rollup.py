"""The daily roll-up ``loop_daily`` stays equal to the history: after a rebuild, and after the loop's writes
(a live feed's reports, transitions, 核查 and 返工, an intake's new incidents), the indicators read from it
equal those computed from the base tables alone, and its sums equal a fresh rebuild's."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines import store
from pipelines.incidents.repository import apply_transition, insert_new_incidents, sync_derived_tables
from pipelines.incidents.simulate import Simulator
from pipelines.store.database import Database
from pipelines.store.loop_indicators import INDICATORS, indicators
from pipelines.store.loop_rollup import (
    _INCIDENT_FIELDS,
    COARSE,
    SUMS,
    add_incident_rows,
    add_incidents,
    day_split,
    rebuild,
)
from pipelines.store.schema import RESOLVED_COLUMNS
from tests.conftest import DEMO_END


def _sums(con, table: str = "loop_daily", unit: str = "grid_code") -> pd.DataFrame:
    frame = con.execute(
        f"SELECT day, {unit}, {', '.join(f'sum({c})::BIGINT AS {c}' for c in SUMS)} FROM {table}"
        " GROUP BY ALL HAVING " + " OR ".join(f"sum({c}) <> 0" for c in SUMS)
    ).df()
    order = ["day", *(c.strip() for c in unit.split(","))]
    return frame.sort_values(order, na_position="first").reset_index(drop=True)


def _both(con) -> tuple[pd.DataFrame, ...]:
    """The sums of ``loop_daily`` and of each coarser roll-up, and those of ``loop_daily`` grouped like them."""
    grids = _sums(con)
    coarse = [_sums(con, table, ", ".join(codes)) for table, codes in COARSE]
    grouped = [_sums(con, "loop_daily", ", ".join(codes)) for _, codes in COARSE]
    for own, from_grids in zip(coarse, grouped, strict=True):  # a coarse roll-up holds its grids' sums
        pd.testing.assert_frame_equal(own, from_grids)
    return grids, *coarse


def _same_indicators(con, since, until, level="city", code=None, by=None) -> None:
    rolled = indicators(con, since, until, level, code, by).set_index("unit_code").sort_index()
    history = indicators(con, since, until, level, code, by, rollup=False).set_index("unit_code").sort_index()
    assert rolled.index.tolist() == history.index.tolist()
    counts = [c for c in rolled.columns if c not in INDICATORS]
    assert rolled[counts].equals(history[counts]), (since, until, level, by)
    pd.testing.assert_frame_equal(rolled[list(INDICATORS)], history[list(INDICATORS)], rtol=1e-9)


def _periods(end: dt.datetime):
    yield end - dt.timedelta(days=7), end  # the cockpit's week: part days at both ends
    yield dt.datetime(2026, 11, 9), dt.datetime(2026, 11, 16)  # whole days only
    yield end - dt.timedelta(hours=5), end  # less than a day
    yield end - dt.timedelta(weeks=12), end + dt.timedelta(days=3)


def _check_all(con, end: dt.datetime) -> None:
    street, community = con.execute(
        "SELECT street_code, community_code FROM grids ORDER BY grid_code LIMIT 1"
    ).fetchone()
    for since, until in _periods(end):
        _same_indicators(con, since, until)
        _same_indicators(con, since, until, by="street")
        _same_indicators(con, since, until, by="week")
        _same_indicators(con, since, until, "street", street, by="community")
        _same_indicators(con, since, until, "community", community, by="grid")


@pytest.fixture
def city(demo_db, tmp_path):
    path = tmp_path / "city.duckdb"
    shutil.copy(demo_db, path)
    return path


def test_the_roll_up_equals_the_history_after_the_loop_writes(city):
    con = store.connect(city)
    try:
        _check_all(con, DEMO_END)
        built = _both(con)
        rebuild(con)
        after = _both(con)
        assert all(a.equals(b) for a, b in zip(after, built, strict=True))  # the generator's roll-up is a rebuild's
        # a few open incidents outside every grid and district (a file's unlocated rows): NULL keys
        unlocated = [
            r[0]
            for r in con.execute(
                "SELECT incident_id FROM incidents WHERE status = 'in_progress' ORDER BY incident_id LIMIT 4"
            ).fetchall()
        ]
        con.execute(
            "UPDATE incidents SET grid_code = NULL, community_code = NULL, street_code = NULL, district_code = NULL"
            " WHERE incident_id IN (SELECT unnest(?::VARCHAR[]))",
            [unlocated],
        )
        sync_derived_tables(con)
    finally:
        con.close()

    db = Database(city)
    with db.write() as cur:
        for incident_id in unlocated:  # resolved, then evaluated: NULL keys in the delta
            apply_transition(cur, incident_id, "in_progress", "resolved", DEMO_END, "t", None)
            apply_transition(cur, incident_id, "resolved", "evaluated", DEMO_END, "t", None, satisfaction=4)
    clock = [DEMO_END]
    simulator = Simulator(db, clock=lambda: clock[0], seed=5, per_tick=30, advance_per_tick=150)
    for _ in range(12):
        clock[0] += dt.timedelta(minutes=47)
        simulator.tick()  # bulk reports, transitions (some to 办结), 核查 and 返工 (办结 → 处置中)
    with db.write() as cur:
        row = cur.execute(
            "SELECT * EXCLUDE (h3_cell, archived) FROM incidents WHERE grid_code IS NOT NULL LIMIT 1"
        ).df()
        row["incident_id"] = "INTAKE-1"
        row["status"], row["reported_at"], row["resolved_at"] = "reported", clock[0], pd.NaT
        row["due_at"] = clock[0] + dt.timedelta(hours=3)
        insert_new_incidents(cur, row.astype(object).where(row.notna(), None).to_dict("records"), ["t"], "上报")
    db.close()

    con = store.connect(city)
    try:
        assert con.execute("SELECT count(*) FROM verifications WHERE actor <> '网格员复核'").fetchone()[0] > 0
        assert con.execute("SELECT sum(satisfaction_n) FROM loop_daily WHERE grid_code IS NULL").fetchone()[0] > 0
        _check_all(con, clock[0])
        kept = _both(con)
        rebuild(con)
        after = _both(con)
        assert all(a.equals(b) for a, b in zip(after, kept, strict=True))
    finally:
        con.close()


@pytest.mark.parametrize("spread_minutes", [20_000, 3_000_000])  # 2 weeks; 6 years (numpy groups by sorting)
def test_new_incidents_add_the_same_sums_as_the_sql_rules(tmp_path, spread_minutes):
    """The sums an intake's group appends (added up in Python) and a bulk load appends (grouped in numpy) equal
    what the SQL rules give for the same rows (a rebuild from the base tables): deadline and resolution parts,
    on time or late, evaluated or not, archived, without grid or report time."""
    rng = np.random.default_rng(3)
    start = dt.datetime(2026, 11, 1)
    rows = []
    for k in range(300):
        reported = start + dt.timedelta(minutes=int(rng.integers(0, spread_minutes)))
        resolved = reported + dt.timedelta(minutes=int(rng.integers(1, 5_000))) if k % 3 else None
        status = ["evaluated", "resolved", "verified"][k % 5 % 3] if resolved else "reported"
        rows.append(
            {
                "due_at": resolved if k % 19 == 1 else reported + dt.timedelta(hours=int(rng.integers(1, 72))),
                "resolved_at": resolved,
                "reported_at": None if k % 11 == 0 else reported,
                "status": status,
                "satisfaction": int(rng.integers(1, 6)) if k % 2 else None,
                "archived": k % 13 == 0,
                **({"due_at": None} if k % 7 == 0 else {}),
                "grid_code": None if k % 17 == 0 else f"G{k % 5}",
                "community_code": f"C{k % 5}",
                "street_code": "S1",
                "district_code": f"D{k % 2}",
            }
        )
    got = {}
    for name, add in (
        ("python", lambda con: add_incident_rows(con, rows)),
        ("numpy", lambda con: add_incidents(con, pa.Table.from_pylist(rows, schema=_INCIDENT_FIELDS))),
        ("sql", lambda con: _rebuilt_from_base_tables(con, rows)),
    ):
        con = store.connect(tmp_path / f"{name}.duckdb")
        try:
            add(con)
            got[name] = _both(con)
        finally:
            con.close()
    assert len(got["sql"][0]) > 20 and got["sql"][0]["satisfaction_n"].sum() > 0
    for name in ("python", "numpy"):
        for table in range(len(got["sql"])):
            pd.testing.assert_frame_equal(got[name][table], got["sql"][table], obj=f"{name} {table}")


def _rebuilt_from_base_tables(con, rows: list[dict]) -> None:
    """The rows stored in ``incidents`` and ``resolutions``, then the roll-up rebuilt by its SQL rules."""
    table = pa.Table.from_pylist(rows, schema=_INCIDENT_FIELDS)
    table = table.append_column("incident_id", pa.array([f"T{k}" for k in range(len(rows))]))
    con.register("_rows", table)
    con.execute(f"INSERT INTO incidents BY NAME SELECT {', '.join(table.column_names)} FROM _rows")
    con.execute(f"INSERT INTO resolutions SELECT {RESOLVED_COLUMNS} FROM _rows WHERE resolved_at IS NOT NULL")
    con.unregister("_rows")
    rebuild(con)


def test_a_window_split_into_roll_up_days_and_signed_pieces_counts_what_it_holds():
    """Whole days from the roll-up plus the pieces added or subtracted count exactly the times in [since, until]:
    part days at either end (shorter either way), midnights, a window inside one day, times on the edges."""
    rng = np.random.default_rng(11)
    base = dt.datetime(2026, 11, 20)
    times = [base + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 20 * 1440, 4000)]
    times += [base + dt.timedelta(days=d) for d in range(20)]  # midnights
    per_day = pd.Series(times).dt.date.value_counts()
    ops = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
    windows = [(times[k], times[k] + dt.timedelta(days=7)) for k in range(0, 40, 4)]
    windows += [
        (base + dt.timedelta(days=2), base + dt.timedelta(days=5)),  # midnight to midnight
        (base + dt.timedelta(days=2, hours=23), base + dt.timedelta(days=3, hours=1)),  # subtract at both ends
        (base + dt.timedelta(days=2, hours=1), base + dt.timedelta(days=2, hours=9)),  # inside one day
        (times[5], times[5]),
    ]
    split_kinds = set()
    for since, until in windows:
        days, pieces = day_split(since, until)
        got = 0
        if days is not None:
            got += int(per_day[(per_day.index >= days[0]) & (per_day.index < days[1])].sum())
        for lo, lo_op, hi, hi_op, sign in pieces:
            got += sign * sum(1 for t in times if ops[lo_op](t, lo) and ops[hi_op](t, hi))
            split_kinds.add(sign)
        assert got == sum(1 for t in times if since <= t <= until), (since, until, days, pieces)
    assert split_kinds == {1, -1}
