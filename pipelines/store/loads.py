"""The load log and its quarantine: one ``loads`` row per file loaded, one ``rejects`` row per row refused."""

from __future__ import annotations

import duckdb
import pandas as pd


def new_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('load_seq')").fetchone()[0]


def record_load(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    con.execute(
        "INSERT INTO loads VALUES ($load_id, $kind, $source_file, $file_sha256, $crs, now()::TIMESTAMP,"
        " $rows_in, $rows_loaded, $rows_rejected, $rows_repaired)",
        values,
    )


def clear_rejects(con: duckdb.DuckDBPyConnection, kind: str, file_sha256: str) -> None:
    """A reload of the same file replaces its earlier rejects instead of piling them up."""
    con.execute("DELETE FROM rejects WHERE kind = ? AND file_sha256 = ?", [kind, file_sha256])


def rejects_frame(con: duckdb.DuckDBPyConnection, kind: str | None = None, limit: int = 50) -> pd.DataFrame:
    return con.execute(
        "SELECT load_id, kind, source_file, row_number, record_id, reason FROM rejects"
        " WHERE ? IS NULL OR kind = ? ORDER BY load_id DESC, row_number LIMIT ?",
        [kind, kind, limit],
    ).df()
