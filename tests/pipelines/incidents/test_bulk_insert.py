"""The Arrow bulk insert of new incidents writes exactly what the earlier SQL statements wrote.

``reference_insert`` is the write path as it was before the bulk insert (join and sort inside DuckDB,
verbatim SQL), followed by the derived tables computed from the stored rows in SQL (the roll-up rebuilt from
the base tables, the recent incidents selected from ``incidents``); both run on the same sample and every
table of the incident family is compared, and the comparison is shown to catch a broken fast path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines import store
from pipelines.incidents import bulk, recent, repository
from pipelines.incidents.repository import upsert_incidents
from pipelines.store import loop_rollup
from pipelines.store.meta import set_meta
from pipelines.store.schema import OPEN_COLUMNS, RESOLVED_COLUMNS
from pipelines.vocabulary import GRID_CODE_COLUMNS, OPEN_SQL, STATUSES

ACTOR, NOTE = "import", "loaded from sample.csv"
RECENT_SINCE = "2026-10-25 00:00:00"
"""Inside the sample's 40 days: some incidents belong in ``recent_incidents``, some not."""


def reference_insert(con, batch, grid_codes, actor: str, note: str) -> None:
    """The statements of the write path before the bulk insert (pipelines.incidents.repository, v5)."""
    columns = [c for c in batch.column_names if c != "grid_index"]
    con.register("_batch", batch)
    con.register("_grid_codes", grid_codes)
    located = "_batch b LEFT JOIN _grid_codes g ON g.grid_index = b.grid_index"
    codes = ", ".join(f"g.{c}" for c in GRID_CODE_COLUMNS)
    con.execute(
        f"INSERT INTO incidents ({', '.join(columns)}, {', '.join(GRID_CODE_COLUMNS)})"
        f" SELECT {', '.join('b.' + c for c in columns)}, {codes} FROM {located} ORDER BY b.reported_at"
    )
    live = " AND NOT coalesce(b.archived, false)" if "archived" in columns else ""
    con.execute(
        f"INSERT INTO open_incidents ({OPEN_COLUMNS}) SELECT b.incident_id, b.category, b.status, b.priority,"
        f" b.reported_at, b.due_at, {codes} FROM {located} WHERE b.{OPEN_SQL}{live}"
    )
    con.execute(
        f"INSERT INTO resolutions ({RESOLVED_COLUMNS}) SELECT b.incident_id, b.resolved_at, b.reported_at,"
        f" b.status, b.satisfaction, {codes} FROM {located} WHERE b.resolved_at IS NOT NULL"
    )
    con.execute(
        """
        INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
        SELECT incident_id, NULL, 'reported', reported_at, $actor, $note FROM _batch
        UNION ALL
        SELECT incident_id, 'reported', status, coalesce(resolved_at, reported_at), $actor, $note
        FROM _batch WHERE status <> 'reported'
        """,
        {"actor": actor, "note": note},
    )
    con.unregister("_batch")
    con.unregister("_grid_codes")
    loop_rollup.rebuild(con)
    con.execute(
        f"INSERT INTO recent_incidents SELECT {recent.RECENT_COLUMNS} FROM incidents"
        " WHERE reported_at >= $since OR resolved_at >= $since",
        {"since": RECENT_SINCE},
    )


def sample(n: int, seed: int, archived: bool) -> pd.DataFrame:
    """Unsorted times, every status, some points outside every grid, optional columns partly empty."""
    rng = np.random.default_rng(seed)
    reported = np.datetime64("2026-10-01T00:00:00") + rng.integers(0, 40 * 86400, n).astype("timedelta64[s]")
    status = np.array(STATUSES, dtype=object)[rng.integers(0, len(STATUSES), n)]
    done = np.isin(status, ("resolved", "evaluated"))
    resolved = np.where(done, reported + rng.integers(60, 86400, n).astype("timedelta64[s]"), np.datetime64("NaT"))
    frame = pd.DataFrame(
        {
            "incident_id": [f"S{seed}-{i:05d}" for i in range(n)],
            "category": np.array(["噪声扰民", "车辆停放", "垃圾分类"], dtype=object)[rng.integers(0, 3, n)],
            "affair_class": np.array(["公事", "家事", "共事"], dtype=object)[rng.integers(0, 3, n)],
            "source": np.array(["网格员巡查", "12345热线"], dtype=object)[rng.integers(0, 2, n)],
            "priority": np.array(["normal", "urgent"], dtype=object)[rng.integers(0, 2, n)],
            "status": status,
            "reported_at": reported.astype("datetime64[us]"),
            "due_at": (reported + np.timedelta64(72, "h")).astype("datetime64[us]"),
            "resolved_at": pd.to_datetime(resolved),
            "description": np.where(rng.random(n) < 0.5, "楼道堆物", None),
            "address": None,
            "reporter_name": None,
            "reporter_phone": None,
            "satisfaction": pd.array(np.where(status == "evaluated", rng.integers(1, 6, n), -1), dtype="Int8"),
            "lon": rng.uniform(120.0, 120.1, n),
            "lat": rng.uniform(30.0, 30.1, n),
            "h3_cell": rng.integers(1, 2**62, n).astype(np.uint64),
            "grid_index": rng.integers(-1, 5, n),  # -1: outside every grid, stored with NULL codes
        }
    )
    frame.loc[frame["satisfaction"] < 0, "satisfaction"] = pd.NA
    if archived:
        frame["archived"] = rng.random(n) < 0.3
    return frame


GRID_CODES = pa.table(
    {
        "grid_index": pa.array(range(5), pa.int64()),
        "grid_code": [f"33010200100{i}" for i in range(5)],
        "community_code": ["330102001", "330102001", "330102002", "330102002", "330102003"],
        "street_code": ["330102", "330102", "330102", "330102", "330103"],
        "district_code": ["3301"] * 5,
    }
)

TABLES = {
    "incidents": "*",
    "open_incidents": "*",
    "resolutions": "*",
    "incident_events": "incident_id, from_status, to_status, occurred_at, actor, note",
    "loop_daily": "*",
    "loop_district_daily": "*",
    "loop_community_daily": "*",
    "recent_incidents": "*",
}


def connect(path):
    con = store.connect(path)
    set_meta(con, "recent_since", RECENT_SINCE)
    return con


def contents(con) -> dict[str, pd.DataFrame]:
    out = {}
    for table, columns in TABLES.items():
        frame = con.execute(f"SELECT {columns} FROM {table}").df()
        out[table] = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
    return out


def variant(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Edge cases of the bulk path: every point outside every grid (all codes NULL), nothing past 'reported'
    (no second history row, no resolutions), times already in order (no sort)."""
    if name == "all outside":
        return frame.assign(grid_index=-1)
    if name == "all reported":
        return frame.assign(status="reported", resolved_at=pd.NaT, satisfaction=pd.array([pd.NA] * len(frame), "Int8"))
    if name == "sorted":
        return frame.sort_values("reported_at", kind="stable")
    return frame


CASES = [
    (False, "sample", GRID_CODES),
    (True, "sample", GRID_CODES),
    (False, "sample", GRID_CODES.take([3, 0, 4, 1, 2])),  # the code table in another order than grid_index
    (False, "all outside", GRID_CODES),
    (True, "all reported", GRID_CODES),
    (False, "sorted", GRID_CODES),
]


@pytest.mark.parametrize(("archived", "name", "grid_codes"), CASES)
def test_bulk_insert_writes_what_the_sql_path_wrote(tmp_path, monkeypatch, archived, name, grid_codes):
    monkeypatch.setattr(repository, "BATCH_ROWS", 700)  # several Arrow batches per table: order kept across them
    frame = variant(sample(3_000, seed=3, archived=archived), name)
    fast, slow = connect(tmp_path / "fast.duckdb"), connect(tmp_path / "slow.duckdb")
    upsert_incidents(fast, frame, grid_codes, ACTOR, NOTE)
    reference_insert(slow, pa.Table.from_pandas(frame, preserve_index=False), grid_codes, ACTOR, NOTE)
    got, want = contents(fast), contents(slow)
    for table in TABLES:
        assert len(got[table]) > 0 or (table == "resolutions" and name == "all reported")
    assert_same(got, want)
    times = fast.execute("SELECT reported_at FROM incidents").fetchnumpy()["reported_at"]
    assert (times[1:] >= times[:-1]).all()  # stored in time order, as before
    assert got["incidents"]["grid_code"].isna().sum() == (frame["grid_index"] < 0).sum()
    event_ids = fast.execute("SELECT count(DISTINCT event_id), count(*) FROM incident_events").fetchone()
    assert event_ids[0] == event_ids[1]
    fast.close()
    slow.close()


def assert_same(got: dict, want: dict) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(got[table], want[table], obj=table)


def _with(sums, column: str, change):
    """The per-grid roll-up table with ``change`` applied to one column's numpy values."""
    grids = sums["loop_daily"]
    values = change(grids[column].to_numpy().copy())
    return sums | {
        "loop_daily": grids.set_column(grids.column_names.index(column), column, pa.array(values, grids[column].type))
    }


def _first_plus_one(values):
    values[0] += 1
    return values


def _break(monkeypatch, how: str) -> None:
    """Break the fast path in one small way."""
    append, sums = repository.append_arrow, loop_rollup.incident_sums
    history, recent_rows = bulk.imported_history, repository.append_recent
    if how == "an open row lost":
        monkeypatch.setattr(
            repository,
            "append_arrow",
            lambda con, table, rows: append(con, table, rows.slice(1) if table == "open_incidents" else rows),
        )
    elif how == "a roll-up day off by one":
        monkeypatch.setattr(loop_rollup, "incident_sums", lambda rows: _with(sums(rows), "day", lambda d: d + 1))
    elif how == "one closed_on_time too many":
        monkeypatch.setattr(
            loop_rollup, "incident_sums", lambda rows: _with(sums(rows), "closed_on_time", _first_plus_one)
        )
    elif how == "history without its second event":
        monkeypatch.setattr(bulk, "imported_history", lambda rows, a, n: history(rows, a, n).slice(0, len(rows)))
    elif how == "the newest recent row missing":
        monkeypatch.setattr(
            repository, "append_recent", lambda con, rows: recent_rows(con, rows.slice(0, len(rows) - 1))
        )


BREAKS = (
    "an open row lost",
    "a roll-up day off by one",
    "one closed_on_time too many",
    "history without its second event",
    "the newest recent row missing",
)


@pytest.mark.parametrize("how", BREAKS)
def test_the_comparison_catches_a_broken_fast_path(tmp_path, monkeypatch, how):
    frame = sample(1_000, seed=4, archived=True)
    slow = connect(tmp_path / "slow.duckdb")
    reference_insert(slow, pa.Table.from_pandas(frame, preserve_index=False), GRID_CODES, ACTOR, NOTE)
    fast = connect(tmp_path / "fast.duckdb")
    upsert_incidents(fast, frame, GRID_CODES, ACTOR, NOTE)
    assert_same(contents(fast), contents(slow))  # unbroken: equal
    fast.close()
    _break(monkeypatch, how)
    broken = connect(tmp_path / "broken.duckdb")
    upsert_incidents(broken, frame, GRID_CODES, ACTOR, NOTE)
    with pytest.raises(AssertionError):
        assert_same(contents(broken), contents(slow))
    broken.close()
    slow.close()


def test_a_second_load_of_the_same_ids_adds_no_rows(tmp_path):
    frame = sample(500, seed=5, archived=False)
    con = store.connect(tmp_path / "t.duckdb")
    assert upsert_incidents(con, frame.iloc[:300], GRID_CODES, ACTOR, NOTE) == 0
    before = contents(con)
    assert upsert_incidents(con, frame, GRID_CODES, ACTOR, NOTE) == 300
    ids = con.execute("SELECT count(*), count(DISTINCT incident_id) FROM incidents").fetchone()
    assert ids == (500, 500)
    history = con.execute(
        "SELECT count(*) FROM incident_events WHERE incident_id IN (SELECT incident_id FROM incidents"
        " WHERE incident_id < 'S5-00300')"
    ).fetchone()[0]
    assert history == len(before["incident_events"])
    con.close()
