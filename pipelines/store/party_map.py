"""The party-building family on a map (红色地图): where organisations sit, which buildings have a 楼栋长.

An organisation has no coordinates of its own: it is drawn at the centre of the unit it sits in
(a building, a grid, a street or a community; a 小区 at its grid's centre, shifted a little east so
that it does not hide the grid's branch).  Names and phones come whole; the caller masks them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.vocabulary import LEVEL_TABLES

ORG_UNITS_SHOWN = {
    "city": ("street",),
    "district": ("street", "community"),
    "street": ("street", "community", "grid"),
    "community": ("community", "grid", "estate", "building"),
    "grid": ("grid", "estate", "building"),
}
"""Which organisations a map of each level draws: two levels down at most, so a district map stays light (the
city: its streets' organisations, all of them, rather than an arbitrary first 5,000 of the communities')."""
ESTATE_SHIFT_DEG = 0.0006
MAX_POINTS = 5000


def _within(level: str, code: str | None, alias: str) -> tuple[str, list]:
    if level == "city" or code is None:
        return "TRUE", []
    return f"{alias}.{LEVEL_TABLES[level][1]} = ?", [code]


def org_points(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    """org_id, name, type, unit_level, unit_code, secretary_name, secretary_phone, members, lon, lat."""
    where, params = _within(level, code, "o")
    return con.execute(
        f"""
        WITH o AS (
            SELECT org_id, name, type, unit_level, unit_code, grid_code, secretary_name, secretary_phone, members
            FROM party_orgs o WHERE {where} AND list_contains(?::VARCHAR[], unit_level) ORDER BY org_id LIMIT ?),
        place AS (
            SELECT o.org_id, b.lon, b.lat FROM o JOIN buildings b ON b.building_id = o.unit_code
            WHERE o.unit_level = 'building'
            UNION ALL SELECT o.org_id, g.lon, g.lat FROM o JOIN grids g ON g.grid_code = o.unit_code
            WHERE o.unit_level = 'grid'
            UNION ALL SELECT o.org_id, g.lon + {ESTATE_SHIFT_DEG}, g.lat FROM o JOIN grids g ON g.grid_code = o.grid_code
            WHERE o.unit_level = 'estate'
            UNION ALL SELECT o.org_id, c.lon, c.lat FROM o JOIN communities c ON c.community_code = o.unit_code
            WHERE o.unit_level = 'community'
            UNION ALL SELECT o.org_id, s.lon, s.lat FROM o JOIN streets s ON s.street_code = o.unit_code
            WHERE o.unit_level = 'street')
        SELECT o.org_id, o.name, o.type, o.unit_level, o.unit_code, o.secretary_name, o.secretary_phone, o.members,
               place.lon, place.lat
        FROM o JOIN place USING (org_id) ORDER BY o.org_id
        """,
        [*params, list(ORG_UNITS_SHOWN[level]), MAX_POINTS],
    ).df()


def unit_orgs(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    """The organisations sitting in the unit itself (a street's 大工委, a grid's 网格党支部 …)."""
    return con.execute(
        "SELECT org_id, name, type, secretary_name, secretary_phone, members FROM party_orgs"
        " WHERE unit_level = ? AND unit_code = ? ORDER BY org_id",
        [level, code],
    ).df()


def head_buildings(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    """Residential buildings of a unit with their 楼栋长 (name NULL: none): building_id, name, lon, lat,
    residents, head_name, head_phone, party_member."""
    where, params = _within(level, code, "b")
    return con.execute(
        f"""
        SELECT b.building_id, coalesce(b.name, b.building_id) AS name, b.lon, b.lat, b.residents,
               h.name AS head_name, h.phone AS head_phone, coalesce(h.party_member, false) AS party_member
        FROM buildings b LEFT JOIN building_heads h USING (building_id)
        WHERE {where} AND b.residents > 0 AND b.lon IS NOT NULL
        ORDER BY b.building_id LIMIT ?
        """,
        [*params, MAX_POINTS],
    ).df()
