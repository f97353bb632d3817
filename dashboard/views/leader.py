"""The leader view's view model: the ranking of streets or communities, and its export."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.components.tiles import table_column
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


RANK_DECIMALS = {"population": 0, "incidents": 0, "per_1000": 1, "closure_rate": 1, "overdue": 0, "handling_h": 1}
RANK_DECIMALS["satisfaction"] = 2
"""Decimals of each number in the ranking, the same on the screen and in the exports."""


def ranking_columns(lang: str) -> list[dict]:
    """The ranking's columns: numbers right-aligned with thousands separators and fixed decimals."""
    return [table_column(key, t(label, lang), RANK_DECIMALS.get(key)) for key, label in RANK_COLUMNS]


def ranking_rows(data, level: str, code: str | None, child: str, window: str) -> list[dict]:
    since = data.clock() - RANK_WINDOWS.get(window, RANK_WINDOWS["7d"])
    return data.live.ranking(level, code, child, since).to_dict("records")


def export(rows: list[dict] | None, child: str, lang: str, stamp: str, excel: bool) -> tuple[bytes, str]:
    """(content, file name) of the table as shown, with the column names in the page's language."""
    frame = pd.DataFrame(rows or [], columns=[key for key, _ in RANK_COLUMNS])
    frame.columns = [t(label, lang) for _, label in RANK_COLUMNS]
    decimals = {t(label, lang): RANK_DECIMALS[key] for key, label in RANK_COLUMNS if key in RANK_DECIMALS}
    name = f"gridtwin-{child}-{stamp}"
    if excel:
        return xlsx_bytes(frame, child, decimals), f"{name}.xlsx"
    return csv_bytes(frame, decimals), f"{name}.csv"
