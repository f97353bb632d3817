"""The party-building indicators per district, street, community or grid: one query per level.

Grid facts (organisations, 小区, 楼栋长, 网格员, members serving there, residents in reach of a
党群服务中心) are counted once per grid into ``party_grid_facts`` by :func:`refresh_party_facts` (every
write path that changes them calls it) and summed up to the level; members reporting per community
likewise into ``party_community_facts``.  What depends on the reporting date (volunteer hours in the
window, agreements in force) and the small staffing table are read live.  Ratios are computed
from the sums, so a street's figure is its residents' and buildings' figure, not a mean of means.
Definitions and labels are data in :mod:`pipelines.party.indicators`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.vocabulary import LEVEL_TABLES

PARENT = {"district": None, "street": "district_code", "community": "street_code", "grid": "community_code"}
"""The code column that names a unit's parent, per level."""


FACTS_SQL = """
DELETE FROM party_grid_facts;
INSERT INTO party_grid_facts
WITH org_grid AS (SELECT DISTINCT grid_code FROM party_orgs WHERE unit_level = 'grid'),
estate_grid AS (
    SELECT grid_code, count(*) AS estates,
           count(*) FILTER (WHERE estate_id IN (SELECT unit_code FROM party_orgs WHERE unit_level = 'estate'))
               AS estates_covered
    FROM estates GROUP BY 1),
centre AS (SELECT threshold_m FROM coverage_types WHERE type = '党群服务中心'),
bld AS (
    SELECT b.grid_code, count(*) AS res_buildings, count(h.building_id) AS headed, sum(b.residents) AS residents,
           sum(b.residents) FILTER (WHERE a.distance_m <= (SELECT threshold_m FROM centre)) AS centre_reached
    FROM buildings b LEFT JOIN building_heads h USING (building_id)
         LEFT JOIN building_access a ON a.building_id = b.building_id AND a.type = '党群服务中心'
    WHERE b.residents > 0 GROUP BY 1),
heads AS (SELECT grid_code, count(*) AS heads, count(*) FILTER (WHERE party_member) AS party_heads
          FROM building_heads GROUP BY 1),
workers AS (SELECT grid_code, count(*) AS workers FROM grid_workers GROUP BY 1),
serving AS (SELECT grid_code, count(*) AS serving FROM party_members
            WHERE in_service AND reported_on IS NOT NULL GROUP BY 1)
SELECT g.grid_code, g.community_code, g.street_code, g.district_code,
       coalesce(g.population, 0), coalesce(g.households, 0), (o.grid_code IS NOT NULL)::INTEGER,
       coalesce(e.estates, 0), coalesce(e.estates_covered, 0), coalesce(b.res_buildings, 0), coalesce(b.headed, 0),
       coalesce(h.heads, 0), coalesce(h.party_heads, 0), coalesce(w.workers, 0), coalesce(s.serving, 0),
       coalesce(b.residents, 0), coalesce(b.centre_reached, 0), EXISTS (SELECT 1 FROM centre)
FROM grids g LEFT JOIN org_grid o USING (grid_code) LEFT JOIN estate_grid e USING (grid_code)
     LEFT JOIN bld b USING (grid_code) LEFT JOIN heads h USING (grid_code) LEFT JOIN workers w USING (grid_code)
     LEFT JOIN serving s USING (grid_code);
DELETE FROM party_community_facts;
INSERT INTO party_community_facts
SELECT community_code, count(*) FROM party_members WHERE in_service AND reported_on IS NOT NULL GROUP BY 1;
"""


def refresh_party_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Recount the per-grid and per-community facts (after any write to the party tables, buildings,
    grid workers or the coverage results)."""
    con.execute(FACTS_SQL)


def indicator_rows(
    con: duckdb.DuckDBPyConnection,
    level: str,
    parent: str | None,
    as_of: dt.date,
    standards: dict[str, float],
) -> pd.DataFrame:
    """One row per unit of ``level`` (within ``parent``, a code of the level above; None = all)."""
    table, column = LEVEL_TABLES[level]
    parent_column = PARENT[level] or column
    where = f"($parent IS NULL OR {{t}}.{parent_column} = $parent)"
    community_facts = level != "grid"
    upper = column if community_facts else "community_code"  # grids have no community-level facts
    params = {
        "parent": parent,
        "as_of": as_of,
        "window_days": int(standards.get("volunteer_window_days", 30)),
        "min_staff": standards.get("min_paid_staff", 4),
        "sw_standard": standards.get("social_workers_per_10k", 18),
    }
    sql = f"""
    WITH vol AS (
        SELECT {column} AS code, sum(hours) AS hours FROM volunteer_hours v
        WHERE served_on > $as_of - to_days($window_days) AND served_on <= $as_of AND {where.format(t="v")}
        GROUP BY 1),
    area AS (
        SELECT {column} AS code, count(*) AS grids, sum(population) AS population, sum(households) AS households,
               sum(grid_has_org) AS grids_with_org, sum(estates) AS estates, sum(estates_covered) AS estates_covered,
               sum(res_buildings) AS res_buildings, sum(headed) AS headed, sum(heads) AS heads,
               sum(party_heads) AS party_heads, sum(workers) AS workers, sum(serving) AS serving,
               sum(residents) AS residents, sum(centre_reached) AS centre_reached, bool_or(centre_measured) AS measured
        FROM party_grid_facts f WHERE {where.format(t="f")} GROUP BY 1),
    comm AS (
        SELECT c.{upper} AS code, sum(coalesce(r.registered, 0)) AS registered,
               sum(s.social_workers) AS social_workers, count(s.community_code) AS staffed_rows,
               count(*) FILTER (WHERE s.paid_staff < $min_staff) AS understaffed
        FROM communities c LEFT JOIN party_community_facts r USING (community_code)
             LEFT JOIN social_workers s USING (community_code)
        WHERE {community_facts} AND {where.format(t="c")} GROUP BY 1),
    partner AS (
        SELECT {upper} AS code, count(*) AS partners FROM partners p
        WHERE {community_facts} AND signed_on <= $as_of AND (expires_on IS NULL OR expires_on >= $as_of)
              AND {where.format(t="p")} GROUP BY 1)
    SELECT a.code, u.name, a.grids, a.population, a.households, a.estates, a.res_buildings, a.heads,
           a.grids_with_org / a.grids AS grid_org_coverage,
           a.estates_covered / nullif(a.estates, 0) AS estate_org_coverage,
           a.headed / nullif(a.res_buildings, 0) AS head_coverage,
           a.party_heads / nullif(a.heads, 0) AS party_head_share,
           1000.0 * (CASE WHEN {community_facts} THEN coalesce(m.registered, 0) ELSE a.serving END)
               / nullif(a.population, 0) AS in_service_per_1000,
           a.workers / a.grids AS workers_per_grid,
           a.households / nullif(a.workers, 0) AS households_per_worker,
           CASE WHEN m.staffed_rows > 0 THEN 10000.0 * m.social_workers / nullif(a.population, 0) END
               AS social_workers_per_10k,
           CASE WHEN m.staffed_rows > 0 THEN ceil($sw_standard * a.population / 10000.0) - m.social_workers END
               AS social_worker_shortfall,
           CASE WHEN {community_facts} THEN coalesce(m.understaffed, 0) END AS understaffed_communities,
           1000.0 * coalesce(v.hours, 0) / nullif(a.population, 0) AS volunteer_hours_per_1000,
           CASE WHEN {community_facts} THEN coalesce(p.partners, 0) END AS partners,
           CASE WHEN a.measured THEN a.centre_reached / nullif(a.residents, 0) END AS centre_coverage
    FROM area a LEFT JOIN comm m USING (code) LEFT JOIN partner p USING (code) LEFT JOIN vol v USING (code)
         LEFT JOIN {table} u ON u.{column} = a.code
    ORDER BY a.code
    """
    return con.execute(sql, params).df()
