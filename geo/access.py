"""Walking distance from every point to its nearest source, one shortest-path pass per source set.

All sources of a kind become one *virtual source node* joined to the two ends of each
source's segment (weights: access distance plus the distance along the segment to that end).
One Dijkstra from the virtual node, cut off at ``cutoff_m``, then gives every node its distance
to the nearest source; a target on segment (u, v) takes the shorter way in through u or v, or
straight along the segment when a source sits on the same one.

When no roads are loaded, :func:`straight_line_distance` is the fallback; callers label its
results as straight-line distances.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from geo.network import Attachment, WalkNetwork

SERVICE_AREA_REACH_M = 30.0
"""Half-width of a service area around the reachable roads (the walk from road to door)."""


def node_distances(network: WalkNetwork, sources: Attachment, cutoff_m: float) -> np.ndarray:
    """Distance from every node to the nearest source (inf beyond ``cutoff_m`` or unreachable)."""
    n = network.n_nodes
    valid = sources.edge >= 0
    edge, along, offset = sources.edge[valid], sources.along_m[valid], sources.offset_m[valid]
    if n == 0 or len(edge) == 0:
        return np.full(n, np.inf)
    length = network.edge_length[edge]
    seed_node = np.concatenate([network.edge_u[edge], network.edge_v[edge]])
    seed_cost = np.concatenate([offset + along, offset + length - along])
    best = np.full(n, np.inf)
    np.minimum.at(best, seed_node, seed_cost)
    seeded = np.flatnonzero(np.isfinite(best))
    rows, cols, weights = network.adjacency
    rows = np.concatenate([rows, np.full(len(seeded), n)])
    cols = np.concatenate([cols, seeded])
    # zero weights would read as "no edge" in a sparse matrix: a source exactly on a node costs 1 µm
    weights = np.maximum(np.concatenate([weights, best[seeded]]), 1e-6)
    graph = sparse.csr_matrix((weights, (rows, cols)), shape=(n + 1, n + 1))
    graph.sum_duplicates()  # parallel segments were removed when the network was built
    dist = csgraph.dijkstra(graph, directed=True, indices=n, limit=cutoff_m)
    return dist[:n]


def nearest_distance(network: WalkNetwork, sources: Attachment, targets: Attachment, cutoff_m: float) -> np.ndarray:
    """Walking distance (m) from each target to its nearest source; inf beyond ``cutoff_m``."""
    dist = node_distances(network, sources, cutoff_m)
    out = np.full(len(targets), np.inf)
    ok = targets.edge >= 0
    if not ok.any() or len(dist) == 0:
        return out
    edge = targets.edge[ok]
    length = network.edge_length[edge]
    via_u = dist[network.edge_u[edge]] + targets.along_m[ok]
    via_v = dist[network.edge_v[edge]] + length - targets.along_m[ok]
    best = np.minimum(via_u, via_v) + targets.offset_m[ok]
    best = np.minimum(best, _same_segment(sources, targets.take(np.flatnonzero(ok))))
    best[best > cutoff_m] = np.inf
    out[ok] = best
    return out


def _same_segment(sources: Attachment, targets: Attachment) -> np.ndarray:
    """Distance straight along the segment to a source on the same segment (inf when none)."""
    valid = sources.edge >= 0
    order = np.argsort(sources.edge[valid], kind="stable")
    edge = sources.edge[valid][order]
    along, offset = sources.along_m[valid][order], sources.offset_m[valid][order]
    lo = np.searchsorted(edge, targets.edge, "left")
    count = np.searchsorted(edge, targets.edge, "right") - lo
    rows = np.repeat(np.arange(len(targets)), count)
    pos = lo[rows] + np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    out = np.full(len(targets), np.inf)
    np.minimum.at(out, rows, np.abs(targets.along_m[rows] - along[pos]) + offset[pos] + targets.offset_m[rows])
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
