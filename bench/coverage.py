"""Coverage benchmark: walking access from every building to every facility type.

    python bench/coverage.py                 # demo city, then city scale (1,000,000 buildings)
    python bench/coverage.py --scale demo
    python bench/coverage.py --scale city --copy-of /tmp/city-party.duckdb
    python bench/coverage.py --scale city --db /tmp/city-mine.duckdb --skip-baseline   # in place, a writable copy

Ours: ``pipelines.coverage.compute_coverage`` — build the walking network, join buildings and
facilities to it, one multi-source Dijkstra per facility type (numba kernel), store the results.
Strong peer, on the same stored network and links: scipy's ``csgraph.dijkstra`` from a virtual
source tied to every facility of a type by its start cost (the walk from the door to the road),
then the same step from nodes to buildings; its distances are checked against the stored ones.
Weak baseline, measured in the same run on the same network: what tutorials do — one networkx
``ego_graph`` per facility (radius = the type's life-circle distance), buildings snapped to
their nearest network node and covered when that node is in some facility's ego graph.  The
baseline gets the graph and the node snapping for free.  At city scale the baseline runs on a
sample of facilities per type and is extrapolated to all of them (printed as such).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this folder's name would shadow nothing, but keep imports the installed ones

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from geo import siting
from geo.network import build_network
from pipelines import store
from pipelines.coverage import compute_coverage, load_planner
from pipelines.coverage_update import recompute_type
from pipelines.domain import ACCESS_CUTOFF_M
from pipelines.generate import generate
from pipelines.roadclass import RoadFilter, walkable_roads
from pipelines.store.coverage import access_for_type, coverage_types_frame, planner_points

MM = 1e-3
"""Distances agree when they differ by less than a millimetre."""

DEFAULT_DB = {"demo": Path("/tmp/gridtwin-bench-demo.duckdb"), "city": Path("/tmp/gridtwin-bench-city.duckdb")}


def ensure_db(db: Path, scale: str) -> None:
    if db.exists():
        con = store.connect(db, read_only=True)
        try:
            if con.execute("SELECT count(*) FROM buildings").fetchone()[0] > 0:
                return
        finally:
            con.close()
    print(f"building the {scale} city (no incidents) into {db} …", flush=True)
    generate(db, scale, seed=7, incidents=0)


def run_ours(db: Path) -> tuple[float, dict]:
    con = store.connect(db)
    try:
        start = time.perf_counter()
        result = compute_coverage(con)
        total = time.perf_counter() - start
    finally:
        con.close()
    return total, result


def run_baseline(db: Path, sample: int | None, seed: int) -> dict:
    con = store.connect(db, read_only=True)
    try:
        roads = walkable_roads(con, RoadFilter())  # the lines compute_coverage walks on
        buildings, facilities = planner_points(con)
        standards = coverage_types_frame(con).set_index("type")
    finally:
        con.close()
    network = build_network(roads)
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(network.edge_u.tolist(), network.edge_v.tolist(), network.edge_length.tolist(), strict=True),
        weight="length",
    )
    tree = cKDTree(network.node_xy)
    _, b_node = tree.query(np.column_stack(network.frame.to_xy(buildings["lon"], buildings["lat"])))
    _, f_node = tree.query(np.column_stack(network.frame.to_xy(facilities["lon"], facilities["lat"])))
    rng = np.random.default_rng(seed)
    elapsed, done, total = 0.0, 0, 0
    covered_share = {}
    for kind, rows in facilities.groupby("type", sort=True):
        radius = float(standards.loc[kind, "threshold_m"])
        idx = rows.index.to_numpy()
        total += len(idx)
        if sample is not None and len(idx) > sample:
            idx = rng.choice(idx, sample, replace=False)
        start = time.perf_counter()
        reached: set[int] = set()
        for node in f_node[idx]:
            reached.update(nx.ego_graph(graph, int(node), radius=radius, distance="length").nodes)
        elapsed += time.perf_counter() - start
        done += len(idx)
        covered = np.isin(b_node, np.fromiter(reached, dtype=np.int64))
        residents = buildings["residents"].to_numpy()
        covered_share[kind] = residents[covered].sum() / max(residents.sum(), 1)
    return {
        "seconds_run": elapsed,
        "facilities_run": done,
        "facilities_all": total,
        "seconds_all": elapsed * total / max(done, 1),
        "covered_share": covered_share,
    }


def ratio(baseline_s: float, ours_s: float) -> str:
    """How many times faster ours is than the other, said plainly either way."""
    times = baseline_s / ours_s
    return f"{times:.2f}× ({'faster' if times >= 1 else 'slower'})"


def scipy_peer(db: Path, cutoff_m: float) -> dict:
    """scipy multi-source Dijkstra per type on the stored network; distances compared with the stored ones."""
    con = store.connect(db, read_only=True)
    try:
        planner = load_planner(con)
        types = coverage_types_frame(con)
        stored = {kind: access_for_type(con, kind) for kind in types["type"]}
    finally:
        con.close()
    network, b_links, f_links = planner.network, planner.building_links, planner.facility_links
    limit = max(cutoff_m, float(types["threshold_m"].max()))
    n = network.n_nodes
    rows, cols, weights = network.adjacency
    f_type = planner.facilities["type"].to_numpy()
    seconds, compared, mismatches, worst = 0.0, 0, 0, 0.0
    for kind in types["type"]:
        pick = np.flatnonzero((f_type == kind) & (f_links.edge >= 0))
        if len(pick) == 0:
            continue
        start = time.perf_counter()
        dist = _scipy_building_distances(network, rows, cols, weights, n, f_links.take(pick), b_links, limit)
        seconds += time.perf_counter() - start
        want = np.nan_to_num(stored[kind], nan=np.inf)
        both = np.isfinite(dist) & np.isfinite(want)
        with np.errstate(invalid="ignore"):  # inf - inf where neither reaches: compared by isfinite instead
            differ = (np.isfinite(dist) != np.isfinite(want)) | (both & (np.abs(dist - want) >= MM))
        compared += len(dist)
        mismatches += int(differ.sum())
        worst = max(worst, float(np.abs(dist[both] - want[both]).max()) if both.any() else 0.0)
    return {"seconds": seconds, "compared": compared, "mismatches": mismatches, "worst_m": worst}


def _scipy_building_distances(network, rows, cols, weights, n, sources, targets, limit: float) -> np.ndarray:
    """Distance from each target to its nearest source: node 'n' is a virtual source tied to both ends of
    every source's segment at its start cost (+1 m, so no edge weighs 0; taken off afterwards)."""
    length = network.edge_length[sources.edge]
    seed = np.concatenate([network.edge_u[sources.edge], network.edge_v[sources.edge]])
    cost = np.concatenate([sources.offset_m + sources.along_m, sources.offset_m + length - sources.along_m])
    best = np.full(n, np.inf)
    np.minimum.at(best, seed, cost)  # one virtual edge per seed node (a CSR matrix would add duplicates)
    seeded = np.flatnonzero(np.isfinite(best))
    graph = sparse.csr_matrix(
        (
            np.concatenate([weights, best[seeded] + 1.0]),
            (np.concatenate([rows, np.full(len(seeded), n)]), np.concatenate([cols, seeded])),
        ),
        shape=(n + 1, n + 1),
    )
    node = csgraph.dijkstra(graph, directed=True, indices=n, limit=limit + 1.0)[:n] - 1.0
    ok = targets.edge >= 0
    edge, along = targets.edge[ok], targets.along_m[ok]
    via = np.minimum(node[network.edge_u[edge]] + along, node[network.edge_v[edge]] + network.edge_length[edge] - along)
    same = pd.DataFrame({"target": np.flatnonzero(ok), "edge": edge, "along": along}).merge(
        pd.DataFrame({"edge": sources.edge, "s_along": sources.along_m, "s_offset": sources.offset_m}), on="edge"
    )
    direct = (same["along"] - same["s_along"]).abs() + same["s_offset"]
    nearest = pd.Series(direct.to_numpy()).groupby(same["target"].to_numpy()).min()
    full = np.full(len(targets), np.inf)
    full[ok] = via
    full[nearest.index.to_numpy()] = np.minimum(full[nearest.index.to_numpy()], nearest.to_numpy())
    full += targets.offset_m
    full[full > limit] = np.inf
    return full


def incremental(db: Path, kind: str = "幼儿园") -> None:
    """One type again on the stored network after one of its facilities moved (the planner page's path)."""
    con = store.connect(db)
    try:
        start = time.perf_counter()
        planner = load_planner(con)
        loaded = time.perf_counter() - start
        print(f"incremental ({kind}): loading the stored network once (a page caches it) {loaded:.2f} s", flush=True)
        first = con.execute("SELECT min(facility_id) FROM facilities WHERE type = ?", [kind]).fetchone()[0]
        for step in ("moved one facility 150 m east", "moved it back"):
            shift = 0.0015 if step.startswith("moved one") else -0.0015
            con.execute("UPDATE facilities SET lon = lon + ? WHERE facility_id = ?", [shift, first])
            compute = recompute_type(con, kind, planner, write=False)
            update = recompute_type(con, kind, planner)
            stored = np.nan_to_num(access_for_type(con, kind), nan=np.inf)
            same = np.array_equal(stored, update.distance_m)
            parts = ", ".join(f"{k} {v:.3f}" for k, v in getattr(update, "timings_s", {}).items())
            print(
                f"  {step}: compute only {compute.seconds:.3f} s; compute + store {update.seconds:.3f} s"
                f"{f' ({parts})' if parts else ''}; stored distances equal the computed ones: {same}",
                flush=True,
            )
    finally:
        con.close()


def greedy_gap(db: Path, kind: str = "幼儿园", ks: tuple[int, ...] = (1, 2, 3, 5, 8)) -> None:
    """Greedy site choice against the exact optimum (HiGHS) for one facility type in each street."""
    con = store.connect(db, read_only=True)
    try:
        planner = load_planner(con)
        current = access_for_type(con, kind)
        threshold = float(coverage_types_frame(con).set_index("type").loc[kind, "threshold_m"])
    finally:
        con.close()
    uncovered = ~(np.nan_to_num(current, nan=np.inf) <= threshold)
    worst = 0.0
    for street in sorted(planner.buildings["street_code"].dropna().unique()):
        demand = np.flatnonzero(uncovered & (planner.buildings["street_code"] == street).to_numpy())
        xy = planner.network.node_xy
        bxy = planner.buildings[["x", "y"]].to_numpy()[demand]
        inside = np.all((xy >= bxy.min(axis=0) - threshold) & (xy <= bxy.max(axis=0) + threshold), axis=1)
        nodes = siting.junction_candidates(planner.network, inside)
        cover = siting.cover_matrix(planner.network, nodes, planner.building_links.take(demand), threshold)
        weight = planner.buildings["residents"].to_numpy()[demand]
        gaps = []
        for k in ks:
            greedy = siting.greedy_sites(cover, weight, k).covered
            best = siting.optimal_sites(cover, weight, k).covered
            gaps.append(f"k={k}: {greedy:,.0f}/{best:,.0f}")
            worst = max(worst, 1 - greedy / best if best else 0.0)
        print(
            f"  {kind} sites in street {street} ({len(nodes)} candidate junctions): greedy/optimal residents "
            + ", ".join(gaps)
        )
    print(f"  largest greedy gap to the optimum: {worst:.2%}")


def bench(scale: str, db: Path, sample: int | None, baseline: bool = True) -> None:
    ensure_db(db, scale)
    con = store.connect(db, read_only=True)
    n_buildings = con.execute("SELECT count(*) FROM buildings").fetchone()[0]
    n_facilities = con.execute("SELECT count(*) FROM facilities").fetchone()[0]
    con.close()
    print(f"\n== {scale}: {n_buildings:,} buildings, {n_facilities:,} facilities ({db}) ==", flush=True)
    for run in ("first run in this process (loads the compiled kernels)", "second run"):
        total, result = run_ours(db)
        t = result.timings_s
        print(
            f"ours, {run}: all {len(result.types)} facility types in {total:.2f} s "
            f"(read {t['read']:.2f}, network {t['network']:.2f}, attach {t['attach']:.2f}, "
            f"shortest paths {t['paths']:.2f}, results {t['results']:.2f}, store {t['write']:.2f})",
            flush=True,
        )
    r = result.report
    print(f"  network: {r.nodes:,} nodes, {r.segments:,} segments, {r.length_m / 1000:,.0f} km")
    peer = scipy_peer(db, ACCESS_CUTOFF_M)
    print(
        f"strong peer (scipy csgraph.dijkstra, multi-source via a virtual node, same stored network and links): "
        f"{peer['seconds']:.2f} s for the shortest-path step of all types"
    )
    print(
        f"  ours vs scipy on the shortest-path step: {ratio(peer['seconds'], t['paths'])}; distances: "
        f"{peer['mismatches']:,} of {peer['compared']:,} differ by 1 mm or more (largest difference "
        f"{peer['worst_m'] * 1000:.4f} mm)"
    )
    incremental(db)
    if not baseline:
        print(f"  load average now {os.getloadavg()[0]:.2f}")
        return
    base = run_baseline(db, sample, seed=7)
    note = (
        ""
        if base["facilities_run"] == base["facilities_all"]
        else (
            f" (measured on {base['facilities_run']:,} of {base['facilities_all']:,} facilities, "
            f"{base['seconds_run']:.1f} s, extrapolated)"
        )
    )
    print(f"weak baseline (networkx ego_graph per facility): {base['seconds_all']:.1f} s{note}")
    print(
        f"  ours vs networkx: {ratio(base['seconds_all'], total)} end to end; "
        f"{ratio(base['seconds_all'], t['paths'])} on the shortest-path step alone (both given the network)"
    )
    ours = result.types.set_index("type")["covered_share"]
    diff = (
        max(abs(ours[k] - v) for k, v in base["covered_share"].items())
        if base["facilities_run"] == base["facilities_all"]
        else None
    )
    if diff is not None:
        print(
            f"  covered residents, ours vs networkx: largest difference {diff:.1%} of residents "
            "(it snaps buildings to the nearest node and ignores the walk to the road)"
        )
    if scale == "demo":
        greedy_gap(db)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"  peak memory so far: {peak:.2f} GiB; load average now {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=("demo", "city", "both"), default="both")
    parser.add_argument("--sample", type=int, default=150, help="baseline facilities per type at city scale")
    parser.add_argument(
        "--copy-of",
        type=Path,
        help="city scale: run on a temporary copy of this database (deleted afterwards) instead of generating one",
    )
    parser.add_argument(
        "--db", type=Path, help="city scale: run in place on this database (a writable copy: results are rewritten)"
    )
    parser.add_argument("--skip-baseline", action="store_true", help="leave out the networkx ego_graph baseline")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores", flush=True)
    scales = ("demo", "city") if args.scale == "both" else (args.scale,)
    for scale in scales:
        sample = None if scale == "demo" else args.sample
        baseline = not args.skip_baseline
        if scale == "city" and args.db is not None:
            bench(scale, args.db, sample, baseline)
        elif scale == "city" and args.copy_of is not None:
            with tempfile.TemporaryDirectory(prefix="gridtwin-coverage-", dir="/tmp") as folder:
                db = Path(folder) / "city.duckdb"
                shutil.copyfile(args.copy_of, db)
                bench(scale, db, sample, baseline)
        else:
            bench(scale, DEFAULT_DB[scale], sample, baseline)


if __name__ == "__main__":
    main()
