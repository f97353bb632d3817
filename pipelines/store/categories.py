"""Incident categories (事件类别): affair class, deadline (时限) and responsible department of each."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.store.meta import bump_data_version


def ensure_categories(con: duckdb.DuckDBPyConnection, names: list[str], default: tuple[str, int, str]) -> list[str]:
    """Add categories not yet known with the default affair class, deadline and department; return the new ones."""
    known = {row[0] for row in con.execute("SELECT category FROM categories").fetchall()}
    new = sorted(set(names) - known)
    if new:
        con.executemany("INSERT INTO categories VALUES (?, ?, ?, ?)", [[name, *default] for name in new])
    return new


def category_deadlines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT category, affair_class, deadline_h, department FROM categories ORDER BY category").df()


def category_rules(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, int | None]]:
    """category -> (affair class, deadline in hours): what a new report of the category is stored with."""
    return {
        name: (affair, hours)
        for name, affair, hours in con.execute("SELECT category, affair_class, deadline_h FROM categories").fetchall()
    }


def set_deadline(con: duckdb.DuckDBPyConnection, category: str, hours: int) -> bool:
    """Change a category's deadline (时限); False when the category does not exist."""
    found = con.execute("SELECT count(*) FROM categories WHERE category = ?", [category]).fetchone()[0]
    if found:
        con.execute("UPDATE categories SET deadline_h = ? WHERE category = ?", [hours, category])
    return bool(found)


def set_route(con: duckdb.DuckDBPyConnection, category: str, affair_class: str, department: str | None) -> bool:
    """Change a category's affair class (三事分流) and, when given, its department; False when it does not exist.

    New incidents of the category take the class; incidents already stored keep theirs.
    """
    found = con.execute("SELECT count(*) FROM categories WHERE category = ?", [category]).fetchone()[0]
    if found:
        con.execute(
            "UPDATE categories SET affair_class = ?, department = coalesce(?, department) WHERE category = ?",
            [affair_class, department, category],
        )
        bump_data_version(con)
    return bool(found)
