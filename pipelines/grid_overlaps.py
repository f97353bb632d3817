"""Grids must not overlap: a polygon that covers part of other grids would take their buildings and incidents.

A grid is refused when its overlap with the other grids (already stored, or in the same file) is more than
:data:`OVERLAP_SHARE` of its own area and more than :data:`OVERLAP_M2` — the tolerance absorbs digitising seams
along shared borders.  A grid that replaces a stored grid of the same code is compared with the others only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.network import LocalFrame
from pipelines.store.areas import grid_frame
from pipelines.store.rows import geometries

OVERLAP_SHARE = 0.01
OVERLAP_M2 = 10.0


def overlap_reasons(codes: np.ndarray, geoms: np.ndarray, stored_codes: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Per new grid: "" or the reason naming the grids it overlaps beyond the tolerance."""
    reasons = np.full(len(geoms), "", dtype=object)
    keep = ~np.isin(stored_codes, codes)  # a grid reloaded under its own code replaces itself
    all_codes = np.concatenate([codes.astype(object), stored_codes[keep].astype(object)])
    everything = np.concatenate([geoms, stored[keep]])
    present = ~shapely.is_missing(everything) & ~shapely.is_empty(everything)
    if len(geoms) == 0 or present.sum() < 2:
        return reasons
    frame = LocalFrame.around(*shapely.get_coordinates(everything[present]).T)
    local = np.full(len(everything), None, dtype=object)
    local[present] = frame.geoms_to_xy(everything[present])
    tree = shapely.STRtree(local)
    new_index = np.flatnonzero(present[: len(geoms)])
    left, right = tree.query(local[new_index], predicate="intersects")
    left = new_index[left]
    other = left != right
    left, right = left[other], right[other]
    if not len(left):
        return reasons
    shared = shapely.area(shapely.intersection(local[left], local[right]))
    pairs = pd.DataFrame({"grid": left, "other": all_codes[right], "m2": shared})
    pairs = pairs[pairs["m2"] > 0.01]
    totals = pairs.groupby("grid")["m2"].sum()
    own = shapely.area(local[totals.index.to_numpy()])
    tolerance = np.maximum(OVERLAP_SHARE * own, OVERLAP_M2)
    for grid, m2, area, limit in zip(totals.index, totals.to_numpy(), own, tolerance, strict=True):
        if m2 > limit:
            named = pairs[pairs["grid"] == grid].sort_values("m2", ascending=False)
            listed = ", ".join(f"{c} ({a:,.0f} m²)" for c, a in zip(named["other"], named["m2"], strict=True))
            reasons[grid] = (
                f"overlaps other grids by {m2:,.0f} m² ({m2 / max(area, 1e-9):.1%} of "
                f"its area): {listed}; fix the polygon (grids must not overlap) and load it again"
            )
    return reasons


def reject_overlaps(con, frame: pd.DataFrame, problems: pd.Series) -> None:
    """Grids of a load overlapping stored grids or each other beyond the tolerance become rejects (in place)."""
    ok = (problems == "").to_numpy(bool)
    stored = grid_frame(con)
    reasons = overlap_reasons(
        frame["grid_code"].to_numpy(dtype=object)[ok],
        frame["geometry"].to_numpy(dtype=object)[ok],
        stored["grid_code"].to_numpy(dtype=object),
        geometries(stored["geometry"]),
    )
    problems.iloc[np.flatnonzero(ok)[reasons != ""]] = reasons[reasons != ""]
