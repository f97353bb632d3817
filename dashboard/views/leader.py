"""The leader view's view model: the ranking of streets or communities, and its export."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.exports import csv_bytes, xlsx_bytes
from dashboard.i18n import t

RANK_WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
RANK_LEVELS = ("street", "community")
RANK_COLUMNS = (
    ("name", "col_name"),
    ("code", "col_code"),
    ("population", "population"),
    ("incidents", "col_incidents"),
    ("per_1000", "col_per_1000"),
    ("closure_rate", "col_closure"),
    ("overdue", "col_overdue"),
    ("handling_h", "col_handling"),
    ("satisfaction", "col_satisfaction"),
)


def ranking_rows(data, level: str, code: str | None, child: str, window: str) -> list[dict]:
    since = data.clock() - RANK_WINDOWS.get(window, RANK_WINDOWS["7d"])
    return data.live.ranking(level, code, child, since).to_dict("records")


def export(rows: list[dict] | None, child: str, lang: str, stamp: str, excel: bool) -> tuple[bytes, str]:
    """(content, file name) of the table as shown, with the column names in the page's language."""
    frame = pd.DataFrame(rows or [], columns=[key for key, _ in RANK_COLUMNS])
    frame.columns = [t(label, lang) for _, label in RANK_COLUMNS]
    name = f"gridtwin-{child}-{stamp}"
    if excel:
        return xlsx_bytes(frame, child), f"{name}.xlsx"
    return csv_bytes(frame), f"{name}.csv"
