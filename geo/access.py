"""Walking distance from every point to its nearest source, one shortest-path pass per source set.

All sources of a kind start one Dijkstra together, each from the two ends of its segment
(start cost: access distance plus the distance along the segment to that end), cut off at
``cutoff_m``; that gives every node its distance to the nearest source.  The kinds run in
parallel (:mod:`geo.paths`).  A target on segment (u, v) takes the shorter way in through u or v, or
straight along the segment when a source sits on the same one.

When no roads are loaded, :func:`straight_line_distance` is the fallback; callers label its
results as straight-line distances.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from geo.network import Attachment, WalkNetwork
from geo.paths import dijkstra_sets, target_distances

SERVICE_AREA_REACH_M = 30.0
"""Half-width of a service area around the reachable roads (the walk from road to door)."""


def _seeds(network: WalkNetwork, sources: Attachment) -> tuple[np.ndarray, np.ndarray]:
    """Start nodes and costs of a source set: both ends of each source's segment."""
    valid = sources.edge >= 0
    edge, along, offset = sources.edge[valid], sources.along_m[valid], sources.offset_m[valid]
    length = network.edge_length[edge]
    nodes = np.concatenate([network.edge_u[edge], network.edge_v[edge]])
    return nodes, np.concatenate([offset + along, offset + length - along])


def node_distances_sets(network: WalkNetwork, source_sets: list[Attachment], cutoff_m: float) -> np.ndarray:
    """(sets × nodes) distance from every node to the nearest source of each set; inf beyond ``cutoff_m``."""
    if network.n_nodes == 0:
        return np.full((len(source_sets), 0), np.inf)
    seeds = [_seeds(network, s) for s in source_sets]
    start = np.concatenate([[0], np.cumsum([len(n) for n, _ in seeds])]).astype(np.int64)
    nodes = np.concatenate([n for n, _ in seeds]).astype(np.int64) if seeds else np.zeros(0, np.int64)
    costs = np.concatenate([c for _, c in seeds]).astype(np.float64) if seeds else np.zeros(0)
    indptr, indices, weights = network.csr
    return dijkstra_sets(indptr, indices, weights, nodes, costs, start, float(cutoff_m))


def node_distances(network: WalkNetwork, sources: Attachment, cutoff_m: float) -> np.ndarray:
    """Distance from every node to the nearest source (inf beyond ``cutoff_m`` or unreachable)."""
    return node_distances_sets(network, [sources], cutoff_m)[0]


def nearest_distance(network: WalkNetwork, sources: Attachment, targets: Attachment, cutoff_m: float) -> np.ndarray:
    """Walking distance (m) from each target to its nearest source; inf beyond ``cutoff_m``."""
    return nearest_distances(network, [sources], targets, cutoff_m)[0]


def nearest_distances(
    network: WalkNetwork, source_sets: list[Attachment], targets: Attachment, cutoff_m: float
) -> np.ndarray:
    """(sets × targets) walking distance from each target to the nearest source of each set.

    All sets run in one compiled call, in parallel (one facility type per core).
    """
    out = np.full((len(source_sets), len(targets)), np.inf)
    ok = np.flatnonzero(targets.edge >= 0)
    if len(ok) == 0 or network.n_nodes == 0:
        return out
    dist = node_distances_sets(network, source_sets, cutoff_m)
    edge = targets.edge[ok]
    along = targets.along_m[ok]
    sorted_sets = []
    for sources in source_sets:
        valid = sources.edge >= 0
        order = np.argsort(sources.edge[valid], kind="stable")
        sorted_sets.append((sources.edge[valid][order], sources.along_m[valid][order], sources.offset_m[valid][order]))
    start = np.concatenate([[0], np.cumsum([len(e) for e, _, _ in sorted_sets])]).astype(np.int64)
    out[:, ok] = target_distances(
        dist,
        network.edge_u[edge],
        network.edge_v[edge],
        along,
        network.edge_length[edge] - along,
        targets.offset_m[ok],
        edge,
        np.concatenate([e for e, _, _ in sorted_sets]).astype(np.int64),
        np.concatenate([a for _, a, _ in sorted_sets]).astype(np.float64),
        np.concatenate([o for _, _, o in sorted_sets]).astype(np.float64),
        start,
        len(network.edge_u),
        float(cutoff_m),
    )
    return out


def straight_line_distance(source_xy: np.ndarray, target_xy: np.ndarray, cutoff_m: float) -> np.ndarray:
    """Crow-flies distance (m) from each target to its nearest source; inf beyond ``cutoff_m``."""
    if len(source_xy) == 0:
        return np.full(len(target_xy), np.inf)
    dist, _ = cKDTree(source_xy).query(target_xy, distance_upper_bound=cutoff_m)
    return dist


def service_area(
    network: WalkNetwork,
    sources: Attachment,
    radius_m: float,
    reach_m: float = SERVICE_AREA_REACH_M,
    source_xy: np.ndarray | None = None,
) -> shapely.Geometry:
    """The area within ``radius_m`` walk of the sources: reachable road lengths widened by ``reach_m``.

    A segment reached from one end is cut where the walk runs out; the sources' own segments are
    walked in both directions from the access point.  With ``source_xy`` the path from each source
    to the road is part of the area too.  Returned in the network's metres.
    """
    dist = node_distances(network, sources, radius_m)
    xy, u, v = network.node_xy, network.edge_u, network.edge_v
    length = network.edge_length
    pieces = []
    for start, end, d in ((u, v, dist[u]), (v, u, dist[v])):
        ok = np.isfinite(d) & (d < radius_m)
        frac = np.minimum(1.0, (radius_m - d[ok]) / np.maximum(length[ok], 1e-9))
        a, b = xy[start[ok]], xy[end[ok]]
        pieces.append(np.stack([a, a + (b - a) * frac[:, None]], axis=1))
    valid = (sources.edge >= 0) & (sources.offset_m < radius_m)
    edge = sources.edge[valid]
    left = radius_m - sources.offset_m[valid]
    a, b = xy[u[edge]], xy[v[edge]]
    seg_len = np.maximum(length[edge], 1e-9)
    lo = np.clip(sources.along_m[valid] - left, 0, seg_len) / seg_len
    hi = np.clip(sources.along_m[valid] + left, 0, seg_len) / seg_len
    pieces.append(np.stack([a + (b - a) * lo[:, None], a + (b - a) * hi[:, None]], axis=1))
    if source_xy is not None:
        foot = a + (b - a) * (sources.along_m[valid] / seg_len)[:, None]
        pieces.append(np.stack([np.asarray(source_xy, dtype=float)[valid], foot], axis=1))
    segments = np.concatenate(pieces)
    if len(segments) == 0:
        return shapely.Polygon()
    lines = shapely.linestrings(segments)
    return shapely.union_all(shapely.buffer(lines, reach_m, quad_segs=4))
