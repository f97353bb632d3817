"""Residents of a building, when the file does not count them.

In order, per building:

1. ``residents`` (mapped from a population column, e.g. ``--map residents=人口``) as given;
2. ``households`` × :data:`PERSONS_PER_HOUSEHOLD`;
3. floor area × persons per m² for its use, where floor area = footprint area × floors and floors come from
   ``floors`` (also read from ``building:levels``), else ``height_m`` / :data:`STOREY_HEIGHT_M` (rounded,
   at least 1), else 1.  Persons per m² by use: :data:`DENSITY` (residential 1/40 m², mixed half of it,
   unknown use as residential, everything else 0), tunable per use class or per use value with
   ``--density USE=PERSONS_PER_M2``.

A point building (no footprint) has no floor area: it counts only through (1) or (2), else its residents are
unknown (stored empty, 0 in coverage) and the load summary says how many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PERSONS_PER_HOUSEHOLD = 2.6
STOREY_HEIGHT_M = 3.0
DENSITY: dict[str, float] = {"residential": 1 / 40, "mixed": 1 / 80, "unknown": 1 / 40, "other": 0.0}
"""Persons per m² of floor area by use class (1/40: the 40 m² per resident of Chinese housing statistics)."""

RESIDENTIAL_USES = frozenset(
    [
        "住宅",
        "居住",
        "住宅楼",
        "居民楼",
        "公寓",
        "宿舍",
        "别墅",
        "residential",
        "apartments",
        "apartment",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
        "cabin",
        "houseboat",
        "static_caravan",
        "farm",
    ]
)
MIXED_USES = frozenset(["商住", "商住楼", "综合", "mixed", "mixed_use"])
UNKNOWN_USES = frozenset(["yes", "building", "建筑", "其他", "unknown"])
"""OSM ``building=yes`` says only that it is a building."""


def use_class(use: pd.Series) -> pd.Series:
    text = use.astype("string").str.strip().str.lower()
    cls = pd.Series("other", index=use.index, dtype=object)
    cls[text.isin(RESIDENTIAL_USES).to_numpy(bool)] = "residential"
    cls[text.isin(MIXED_USES).to_numpy(bool)] = "mixed"
    cls[(text.isna() | text.isin(UNKNOWN_USES)).to_numpy(bool)] = "unknown"
    return cls


def floors_of(frame: pd.DataFrame) -> pd.Series:
    from_height = (frame["height_m"].astype("Float64") / STOREY_HEIGHT_M).round().clip(lower=1)
    return frame["floors"].astype("Float64").fillna(from_height).fillna(1)


def estimate(frame: pd.DataFrame, footprint_m2: np.ndarray, densities: dict[str, float]) -> tuple[pd.Series, dict]:
    """Residents per building (Int64, NA when unknown) and how many came from which rule."""
    table = {**DENSITY, **densities}
    cls = use_class(frame["use"])
    density = cls.map(table).astype(float)
    text = frame["use"].astype("string").str.strip().str.lower()
    own = text.map({k.lower(): v for k, v in densities.items() if k not in DENSITY})
    density = own.astype("Float64").fillna(density)
    by_area = pd.Series(footprint_m2, index=frame.index).astype("Float64") * floors_of(frame) * density
    given = frame["residents"].astype("Float64")
    from_households = frame["households"].astype("Float64") * PERSONS_PER_HOUSEHOLD
    residents = given.fillna(from_households).fillna(by_area).round()
    counts = {
        "given": int(given.notna().sum()),
        "households": int((given.isna() & from_households.notna()).sum()),
        "area": int((given.isna() & from_households.isna() & by_area.notna()).sum()),
        "unknown": int(residents.isna().sum()),
    }
    return residents.astype("Int64"), counts
