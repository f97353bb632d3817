"""The walking network: snapping, splitting, components, and distances checked against networkx."""

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.access import nearest_distance, service_area, straight_line_distance
from geo.network import LocalFrame, attach, build_network

FRAME = LocalFrame(120.15, 30.25)


def lines_m(*coords_m):
    """LineStrings given in local metres, returned in WGS84 (what build_network takes)."""
    return FRAME.geoms_to_lnglat(np.array([shapely.LineString(c) for c in coords_m]))


def build(*coords_m, **kwargs):
    return build_network(lines_m(*coords_m), frame=FRAME, **kwargs)


def node_near(net, x, y):
    return int(np.argmin(np.hypot(net.node_xy[:, 0] - x, net.node_xy[:, 1] - y)))


def test_ends_that_almost_meet_are_snapped_into_one_junction():
    net = build([(0, 0), (100, 0)], [(101, 0.5), (200, 0)], [(100.5, -0.8), (100, -100)])
    assert net.report.components == 1
    assert net.report.ends_snapped == 3
    junction = node_near(net, 100, 0)
    assert net.degree()[junction] == 3
    assert np.hypot(*(net.node_xy[junction] - [100.5, -0.1])) < 1.0


def test_end_that_stops_short_of_a_line_joins_it_and_splits_it():
    # a T-junction drawn 2 m short of the main road
    net = build([(0, 0), (200, 0)], [(80, 2), (80, 100)])
    assert net.report.components == 1
    assert net.report.ends_joined_to_lines == 1
    tee = node_near(net, 80, 0)
    assert np.allclose(net.node_xy[tee], [80, 0], atol=0.02)
    assert net.degree()[tee] == 3
    assert len(net.edge_u) == 3


def test_lines_that_cross_without_a_shared_vertex_get_a_junction():
    net = build([(0, 0), (100, 100)], [(0, 100), (100, 0)])
    centre = node_near(net, 50, 50)
    assert np.allclose(net.node_xy[centre], [50, 50], atol=0.02)
    assert net.degree()[centre] == 4
    assert len(net.edge_u) == 4
    assert net.report.length_m == pytest.approx(2 * np.hypot(100, 100), rel=1e-6)


def test_shared_interior_vertex_is_a_junction():
    net = build([(0, 0), (50, 0), (100, 0)], [(50, 0), (50, 80)])
    assert net.degree()[node_near(net, 50, 0)] == 3


def test_disconnected_island_is_left_out_and_reported():
    net = build([(0, 0), (100, 0), (100, 100)], [(500, 500), (560, 500)], [(600, 0), (600, 4)])
    assert net.report.components == 3
    assert net.report.dropped_components == 2
    assert net.report.dropped_segments == 2
    assert net.report.dropped_length_m == pytest.approx(64, abs=0.05)
    assert net.report.length_m == pytest.approx(200, abs=0.05)
    assert net.n_nodes == 3


def test_unusable_lines_are_counted_not_fatal():
    lines = np.concatenate([lines_m([(0, 0), (100, 0)]), [shapely.LineString(), None]])
    net = build_network(lines, frame=FRAME)
    assert net.report.lines_unusable == 2
    assert len(net.edge_u) == 1


def test_known_answers_on_a_hand_made_network():
    # an L: (0,0)→(1000,0)→(1000,1000); a shortcut bridge is missing on purpose
    net = build([(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)])
    facility = attach(net, np.array([100.0]), np.array([10.0]))
    buildings = attach(net, np.array([600.0, 1020.0, 40.0, 90.0]), np.array([-20.0, 700.0, 5.0, 0.0]))
    got = nearest_distance(net, facility, buildings, 5000)
    # 10 access + 500 along + 20 access; 10 + 900 + 700 + 20; same segment both ways
    assert got == pytest.approx([530.0, 1630.0, 10 + 60 + 5, 10 + 10 + 0], abs=1e-6)
    assert nearest_distance(net, facility, buildings, 1000)[1] == np.inf


def _random_network(seed: int):
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(8) * 120.0, np.arange(8) * 120.0)
    pts = np.column_stack([xs.ravel(), ys.ravel()]) + rng.normal(0, 15, (64, 2))
    lines = []
    for i in range(8):
        for j in range(8):
            k = i * 8 + j
            if j < 7 and rng.random() < 0.85:
                lines.append([pts[k], pts[k + 1]])
            if i < 7 and rng.random() < 0.85:
                lines.append([pts[k], pts[k + 8]])
    return build(*lines), rng


def _reference(net, sources, targets):
    """networkx on the same segments, with every attachment point inserted as a real node."""
    g = nx.Graph()
    length = net.edge_length
    cuts: dict[int, list] = {}
    for kind, att in (("s", sources), ("t", targets)):
        for i in range(len(att)):
            cuts.setdefault(int(att.edge[i]), []).append((float(att.along_m[i]), (kind, i)))
            g.add_edge((kind, i), ("foot", kind, i), weight=float(att.offset_m[i]))
    for e in range(len(net.edge_u)):
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        chain = [(0.0, u), *[(a, ("foot", *name)) for a, name in sorted(cuts.get(e, []))], (float(length[e]), v)]
        for (a0, n0), (a1, n1) in itertools.pairwise(chain):
            if g.has_edge(n0, n1):
                g[n0][n1]["weight"] = min(g[n0][n1]["weight"], a1 - a0)
            else:
                g.add_edge(n0, n1, weight=a1 - a0)
    dist = nx.multi_source_dijkstra_path_length(g, {("s", i) for i in range(len(sources))}, weight="weight")
    return np.array([dist.get(("t", i), np.inf) for i in range(len(targets))])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_distances_equal_networkx_dijkstra(seed):
    net, rng = _random_network(seed)
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    src_xy = rng.uniform(lo, hi, (6, 2))
    tgt_xy = rng.uniform(lo, hi, (400, 2))
    sources = attach(net, src_xy[:, 0], src_xy[:, 1])
    targets = attach(net, tgt_xy[:, 0], tgt_xy[:, 1])
    # put two targets on a source's own segment to exercise the same-segment path
    targets.edge[:2] = sources.edge[0]
    targets.along_m[:2] = [0.0, net.edge_length[sources.edge[0]]]
    expected = _reference(net, sources, targets)
    got = nearest_distance(net, sources, targets, 1e9)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)
    cut = nearest_distance(net, sources, targets, 300)
    np.testing.assert_allclose(cut, np.where(expected <= 300, expected, np.inf), rtol=1e-9, atol=1e-6)


def test_straight_line_fallback():
    got = straight_line_distance(np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([[300.0, 400.0], [5000.0, 0]]), 2000)
    assert got == pytest.approx([500.0, np.inf])


def test_service_area_follows_the_roads():
    net = build([(0, 0), (2000, 0)], [(1000, -1000), (1000, 1000)])
    source = attach(net, np.array([1000.0]), np.array([0.0]))
    area = service_area(net, source, 500, reach_m=30)
    inside = shapely.points([(1400, 10), (1000, 480), (600, -20)])
    outside = shapely.points([(1600, 0), (1000, 560), (1300, 300), (1200, 200)])
    assert shapely.contains(area, inside).all()
    assert not shapely.contains(area, outside).any()
