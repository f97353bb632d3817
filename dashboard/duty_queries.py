"""The wall's left column below the KPI tiles: open incidents by affair class (公事/家事/共事) and the unit's
grid workers.  Small reads beside the command center's other queries (``dashboard.queries``)."""

from __future__ import annotations

from collections import Counter

import duckdb
import pandas as pd

from dashboard.queries import unit_filter


def open_by_affair(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    """Open incidents of a unit per affair class of their category (``affair_class``, ``n``): counted per
    category first, so the join with ``categories`` is of a few dozen rows, not of every open incident."""
    where, params = unit_filter(level, code, "o.")
    return con.execute(
        f"""
        WITH o AS (SELECT o.category, count(*) AS n FROM open_incidents o WHERE {where} GROUP BY 1)
        SELECT coalesce(c.affair_class, '') AS affair_class, sum(o.n)::BIGINT AS n
        FROM o LEFT JOIN categories c ON c.category = o.category GROUP BY 1 ORDER BY 1
        """,
        params,
    ).df()


def affair_classes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each category's affair class ('' where it has none)."""
    return dict(con.execute("SELECT category, coalesce(affair_class, '') FROM categories").fetchall())


def affair_counts(categories: pd.Series, classes: dict[str, str]) -> pd.DataFrame:
    """:func:`open_by_affair` of open incidents already fetched (their ``categories``): the same frame, counted
    here (a street's, community's or grid's side panels have its open incidents in hand; a few hundred rows,
    counted per category first like the SQL)."""
    per_class: Counter = Counter()
    for category, n in Counter(categories.tolist()).items():
        per_class[classes.get(category) or ""] += n
    kinds = sorted(per_class)
    return pd.DataFrame(
        {"affair_class": pd.Series(kinds, dtype=object), "n": pd.Series([per_class[k] for k in kinds], dtype="int64")}
    )


def workers_on_duty(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> tuple[int, int]:
    """(grid workers, grids) of a unit: the people the grids put on the ground."""
    where, params = unit_filter(level, code, "g.")
    workers, grids = con.execute(
        f"""
        SELECT (SELECT count(*) FROM grid_workers w JOIN grids g USING (grid_code) WHERE {where}),
               (SELECT count(*) FROM grids g WHERE {where})
        """,
        params + params,
    ).fetchone()
    return int(workers), int(grids)
