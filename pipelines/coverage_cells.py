"""Walking time per map hexagon, for the planner's coverage map (data side; the page draws it).

A hexagon with no residents has no walking time: it is marked ``no_residents`` and its ``minutes`` is NaN, so the
map can draw it as "no residents" (grey, no colour scale) instead of as 0 minutes, which reads as well served.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def hexagon_minutes(cells: pd.DataFrame, speed_m_per_min: float) -> pd.DataFrame:
    """``cells`` (id, residents, mean_m, share) → adds ``minutes`` (NaN without residents) and ``no_residents``."""
    residents = pd.to_numeric(cells["residents"], errors="coerce").fillna(0).to_numpy(float)
    no_residents = residents <= 0
    minutes = pd.to_numeric(cells["mean_m"], errors="coerce").to_numpy(float) / speed_m_per_min
    return cells.assign(minutes=np.where(no_residents, np.nan, minutes), no_residents=no_residents)
