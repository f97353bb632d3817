"""Compiled shortest paths (numba): multi-source Dijkstra with start costs, several source sets at once.

scipy's ``csgraph.dijkstra`` starts every source at 0 and runs on one core; here each source set
(one facility type) starts at its own costs (the walk from each facility to the road) and the
sets run in parallel, one per core.  Graphs are CSR arrays (``indptr``, ``indices``, ``weights``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _push(heap_d, heap_v, size, d, v):
    i = size
    heap_d[i] = d
    heap_v[i] = v
    while i > 0:
        parent = (i - 1) >> 1
        if heap_d[parent] <= d:
            break
        heap_d[i] = heap_d[parent]
        heap_v[i] = heap_v[parent]
        i = parent
    heap_d[i] = d
    heap_v[i] = v
    return size + 1


@njit(cache=True, inline="always")
def _pop(heap_d, heap_v, size):
    """Remove the root (smallest); returns the new size.  Read the root before calling."""
    size -= 1
    d = heap_d[size]
    v = heap_v[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap_d[child + 1] < heap_d[child]:
            child += 1
        if heap_d[child] >= d:
            break
        heap_d[i] = heap_d[child]
        heap_v[i] = heap_v[child]
        i = child
    heap_d[i] = d
    heap_v[i] = v
    return size


@njit(cache=True)
def _dijkstra(indptr, indices, weights, seeds, costs, limit, dist):
    n = len(indptr) - 1
    capacity = len(indices) + len(seeds) + 1
    heap_d = np.empty(capacity, dtype=np.float64)
    heap_v = np.empty(capacity, dtype=np.int64)
    size = 0
    for k in range(len(seeds)):
        s, c = seeds[k], costs[k]
        if c < dist[s] and c <= limit:
            dist[s] = c
            size = _push(heap_d, heap_v, size, c, s)
    done = np.zeros(n, dtype=np.bool_)
    while size > 0:
        d = heap_d[0]
        v = heap_v[0]
        size = _pop(heap_d, heap_v, size)
        if done[v]:
            continue
        done[v] = True
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            nd = d + weights[e]
            if nd < dist[u] and nd <= limit:
                dist[u] = nd
                size = _push(heap_d, heap_v, size, nd, u)


@njit(cache=True, parallel=True)
def dijkstra_sets(indptr, indices, weights, seeds, costs, set_start, limit):
    """Distance from every node to the nearest source of each set (inf beyond ``limit``).

    Set k's sources are ``seeds[set_start[k]:set_start[k + 1]]`` starting at ``costs`` there.
    Returns a (number of sets × nodes) array.
    """
    n_sets = len(set_start) - 1
    out = np.full((n_sets, len(indptr) - 1), np.inf)
    for k in prange(n_sets):
        a, b = set_start[k], set_start[k + 1]
        _dijkstra(indptr, indices, weights, seeds[a:b], costs[a:b], limit, out[k])
    return out


@njit(cache=True, parallel=True)
def target_distances(
    dist, t_u, t_v, t_along, t_back, t_offset, t_edge, s_edge, s_along, s_offset, set_start, n_edges, limit
):
    """(sets × targets) distance to the nearest source, from node distances and each target's segment.

    A target on segment (u, v) walks in through u or v, or straight along the segment to a source of
    the same set on the same segment (sources of each set sorted by segment).  Beyond ``limit``: inf.
    """
    n_sets, n_targets = dist.shape[0], len(t_u)
    out = np.empty((n_sets, n_targets))
    for k in range(n_sets):
        a, b = set_start[k], set_start[k + 1]
        first = np.full(n_edges, -1, dtype=np.int64)
        for j in range(b - 1, a - 1, -1):
            first[s_edge[j]] = j
        row = dist[k]
        for i in prange(n_targets):
            best = min(row[t_u[i]] + t_along[i], row[t_v[i]] + t_back[i])
            j = first[t_edge[i]]
            if j >= 0:
                while j < b and s_edge[j] == t_edge[i]:
                    best = min(best, abs(t_along[i] - s_along[j]) + s_offset[j])
                    j += 1
            best += t_offset[i]
            out[k, i] = best if best <= limit else np.inf
    return out
