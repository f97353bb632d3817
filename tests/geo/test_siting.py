"""Site choice: the coverage matrix agrees with walking distances; greedy against the exact optimum."""

import itertools

import numpy as np
import pytest
from scipy import sparse

from geo import siting
from geo.access import nearest_distance
from geo.network import attach
from tests.geo.test_network import _random_network


def test_cover_matrix_matches_walking_distance():
    net, rng = _random_network(4)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    demand_xy = rng.uniform(lo, hi, (300, 2))
    demand = attach(net, demand_xy[:, 0], demand_xy[:, 1])
    candidates = siting.junction_candidates(net)
    cover = siting.cover_matrix(net, candidates, demand, 250).toarray()
    for row, node in enumerate(candidates[:25]):
        x, y = net.node_xy[node]
        site = attach(net, np.array([x]), np.array([y]))
        expected = nearest_distance(net, site, demand, 250) <= 250
        np.testing.assert_array_equal(cover[row], expected)


def _brute_force(cover: np.ndarray, weight: np.ndarray, k: int) -> float:
    return max(weight[cover[list(c)].any(axis=0)].sum() for c in itertools.combinations(range(len(cover)), k))


@pytest.mark.parametrize("seed", range(6))
def test_greedy_within_bound_and_optimal_is_exact(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((12, 40)) < 0.15
    weight = rng.integers(1, 100, 40).astype(float)
    k = 3
    best = _brute_force(cover, weight, k)
    exact = siting.optimal_sites(sparse.csr_matrix(cover), weight, k)
    greedy = siting.greedy_sites(sparse.csr_matrix(cover), weight, k)
    assert exact.covered == pytest.approx(best)
    assert greedy.covered <= best + 1e-9
    assert greedy.covered >= (1 - 1 / np.e) * best
    # the gains add up to what the picked sites cover together
    assert greedy.covered == pytest.approx(weight[cover[greedy.candidates].any(axis=0)].sum())


def test_greedy_can_miss_the_optimum():
    # the classic trap: one big middle site overlaps two sites that together cover everything
    cover = np.array([[0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=bool)
    weight = np.ones(6)
    greedy = siting.greedy_sites(sparse.csr_matrix(cover), weight, 2)
    exact = siting.optimal_sites(sparse.csr_matrix(cover), weight, 2)
    assert greedy.candidates[0] == 0
    assert greedy.covered == 5
    assert exact.covered == 6


def test_greedy_stops_when_nothing_is_left_to_cover():
    cover = sparse.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    choice = siting.greedy_sites(cover, np.array([5.0, 5.0, 1.0]), 5)
    assert list(choice.candidates) == [0, 1]
    assert list(choice.gains) == [10.0, 1.0]
