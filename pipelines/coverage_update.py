"""Incremental coverage: one facility type again on the stored network, when only its facilities changed.

A full run (:func:`pipelines.coverage.compute_coverage`) builds the walking network and joins every
building to it; neither depends on the facilities.  :func:`recompute_type` reuses both from a
:class:`~pipelines.coverage.PlannerModel` (the stored network, loaded once and cached by the caller),
joins the type's current facilities (plus optional hypothetical sites) to the network, runs the one
shortest-path pass of that type and, unless asked only to compute, stores that type's distances (only the
rows that changed), its facility links and its summary row.  The distances are those a full run gives on the
same network (same kernel, same links).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from geo.access import nearest_distance, straight_line_distance
from geo.network import attach
from pipelines import store
from pipelines.coverage import PlannerModel, load_planner
from pipelines.errors import GridtwinError
from pipelines.store.coverage import replace_type_access, stored_type_access, type_facilities, type_standard
from pipelines.store.meta import bump_data_version


@dataclass
class TypeUpdate:
    """The result of :func:`recompute_type` for one facility type."""

    kind: str
    distance_m: np.ndarray
    """Per building of the planner model (its row order): walking metres to the nearest facility, inf if none
    within the search distance."""
    threshold_m: float
    covered_share: float
    """Share of residents within ``threshold_m``."""
    facilities: int
    stored: bool
    seconds: float
    timings_s: dict[str, float] = field(default_factory=dict)
    """Seconds per step (read, compute, compare, store) and ``rows_written``."""


def recompute_type(
    con,
    kind: str,
    planner: PlannerModel | None = None,
    extra_lon: np.ndarray | None = None,
    extra_lat: np.ndarray | None = None,
    write: bool = True,
) -> TypeUpdate:
    """Distances from every building to facility type ``kind`` on the stored network, without rebuilding it.

    ``planner``: the model of the latest run (:func:`~pipelines.coverage.load_planner`; pass a cached one,
    loading it is the slow part at city scale).  ``extra_lon``/``extra_lat``: hypothetical sites (WGS84) added
    to the type's facilities, e.g. a clicked point or suggested sites.  ``write``: store the result (the
    type's ``building_access`` rows, its facility links and its ``coverage_types`` row, in one transaction);
    with hypothetical sites nothing is stored, whatever ``write`` says.  Call after the facilities of
    ``kind`` changed in the database, or to test sites.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    planner = planner if planner is not None else load_planner(con)
    if planner is None:
        raise GridtwinError("no coverage computed yet: run `gridtwin coverage --db PATH` once first")
    facilities = type_facilities(con, kind)
    standard = type_standard(con, kind)
    if standard is None:
        raise GridtwinError(f"unknown facility type {kind}: it has no service standard and no facility loaded")
    threshold_m, cutoff_m, speed = standard["threshold_m"], standard["cutoff_m"], standard["speed"]
    x, y = planner.frame.to_xy(facilities["lon"].to_numpy(float), facilities["lat"].to_numpy(float))
    hypothetical = extra_lon is not None and len(extra_lon) > 0
    if hypothetical:
        ex, ey = planner.frame.to_xy(np.asarray(extra_lon, float), np.asarray(extra_lat, float))
        x, y = np.concatenate([x, ex]), np.concatenate([y, ey])
    search_m = max(cutoff_m, threshold_m)
    timings["read"] = time.perf_counter() - started
    mark = time.perf_counter()
    links = None
    if planner.network is None:
        dist = straight_line_distance(np.column_stack([x, y]), planner.buildings[["x", "y"]].to_numpy(), search_m)
    else:
        links = attach(planner.network, x, y)
        dist = nearest_distance(planner.network, links, planner.building_links, search_m)
    residents = planner.buildings["residents"].to_numpy(float)
    covered = float(residents[dist <= threshold_m].sum() / max(residents.sum(), 1))
    timings["compute"] = time.perf_counter() - mark
    stored = write and not hypothetical
    if stored:
        mark = time.perf_counter()
        _store(con, kind, planner, dist, speed, facilities["facility_id"], links, timings)
        timings["store"] = time.perf_counter() - mark
    return TypeUpdate(kind, dist, threshold_m, covered, len(x), stored, time.perf_counter() - started, timings)


def _store(con, kind: str, planner: PlannerModel, dist: np.ndarray, speed: float, ids: pd.Series, links, timings):
    """Write what changed: the buildings whose distance differs from the stored one (compared in numpy, so a
    moved facility rewrites the few thousand rows around it, not a million), the facility links, the summary."""
    mark = time.perf_counter()
    present, old = stored_type_access(con, kind, planner.building_ids)
    same = (old == dist) | (np.isnan(old) & ~np.isfinite(dist))
    changed = np.flatnonzero(~(present & same))
    whole = not present.any()  # never stored: every row is new
    timings["compare"] = time.perf_counter() - mark
    part = dist[changed]
    access = pa.table(
        {
            "building_id": planner.building_ids.take(pa.array(changed)),
            "type": pa.repeat(pa.scalar(kind), len(changed)),
            "distance_m": pa.array(part, mask=~np.isfinite(part)),
            "minutes": pa.array(part / speed, mask=~np.isfinite(part)),
        }
    )
    facility_links = None if links is None else _facility_links(ids, links)
    with store.transaction(con):
        replace_type_access(
            con, kind, len(ids), access, facility_links, whole=whole, new_rows=bool((~present[changed]).any())
        )
        bump_data_version(con)
    timings["rows_written"] = float(len(changed))


def _facility_links(ids: pd.Series, links) -> pa.Table:
    return pa.table(
        {
            "kind": pa.repeat(pa.scalar("facility"), len(ids)),
            "item_id": pa.array(ids.astype(str).to_numpy(object), pa.string()),
            "edge_id": links.edge.astype(np.int32),
            "along_m": links.along_m,
            "offset_m": links.offset_m,
        }
    )
