"""Where to build next: maximal covering location on the walking network.

Candidates are road junctions.  :func:`cover_matrix` finds, for every candidate, the demand
points (uncovered buildings) within ``radius_m`` walk; :func:`greedy_sites` picks k sites, each
time the one that covers the most not-yet-covered residents.  Greedy is within (1 - 1/e) of the
best answer in theory; :func:`optimal_sites` solves the same problem exactly as an integer
programme (scipy's HiGHS) so the real gap can be measured on small cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csgraph

from geo.network import Attachment, WalkNetwork

MAX_CANDIDATES = 3000
"""Above this many junctions in the area, keep one per ``thin_m`` square so the search stays quick."""

DIJKSTRA_CELLS = 20_000_000
"""Distance-matrix cells (candidates × nodes) computed per batch: bounds memory to ~160 MB."""


@dataclass
class SiteChoice:
    candidates: np.ndarray  # chosen candidate positions (indices into the candidate array), in pick order
    gains: np.ndarray  # residents newly covered by each pick
    covered: float  # residents covered by all picks together


def junction_candidates(network: WalkNetwork, inside: np.ndarray | None = None, thin_m: float = 100.0) -> np.ndarray:
    """Road junctions (three or more segments meet; dead ends too) as candidate sites."""
    degree = network.degree()
    nodes = np.flatnonzero((degree >= 3) | (degree == 1))
    if inside is not None:
        nodes = nodes[inside[nodes]]
    if len(nodes) > MAX_CANDIDATES:
        nodes = nodes[one_per_cell(network.node_xy[nodes], thin_m)]
    return nodes


def one_per_cell(xy: np.ndarray, cell_m: float) -> np.ndarray:
    """Positions of the first point in each ``cell_m`` square, in their original order."""
    cell = np.floor(xy / cell_m).astype(np.int64)
    _, first = np.unique(cell, axis=0, return_index=True)
    return np.sort(first)


def cover_matrix(
    network: WalkNetwork, candidates: np.ndarray, demand: Attachment, radius_m: float
) -> sparse.csr_matrix:
    """Boolean (candidates × demand) matrix: the demand point is within ``radius_m`` walk of the site.

    Only the part of the network within ``radius_m`` of the candidates' bounding box can hold a
    path that short (a walk is never shorter than the straight line), so the search runs there.
    """
    if len(candidates) == 0 or len(demand) == 0:
        return sparse.csr_matrix((len(candidates), len(demand)), dtype=bool)
    xy = network.node_xy
    lo = xy[candidates].min(axis=0) - radius_m
    hi = xy[candidates].max(axis=0) + radius_m
    near = np.all((xy >= lo) & (xy <= hi), axis=1)
    sub_nodes = np.flatnonzero(near)
    local = np.full(network.n_nodes, -1, dtype=np.int64)
    local[sub_nodes] = np.arange(len(sub_nodes))
    keep = near[network.edge_u] & near[network.edge_v]
    length = network.edge_length
    m = len(sub_nodes)
    lu, lv = local[network.edge_u[keep]], local[network.edge_v[keep]]
    graph = sparse.csr_matrix(
        (np.concatenate([length[keep], length[keep]]), (np.concatenate([lu, lv]), np.concatenate([lv, lu]))),
        shape=(m, m),
    )
    ok = (demand.edge >= 0) & keep[np.maximum(demand.edge, 0)]
    d_rows = np.flatnonzero(ok)
    du = local[network.edge_u[demand.edge[d_rows]]]
    dv = local[network.edge_v[demand.edge[d_rows]]]
    along = demand.along_m[d_rows]
    back = length[demand.edge[d_rows]] - along
    offset = demand.offset_m[d_rows]
    batch = max(1, DIJKSTRA_CELLS // max(m, len(d_rows), 1))
    rows, cols = [], []
    for start in range(0, len(candidates), batch):
        chunk = local[candidates[start : start + batch]]
        dist = csgraph.dijkstra(graph, directed=True, indices=chunk, limit=radius_m)
        reach = np.minimum(dist[:, du] + along, dist[:, dv] + back) + offset <= radius_m
        r, c = np.nonzero(reach)
        rows.append(r + start)
        cols.append(d_rows[c])
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(len(candidates), len(demand)))


def greedy_sites(cover: sparse.csr_matrix, weight: np.ndarray, k: int) -> SiteChoice:
    """Pick up to k sites, each covering the most still-uncovered weight; stop when nothing is gained."""
    weight = np.asarray(weight, dtype=float).copy()
    cover = cover.astype(np.float64).tocsr()
    picks, gains = [], []
    for _ in range(k):
        gain = cover @ weight
        if len(gain) == 0:
            break
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        picks.append(best)
        gains.append(float(gain[best]))
        weight[cover[best].indices] = 0.0
    return SiteChoice(np.asarray(picks, dtype=np.int64), np.asarray(gains), float(np.sum(gains)))


def optimal_sites(cover: sparse.csr_matrix, weight: np.ndarray, k: int) -> SiteChoice:
    """The exact maximal-covering answer (integer programme); for measuring greedy's gap on small cases.

    Variables: x_c (site c built), y_d (demand d covered).  Maximise Σ w_d y_d subject to
    Σ x_c ≤ k and y_d ≤ Σ_{c covers d} x_c.
    """
    weight = np.asarray(weight, dtype=float)
    n_c, n_d = cover.shape
    objective = np.concatenate([np.zeros(n_c), -weight])
    budget = sparse.hstack([sparse.csr_matrix(np.ones((1, n_c))), sparse.csr_matrix((1, n_d))])
    linking = sparse.hstack([-cover.T.astype(float), sparse.identity(n_d)])
    constraints = [
        LinearConstraint(budget, -np.inf, k),
        LinearConstraint(linking, -np.inf, np.zeros(n_d)),
    ]
    integrality = np.concatenate([np.ones(n_c), np.zeros(n_d)])
    result = milp(objective, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1))
    if not result.success:
        raise RuntimeError(f"site optimisation failed: {result.message}")
    chosen = np.flatnonzero(result.x[:n_c] > 0.5)
    covered = np.asarray(cover[chosen].sum(axis=0)).ravel() > 0
    return SiteChoice(chosen, np.zeros(len(chosen)), float(weight[covered].sum()))
