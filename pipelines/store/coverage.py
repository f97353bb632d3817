"""Service coverage results (服务圈): standards, runs, per-building distances, the walking network."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.store.party_indicators import refresh_party_facts
from pipelines.store.rows import append_rows
from pipelines.vocabulary import LEVEL_TABLES


def service_standards(con: duckdb.DuckDBPyConnection, types: list[str], default: tuple[int, bool]) -> pd.DataFrame:
    """Tier, distance and required flag per facility type; unknown types are added with ``default``."""
    known = {row[0] for row in con.execute("SELECT type FROM service_standards").fetchall()}
    new = sorted(set(types) - known)
    if new:
        con.executemany("INSERT INTO service_standards VALUES (?, ?, ?)", [[t, *default] for t in new])
    return con.execute(
        "SELECT s.type, s.tier_minutes, l.distance_m, s.required FROM service_standards s"
        " LEFT JOIN life_circles l USING (tier_minutes) ORDER BY s.tier_minutes, s.type"
    ).df()


def set_required(con: duckdb.DuckDBPyConnection, tiers: dict[str, int]) -> None:
    """Mark types required; a type not yet in the standards is added with the given tier (minutes)."""
    if not tiers:
        return
    con.executemany(
        "INSERT INTO service_standards VALUES (?, ?, true) ON CONFLICT (type) DO UPDATE SET required = true",
        [[kind, tier] for kind, tier in tiers.items()],
    )


def required_types(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT type FROM service_standards WHERE required ORDER BY type").fetchall()]


def write_coverage(
    con: duckdb.DuckDBPyConnection,
    run: dict,
    types: pd.DataFrame,
    access: pa.Table,
    nodes: pa.Table | None,
    edges: pa.Table | None,
    links: pa.Table | None,
) -> int:
    """Store one coverage run; results for the computed types and the network are replaced."""
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM coverage_runs").fetchone()[0]
    con.execute(
        "INSERT INTO coverage_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            run["method"],
            run["walk_speed_m_per_min"],
            run["cutoff_m"],
            run["minutes_override"],
            run["seconds"],
            run["report"],
        ],
    )
    types = types.assign(run_id=run_id)
    con.register("_types", types)
    con.register("_access", access)
    try:
        con.execute("DELETE FROM coverage_types WHERE type IN (SELECT type FROM _types)")
        con.execute(
            "INSERT INTO coverage_types SELECT type, tier_minutes, threshold_m, required, method, facilities, run_id"
            " FROM _types"
        )
        kept = con.execute("SELECT count(*) FROM building_access ANTI JOIN _types USING (type)").fetchone()[0]
        if kept:
            con.execute("DELETE FROM building_access WHERE type IN (SELECT type FROM _types)")
            con.execute("INSERT INTO building_access SELECT building_id, type, distance_m, minutes FROM _access")
        else:  # every stored type is replaced: a new table, not a million deletes to record and vacuum
            _swap(con, "building_access", "_access")
    finally:
        con.unregister("_types")
        con.unregister("_access")
    for table, frame in (("network_nodes", nodes), ("network_edges", edges), ("network_links", links)):
        if frame is None:
            con.execute(f"DELETE FROM {table}")
            continue
        con.register("_frame", frame)
        try:
            _swap(con, table, "_frame")
        finally:
            con.unregister("_frame")
    if PARTY_CENTRE in set(types["type"]):
        refresh_centre_reach(con)
    return run_id


STORED_COLUMNS = {
    "building_access": ("building_id::VARCHAR", "type::VARCHAR", "distance_m::DOUBLE", "minutes::DOUBLE"),
    "network_nodes": ("node_id::INTEGER", "x::DOUBLE", "y::DOUBLE", "lon::DOUBLE", "lat::DOUBLE"),
    "network_edges": ("edge_id::INTEGER", "u::INTEGER", "v::INTEGER", "length_m::DOUBLE"),
    "network_links": ("kind::VARCHAR", "item_id::VARCHAR", "edge_id::INTEGER", "along_m::DOUBLE", "offset_m::DOUBLE"),
}
"""The columns of the tables a full run rewrites whole, as the schema declares them (no keys, no defaults)."""


def _swap(con: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """Replace all rows of ``table`` by those of the registered ``source``: the old table is dropped at commit
    (its blocks freed whole) instead of each of its rows being marked deleted."""
    columns = ", ".join(f"{c.split('::')[0]}::{c.split('::')[1]} AS {c.split('::')[0]}" for c in STORED_COLUMNS[table])
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} FROM {source}")


def latest_run(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(method, report JSON) of the newest coverage run; None before the first."""
    return con.execute("SELECT method, report FROM coverage_runs ORDER BY run_id DESC LIMIT 1").fetchone()


def coverage_types_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT type, tier_minutes, threshold_m, required, method, facilities FROM coverage_types"
        " ORDER BY tier_minutes, type"
    ).df()


def coverage_by_area(
    con: duckdb.DuckDBPyConnection, level: str, within: tuple[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residents covered per area and type, and each area's life-circle completeness.

    ``level`` names the areas (district/street/community/grid); ``within`` = (level, code) limits
    them to one parent.  Returns (areas, by_type): areas has code, name, residents, buildings,
    types_in_reach (residents' mean count of required types within their circle), required_types
    and complete_share (share of residents with every required type in reach); by_type has
    code, type, covered (residents) and share.
    """
    table, column = LEVEL_TABLES[level]
    where, params = "TRUE", []
    if within is not None:
        where, params = f"b.{LEVEL_TABLES[within[0]][1]} = ?", [within[1]]
    by_type = con.execute(
        f"""
        SELECT b.{column} AS code, a.type,
               coalesce(sum(b.residents) FILTER (WHERE a.distance_m <= t.threshold_m), 0)::BIGINT AS covered,
               coalesce(sum(b.residents), 0)::BIGINT AS residents
        FROM buildings b JOIN building_access a USING (building_id) JOIN coverage_types t USING (type)
        WHERE {where} AND b.{column} IS NOT NULL
        GROUP BY ALL ORDER BY code, a.type
        """,
        params,
    ).df()
    by_type["share"] = by_type["covered"] / by_type["residents"].where(by_type["residents"] > 0)
    areas = con.execute(
        f"""
        WITH per_building AS (
            SELECT a.building_id,
                   count(*) FILTER (WHERE t.required AND a.distance_m <= t.threshold_m) AS in_reach
            FROM building_access a JOIN coverage_types t USING (type) GROUP BY a.building_id),
        required AS (SELECT count(*) FILTER (WHERE required) AS n FROM coverage_types)
        SELECT b.{column} AS code, any_value(u.name) AS name, sum(b.residents)::BIGINT AS residents,
               count(*) AS buildings,
               sum(b.residents * coalesce(p.in_reach, 0)) / nullif(sum(b.residents), 0) AS types_in_reach,
               any_value(r.n) AS required_types,
               sum(b.residents) FILTER (WHERE p.in_reach = r.n) / nullif(sum(b.residents), 0) AS complete_share
        FROM buildings b LEFT JOIN per_building p USING (building_id) CROSS JOIN required r
             LEFT JOIN {table} u ON u.{column} = b.{column}
        WHERE {where} AND b.{column} IS NOT NULL
        GROUP BY b.{column} ORDER BY b.{column}
        """,
        params,
    ).df()
    areas["complete_share"] = areas["complete_share"].fillna(0.0)
    return areas, by_type


def planner_points(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Buildings and facilities with coordinates, by id: the order a coverage run stores and the planner reads."""
    buildings = con.execute(
        "SELECT building_id, name, coalesce(residents, 0) AS residents, lon, lat, grid_code, community_code,"
        " street_code, district_code FROM buildings WHERE lon IS NOT NULL ORDER BY building_id"
    ).df()
    return buildings, facility_points(con)


def facility_points(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Facilities with coordinates and a type, by id."""
    return con.execute(
        "SELECT facility_id, type, name, lon, lat, community_code, street_code FROM facilities"
        " WHERE lon IS NOT NULL AND type IS NOT NULL ORDER BY facility_id"
    ).df()


def coverage_buildings(con: duckdb.DuckDBPyConnection) -> tuple[pa.Array, pd.DataFrame]:
    """The located buildings by id (the order :func:`planner_points` gives): their ids as Arrow strings (a
    million of them stay out of Python objects) and a frame of residents, lon and lat."""
    table = con.execute(
        "SELECT building_id, coalesce(residents, 0) AS residents, lon, lat FROM buildings"
        " WHERE lon IS NOT NULL ORDER BY building_id"
    ).to_arrow_table()
    return table["building_id"].combine_chunks(), table.drop_columns(["building_id"]).to_pandas()


def access_for_type(con: duckdb.DuckDBPyConnection, kind: str) -> np.ndarray:
    """Stored distance (m, NaN = not reached) from every building to ``kind``, in building-id order."""
    got = con.execute(
        "SELECT a.distance_m FROM buildings b LEFT JOIN building_access a"
        " ON a.building_id = b.building_id AND a.type = ? WHERE b.lon IS NOT NULL ORDER BY b.building_id",
        [kind],
    ).fetchnumpy()["distance_m"]
    return np.ma.filled(got.astype(float), np.nan)  # NULL comes back masked


# --- one type again on the stored network (pipelines.coverage_update) ---------------------------------------

PARTY_CENTRE = "党群服务中心"
"""The one facility type whose reach the party facts count (``party_indicators.FACTS_SQL``)."""


def type_facilities(con: duckdb.DuckDBPyConnection, kind: str) -> pd.DataFrame:
    """The located facilities of one type, in facility-id order (as :func:`planner_points` orders them)."""
    return con.execute(
        "SELECT facility_id, lon, lat FROM facilities WHERE type = ? AND lon IS NOT NULL ORDER BY facility_id", [kind]
    ).df()


def type_standard(con: duckdb.DuckDBPyConnection, kind: str) -> dict | None:
    """Covered-within metres of ``kind`` as the latest run measured it (its row in ``coverage_types``, else the
    service standard or the run's minutes override), with that run's search cutoff and walking speed."""
    run = con.execute(
        "SELECT cutoff_m, walk_speed_m_per_min, minutes_override FROM coverage_runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    if run is None:
        return None
    cutoff_m, speed, minutes = run
    row = con.execute("SELECT threshold_m FROM coverage_types WHERE type = ?", [kind]).fetchone()
    if row is None:
        row = con.execute(
            "SELECT l.distance_m FROM service_standards s JOIN life_circles l USING (tier_minutes) WHERE s.type = ?",
            [kind],
        ).fetchone()
        if row is not None and minutes is not None:
            row = (minutes * speed,)
    if row is None:
        return None
    return {"threshold_m": float(row[0]), "cutoff_m": float(cutoff_m), "speed": float(speed)}


CENTRE_REACH_SQL = """
UPDATE party_grid_facts SET centre_reached = r.reached, centre_measured = r.measured
FROM (
    SELECT f.grid_code, coalesce(b.reached, 0) AS reached,
           EXISTS (SELECT 1 FROM coverage_types WHERE type = $centre) AS measured
    FROM party_grid_facts f LEFT JOIN (
        SELECT b.grid_code, sum(b.residents) AS reached
        FROM buildings b JOIN building_access a ON a.building_id = b.building_id AND a.type = $centre
        WHERE b.residents > 0
          AND a.distance_m <= (SELECT threshold_m FROM coverage_types WHERE type = $centre)
        GROUP BY 1) b USING (grid_code)) r
WHERE party_grid_facts.grid_code = r.grid_code
"""


def refresh_centre_reach(con: duckdb.DuckDBPyConnection) -> None:
    """The coverage columns of the party facts (residents in reach of a 党群服务中心 per grid), after its
    distances changed.  The other facts do not depend on coverage: only when they were never counted
    (the table is empty) are they all counted here (:func:`refresh_party_facts`)."""
    if con.execute("SELECT count(*) FROM party_grid_facts").fetchone()[0] == 0:
        refresh_party_facts(con)
    else:
        con.execute(CENTRE_REACH_SQL, {"centre": PARTY_CENTRE})


def stored_type_access(
    con: duckdb.DuckDBPyConnection, kind: str, building_ids: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """(has a row, stored distance or NaN) of ``kind`` for each of ``building_ids``, in their order (joined on
    the ids themselves, so the arrays line up with the caller's buildings whatever the table's order)."""
    n = len(building_ids)
    con.register("_positions", pa.table({"building_id": building_ids, "pos": np.arange(n, dtype=np.int64)}))
    try:
        got = con.execute(
            "SELECT p.pos, a.distance_m FROM building_access a JOIN _positions p USING (building_id) WHERE a.type = ?",
            [kind],
        ).fetchnumpy()
    finally:
        con.unregister("_positions")
    present, old = np.zeros(n, dtype=bool), np.full(n, np.nan)
    present[got["pos"]] = True
    old[got["pos"]] = np.ma.filled(got["distance_m"].astype(float), np.nan)
    return present, old


def replace_type_access(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    facilities: int,
    access: pa.Table,
    facility_links: pa.Table | None,
    whole: bool = True,
    new_rows: bool = True,
) -> None:
    """Store one type's per-building distances and its facilities' network links; update its summary row
    (a type the latest run did not compute gets one, from its service standard).  Call inside a transaction.

    ``whole``: ``access`` holds every building (the type's rows are replaced); otherwise only the buildings
    whose distance changed (their rows are updated, and with ``new_rows`` added where missing).  Links of facilities deleted
    since are left in place: the planner reads links by the current facility ids, and the next full run
    rewrites them all."""
    if whole:
        con.execute("DELETE FROM building_access WHERE type = ?", [kind])
        append_rows(con, "building_access", access)
    elif access.num_rows:
        con.register("_changed", access)
        try:
            con.execute(
                "UPDATE building_access SET distance_m = c.distance_m, minutes = c.minutes FROM _changed c"
                " WHERE building_access.type = ? AND building_access.building_id = c.building_id",
                [kind],
            )
            if new_rows:
                con.execute(
                    "INSERT INTO building_access SELECT c.* FROM _changed c ANTI JOIN"
                    " (SELECT building_id FROM building_access WHERE type = ?) a USING (building_id)",
                    [kind],
                )
        finally:
            con.unregister("_changed")
    con.execute(
        """
        INSERT INTO coverage_types
        SELECT s.type, s.tier_minutes, coalesce(r.minutes_override * r.walk_speed_m_per_min, l.distance_m),
               s.required, r.method, $facilities, r.run_id
        FROM service_standards s JOIN life_circles l USING (tier_minutes),
             (SELECT * FROM coverage_runs ORDER BY run_id DESC LIMIT 1) r
        WHERE s.type = $kind
        ON CONFLICT (type) DO UPDATE SET facilities = excluded.facilities
        """,
        {"kind": kind, "facilities": facilities},
    )
    if facility_links is not None:
        con.register("_links", facility_links)
        try:
            con.execute(
                "DELETE FROM network_links WHERE kind = 'facility' AND (item_id IN (SELECT item_id FROM _links)"
                " OR item_id IN (SELECT facility_id FROM facilities WHERE type = ?))",
                [kind],
            )
            con.execute("INSERT INTO network_links SELECT kind, item_id, edge_id, along_m, offset_m FROM _links")
        finally:
            con.unregister("_links")
    if kind == PARTY_CENTRE:
        refresh_centre_reach(con)
