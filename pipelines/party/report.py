"""The party layer as text for the command line: the summary lines and the indicator table."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.party.indicators import indicators_for
from pipelines.store.party import (
    PARTY_TABLE_LABELS,
    in_service_count,
    member_role_counts,
    org_type_counts,
    party_counts,
)

NAME_WIDTH = 12


def summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rows per party table, organisations by type, members by role (for ``gridtwin summary``)."""
    counts = party_counts(con)
    if not any(counts.values()):
        return ["  党建引领 party building: no data (load party_orgs, party_members, … or run gridtwin generate)"]
    lines = [f"  {PARTY_TABLE_LABELS[table]:<28} {count:>12,}" for table, count in counts.items()]
    types = org_type_counts(con)
    if types:
        lines.append("  party organisations by type: " + ", ".join(f"{k} {v:,}" for k, v in types.items()))
    roles = member_role_counts(con)
    lines.append(
        f"  party members: {counts['party_members']:,}, in-service reported (在职党员报到) {in_service_count(con):,}"
        + ("; by role: " + ", ".join(f"{k} {v:,}" for k, v in roles.items()) if roles else "")
    )
    return lines


def _cell(value, indicator) -> str:
    if value is None or pd.isna(value):
        return "—"
    if indicator.percent:
        return f"{value:.1%}"
    return f"{value:,.0f}" if indicator.unit == "个" else f"{value:,.1f}"


def table_lines(table: pd.DataFrame, level: str, lang: str = "zh") -> list[str]:
    """The indicator table as aligned text: one line per unit, one column per indicator."""
    indicators = indicators_for(level)
    widths = [max(len(i.label(lang)) * 2 if lang == "zh" else len(i.label(lang)), 8) for i in indicators]
    header = f"{'code':<16}{'name':<{NAME_WIDTH}}" + "".join(
        f"{i.label(lang):>{w - (len(i.label(lang)) if lang == 'zh' else 0)}} "
        for i, w in zip(indicators, widths, strict=True)
    )
    lines = [header]
    for row in table.itertuples(index=False):
        name = str(row.name or "")
        values = "".join(f"{_cell(getattr(row, i.key), i):>{w}} " for i, w in zip(indicators, widths, strict=True))
        lines.append(f"{row.code:<16}{name:<{NAME_WIDTH - len(name)}}" + values)
    return lines
