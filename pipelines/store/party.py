"""The party-building family (党建引领): organisations, members, 楼栋长, 共建单位, teams, volunteers, staffing.

``PARTY_SCHEMA`` is its tables; the schema module includes it and migration 3 created it in older
files.  Every located row carries the hierarchy codes (``grid_code`` … ``district_code``) resolved
on write from the unit it names, so the indicators (:mod:`pipelines.store.party_indicators`)
group without joins back to the units.  Names and phones are stored for dispatch; whoever shows
them masks them for viewers (:mod:`pipelines.masking`).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.party.domain import PARTY_STANDARDS
from pipelines.store.meta import bump_data_version

PARTY_SCHEMA = """
-- 小区 (residential estates): the unit of 小区党支部 and of 小区党组织覆盖率.
CREATE TABLE IF NOT EXISTS estates (
    estate_id VARCHAR, name VARCHAR,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Party organisations; unit_level/unit_code name the street, community, grid, estate or building they sit in.
CREATE TABLE IF NOT EXISTS party_orgs (
    org_id VARCHAR, name VARCHAR, type VARCHAR, level VARCHAR, parent_id VARCHAR,
    unit_level VARCHAR, unit_code VARCHAR,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    secretary_name VARCHAR, secretary_phone VARCHAR, members INTEGER, founded_on DATE);
-- Party members: community_code is the community they report to (报到社区), grid_code/building_id where they serve.
CREATE TABLE IF NOT EXISTS party_members (
    member_id VARCHAR, name VARCHAR, phone VARCHAR, org_id VARCHAR, community_code VARCHAR,
    employer VARCHAR, in_service BOOLEAN, reported_on DATE, roles VARCHAR[], grid_code VARCHAR,
    building_id VARCHAR);
-- 楼栋长: one per building; party_member says whether the head is a party member (党员楼栋长).
CREATE TABLE IF NOT EXISTS building_heads (
    building_id VARCHAR, name VARCHAR, phone VARCHAR, member_id VARCHAR, party_member BOOLEAN,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- 共建单位 with their co-building agreement (契约化共建) and its projects.
CREATE TABLE IF NOT EXISTS partners (
    partner_id VARCHAR, name VARCHAR, unit_type VARCHAR, agreement_no VARCHAR, signed_on DATE,
    expires_on DATE, projects VARCHAR[], contact_name VARCHAR, contact_phone VARCHAR,
    community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- 组团服务: one row per member of a grid's service team.
CREATE TABLE IF NOT EXISTS service_teams (
    entry_id VARCHAR, team_id VARCHAR, team_name VARCHAR, member_id VARCHAR, name VARCHAR, phone VARCHAR,
    duty VARCHAR, grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
CREATE TABLE IF NOT EXISTS volunteer_hours (
    record_id VARCHAR, member_id VARCHAR, name VARCHAR, served_on DATE, hours DOUBLE, activity VARCHAR,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Staffing per community: 社工 (licensed community workers) and all paid staff.
CREATE TABLE IF NOT EXISTS social_workers (
    community_code VARCHAR, social_workers INTEGER, paid_staff INTEGER, as_of DATE,
    street_code VARCHAR, district_code VARCHAR);
-- Derived (refresh_party_facts): per-grid and per-community counts the indicators sum, so a level's
-- table reads 65,000 rows instead of joining a million buildings on every request.
CREATE TABLE IF NOT EXISTS party_grid_facts (
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    population BIGINT, households BIGINT, grid_has_org INTEGER, estates BIGINT, estates_covered BIGINT,
    res_buildings BIGINT, headed BIGINT, heads BIGINT, party_heads BIGINT, workers BIGINT, serving BIGINT,
    residents BIGINT, centre_reached BIGINT, centre_measured BOOLEAN);
CREATE TABLE IF NOT EXISTS party_community_facts (community_code VARCHAR, registered BIGINT);
CREATE TABLE IF NOT EXISTS party_standards (
    key VARCHAR PRIMARY KEY, value DOUBLE, unit VARCHAR, label_zh VARCHAR, label_en VARCHAR,
    definition_zh VARCHAR, definition_en VARCHAR);
"""

PARTY_TABLES = {
    "estates": "estate_id",
    "party_orgs": "org_id",
    "party_members": "member_id",
    "building_heads": "building_id",
    "partners": "partner_id",
    "service_teams": "entry_id",
    "volunteer_hours": "record_id",
    "social_workers": "community_code",
}
"""Table: its key.  The loadable kinds share these names."""
PARTY_TABLE_LABELS = {
    "estates": "小区 estates",
    "party_orgs": "党组织 party organisations",
    "party_members": "党员 party members",
    "building_heads": "楼栋长 building heads",
    "partners": "共建单位 partner units",
    "service_teams": "组团服务成员 team members",
    "volunteer_hours": "志愿服务记录 volunteer records",
    "social_workers": "社工配置 staffing rows",
}
UNIT_SOURCES = {
    "street": ("streets", "street_code", "NULL", "NULL", "street_code", "district_code"),
    "community": ("communities", "community_code", "NULL", "community_code", "street_code", "district_code"),
    "grid": ("grids", "grid_code", "grid_code", "community_code", "street_code", "district_code"),
    "estate": ("estates", "estate_id", "grid_code", "community_code", "street_code", "district_code"),
    "building": ("buildings", "building_id", "grid_code", "community_code", "street_code", "district_code"),
}
"""unit level: (table, key, then the columns giving grid, community, street and district codes)."""


def seed_standards(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the default standards a file does not have yet (edited values are kept)."""
    con.executemany(
        "INSERT INTO party_standards VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [[key, *values] for key, values in PARTY_STANDARDS.items()],
    )


def standards(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(con.execute("SELECT key, value FROM party_standards").fetchall())


def set_standard(con: duckdb.DuckDBPyConnection, key: str, value: float) -> None:
    con.execute("UPDATE party_standards SET value = ? WHERE key = ?", [value, key])
    bump_data_version(con)  # the dashboard caches the indicator tables per data version


def standards_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT * FROM party_standards ORDER BY key").df()


# --- writes ----------------------------------------------------------------------------------------


def replace_party_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, append: bool = False) -> None:
    """Upsert by the table's key (reloading a file replaces its rows); columns by name.

    ``append`` skips the delete (the generator writes into emptied tables).
    """
    key = PARTY_TABLES[table]
    batch = pa.Table.from_pandas(frame, preserve_index=False)
    con.register("_party_batch", batch)
    try:
        if not append:
            con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _party_batch)")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _party_batch")
    finally:
        con.unregister("_party_batch")


def fill_hierarchy_codes(con: duckdb.DuckDBPyConnection) -> None:
    """Set the hierarchy codes of rows that lack them: organisations from their unit, the rest from their grid."""
    for level, (table, key, *columns) in UNIT_SOURCES.items():
        values = ", ".join(
            f"{target} = {'NULL' if source == 'NULL' else 'u.' + source}"
            for target, source in zip(
                ("grid_code", "community_code", "street_code", "district_code"), columns, strict=True
            )
        )
        con.execute(
            f"UPDATE party_orgs SET {values} FROM {table} u"
            f" WHERE party_orgs.unit_level = ? AND party_orgs.unit_code = u.{key} AND party_orgs.district_code IS NULL",
            [level],
        )
    for table in ("service_teams", "volunteer_hours"):
        con.execute(
            f"UPDATE {table} SET community_code = g.community_code, street_code = g.street_code,"
            f" district_code = g.district_code FROM grids g"
            f" WHERE {table}.grid_code = g.grid_code AND {table}.district_code IS NULL"
        )


def clear_party(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every party table but the standards (the generator's fresh start)."""
    for table in PARTY_TABLES:
        con.execute(f"DELETE FROM {table}")


def unit_codes(con: duckdb.DuckDBPyConnection, level: str, values: pd.Series) -> pd.DataFrame:
    """For each distinct value naming a unit of ``level`` that exists: value, code, grid_code … district_code.

    A value matches the unit's code, or else its name when exactly one unit has that name (a roster
    often says 西溪社区 where a code belongs).  Buildings match by id only.
    """
    table, key, grid, community, street, district = UNIT_SOURCES[level]
    columns = (
        f"u.{key} AS code, {grid}::VARCHAR AS grid_code, {community}::VARCHAR AS community_code,"
        f" {street}::VARCHAR AS street_code, {district}::VARCHAR AS district_code"
    )
    by_name = (
        f" UNION ALL SELECT c.value, {columns}, false AS exact, count(*) OVER (PARTITION BY c.value) AS n"
        f" FROM {table} u JOIN _values c ON c.value = u.name"
        if level != "building"
        else ""
    )
    con.register("_values", pd.DataFrame({"value": values.dropna().astype(str).unique()}))
    try:
        return con.execute(
            f"SELECT * EXCLUDE (exact, n) FROM (SELECT c.value, {columns}, true AS exact, 1 AS n"
            f" FROM {table} u JOIN _values c ON c.value = u.{key}{by_name})"
            " WHERE exact OR n = 1 QUALIFY row_number() OVER (PARTITION BY value ORDER BY exact DESC) = 1"
        ).df()
    finally:
        con.unregister("_values")


def has_grids(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT EXISTS (SELECT 1 FROM grids)").fetchone()[0]


def existing_ids(con: duckdb.DuckDBPyConnection, table: str, ids: pd.Series) -> set[str]:
    """Which of ``ids`` are keys of ``table`` (e.g. members a team or a record names)."""
    key = PARTY_TABLES.get(table, "building_id" if table == "buildings" else None)
    con.register("_ids", pd.DataFrame({"id": ids.dropna().astype(str).unique()}))
    try:
        return {
            row[0] for row in con.execute(f"SELECT t.{key} FROM {table} t JOIN _ids i ON i.id = t.{key}").fetchall()
        }
    finally:
        con.unregister("_ids")


def org_ids(con: duckdb.DuckDBPyConnection, values: pd.Series) -> pd.DataFrame:
    """value, org_id for each value that is an organisation's id, or else the name of exactly one organisation."""
    con.register("_values", pd.DataFrame({"value": values.dropna().astype(str).unique()}))
    try:
        return con.execute(
            "SELECT value, org_id FROM (SELECT c.value, o.org_id, true AS exact, 1 AS n"
            " FROM party_orgs o JOIN _values c ON c.value = o.org_id"
            " UNION ALL SELECT c.value, o.org_id, false, count(*) OVER (PARTITION BY c.value)"
            " FROM party_orgs o JOIN _values c ON c.value = o.name)"
            " WHERE exact OR n = 1 QUALIFY row_number() OVER (PARTITION BY value ORDER BY exact DESC) = 1"
        ).df()
    finally:
        con.unregister("_values")


# --- reads -----------------------------------------------------------------------------------------


def party_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in PARTY_TABLES}


def org_type_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT type, count(*) FROM party_orgs GROUP BY type ORDER BY count(*) DESC").fetchall())


def member_role_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(
        con.execute(
            "SELECT role, count(*) FROM (SELECT unnest(roles) AS role FROM party_members)"
            " GROUP BY role ORDER BY count(*) DESC"
        ).fetchall()
    )


def in_service_count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM party_members WHERE in_service AND reported_on IS NOT NULL").fetchone()[0]


def grid_party_contacts(con: duckdb.DuckDBPyConnection, grid_code: str | None, duty_roles: tuple[str, ...]) -> dict:
    """Who answers for a grid: its party branch(es) with secretary, members on duty, service team, 楼栋长.

    Each value is a DataFrame; names and phones are whole (the caller masks them).
    """
    params = [grid_code]
    branches = con.execute(
        "SELECT org_id, name, type, secretary_name, secretary_phone, members FROM party_orgs"
        " WHERE grid_code = ? AND unit_level = 'grid' ORDER BY org_id",
        params,
    ).df()
    on_duty = con.execute(
        "SELECT member_id, name, phone, list_intersect(roles, ?::VARCHAR[]) AS roles, in_service FROM party_members"
        " WHERE grid_code = ? AND (len(list_intersect(roles, ?::VARCHAR[])) > 0 OR in_service)"
        " ORDER BY member_id",
        [list(duty_roles), grid_code, list(duty_roles)],
    ).df()
    team = con.execute(
        "SELECT team_id, team_name, member_id, name, phone, duty FROM service_teams WHERE grid_code = ?"
        " ORDER BY team_id, entry_id",
        params,
    ).df()
    heads = con.execute(
        "SELECT h.building_id, coalesce(b.name, h.building_id) AS building, h.name, h.phone, h.party_member"
        " FROM building_heads h LEFT JOIN (SELECT building_id, name FROM buildings WHERE grid_code = ?) b"
        " USING (building_id) WHERE h.grid_code = ? ORDER BY h.building_id",
        [grid_code, grid_code],  # the buildings filtered first: a join would scan every building of the city
    ).df()
    return {"branches": branches, "on_duty": on_duty, "team": team, "heads": heads}


# --- the generator's inputs ------------------------------------------------------------------------


def generator_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Grids, communities, streets and residential buildings (codes, names and sizes) for the party generator."""
    return {
        "grids": con.execute(
            "SELECT grid_code, community_code, street_code, district_code, coalesce(households, 0) AS households,"
            " coalesce(population, 0) AS population, name FROM grids ORDER BY grid_code"
        ).df(),
        "communities": con.execute(
            "SELECT community_code, name, street_code, district_code, coalesce(population, 0) AS population"
            " FROM communities ORDER BY community_code"
        ).df(),
        "streets": con.execute("SELECT street_code, name, district_code FROM streets ORDER BY street_code").df(),
        "buildings": con.execute(
            "SELECT building_id, grid_code, community_code, street_code, district_code, name FROM buildings"
            " WHERE residents > 0 AND grid_code IS NOT NULL ORDER BY building_id"
        ).df(),
    }
