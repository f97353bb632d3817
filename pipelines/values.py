"""Value mapping: what a file's words mean in our vocabulary.

``--value COLUMN:SOURCE=TARGET`` (repeatable) or ``--values FILE`` (one such line per row, ``#`` comments) map a
column's values; SOURCE is matched case-insensitively after trimming, an empty TARGET means "no value".  Status
words common in 12345/311 exports are known by default (:data:`STATUS_WORDS`), and English or OpenStreetMap
facility words (kindergarten, clinic, …) map to the standard facility types (:data:`FACILITY_WORDS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import LoadError
from pipelines.vocabulary import STATUS_ALIASES

STATUS_WORDS: dict[str, str | None] = {
    **STATUS_ALIASES,
    # English 311 exports (Open311, Socrata, SeeClickFix …)
    "pending": "reported",
    "submitted": "reported",
    "received": "accepted",
    "in review": "accepted",
    "assigned": "dispatched",
    "started": "in_progress",
    "in-progress": "in_progress",
    "work in progress": "in_progress",
    "open - in progress": "in_progress",
    "closed": "resolved",
    "completed": "resolved",
    "complete": "resolved",
    "done": "resolved",
    "fixed": "resolved",
    # Chinese 12345 / 数字城管 words
    "待处理": "reported",
    "待受理": "reported",
    "已签收": "accepted",
    "待派单": "accepted",
    "待处置": "dispatched",
    "处置中": "in_progress",
    "已处置": "resolved",
    "已结案": "resolved",
    "结案": "resolved",
    "已关闭": "resolved",
    # no status at all: taken from resolved_at (办结 when it has one)
    "unspecified": None,
    "unknown": None,
    "n/a": None,
    "未知": None,
}
"""Lower-case word → our status code (None: no status given)."""

FACILITY_WORDS: dict[str, str] = {
    "kindergarten": "幼儿园",
    "childcare": "幼儿园",
    "clinic": "社区卫生服务站",
    "doctors": "社区卫生服务站",
    "community_health_center": "社区卫生服务站",
    "social_facility": "养老服务站",
    "nursing_home": "养老服务站",
    "elderly_care": "养老服务站",
    "community_centre": "文体活动站",
    "community_center": "文体活动站",
    "marketplace": "菜市场",
    "market": "菜市场",
    "convenience": "便利店",
    "convenience_store": "便利店",
    "primary_school": "小学",
    "school": "小学",
    "party_service_center": "党群服务中心",
}
"""English and OpenStreetMap words for the standard facility types (an OSM ``school`` is counted as 小学)."""

DEFAULTS: dict[str, dict[str, dict[str, str | None]]] = {
    "incidents": {"status": STATUS_WORDS},
    "facilities": {"type": FACILITY_WORDS},
}


def parse_value_items(items: list[str], where: str = "--value") -> dict[str, dict[str, str | None]]:
    """``COLUMN:SOURCE=TARGET`` items → {column: {source (lower case): target or None}}."""
    values: dict[str, dict[str, str | None]] = {}
    errors = []
    for item in items:
        column, colon, rest = item.partition(":")
        source, equals, target = rest.rpartition("=")
        if not colon or not equals or not column.strip() or not source.strip():
            errors.append(f"{where} {item!r}")
            continue
        values.setdefault(column.strip(), {})[source.strip().lower()] = target.strip() or None
    if errors:
        raise LoadError(f"{', '.join(errors)}: write it as COLUMN:SOURCE=TARGET, e.g. --value status:Pending=reported")
    return values


def read_value_file(path: str | Path) -> dict[str, dict[str, str | None]]:
    """A mapping file: one ``COLUMN:SOURCE=TARGET`` per line; blank lines and ``#`` comments are skipped."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"value mapping file not found: {path}")
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    return parse_value_items([line for line in lines if line], where=f"{path.name}:")


def merge_values(*maps: dict[str, dict[str, str | None]]) -> dict[str, dict[str, str | None]]:
    merged: dict[str, dict[str, str | None]] = {}
    for mapping in maps:
        for column, pairs in mapping.items():
            merged.setdefault(column, {}).update(pairs)
    return merged


def map_values(series: pd.Series, pairs: dict[str, str | None]) -> tuple[pd.Series, np.ndarray]:
    """Mapped values (unmapped ones unchanged) and a mask of the rows a pair matched."""
    key = series.astype("string").str.strip().str.lower()
    hit = key.isin(list(pairs)).to_numpy(bool)
    if not hit.any():
        return series, hit
    mapped = key.map(pairs)
    return series.where(~hit, mapped), hit


def apply_values(frame: pd.DataFrame, kind_name: str, user: dict[str, dict[str, str | None]]) -> pd.DataFrame:
    """User mappings first, then the defaults of the kind, on the columns the frame has."""
    frame = frame.copy()
    unknown = [c for c in user if c not in frame.columns]
    if unknown:
        raise LoadError(
            f"--value for {', '.join(unknown)}: no such {kind_name} column (ours: {', '.join(frame.columns)})"
        )
    for column, pairs in merge_values(DEFAULTS.get(kind_name, {}), user).items():
        if column in frame.columns:
            frame[column], _ = map_values(frame[column], pairs)
    return frame


def unknown_values_line(column: str, values: pd.Series, allowed: str, example_target: str) -> str:
    """One line listing unknown values with counts and the --value line that maps them."""
    counts = values.value_counts()
    shown = ", ".join(f"{value!r} ×{count:,}" for value, count in counts.head(8).items())
    more = f" and {len(counts) - 8} more" if len(counts) > 8 else ""
    first = counts.index[0]
    return (
        f"unknown {column} values: {shown}{more} (ours: {allowed}); map them with "
        f"--value '{column}:{first}={example_target}' (repeat per value, or --values FILE)"
    )
