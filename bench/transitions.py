"""Transition benchmark: what one action along the loop costs on a copy of a database, under the write lock.

    python bench/transitions.py --db /tmp/city.duckdb --work /tmp/city-loop.duckdb --n 40
    python bench/transitions.py --db /tmp/city.duckdb --work /tmp/city-loop.duckdb --baseline-code /work/main

Copies ``--db`` (never written) to ``--work`` and, on the copy, times ``--n`` dispatches (派单, from
受理) and ``--n`` resolves (办结, from 处置中) of randomly chosen open incidents as the JSON API makes them
(:func:`pipelines.incidents.intake.act`: read, check, transition with its derived tables and roll-up,
read back), then ``--ticks`` simulator ticks (reports, transitions, 核查).  Prints p50/p95 and the load
average.  With ``--baseline-code DIR`` it first runs the same measurement in a subprocess importing the
``pipelines`` package from DIR (another checkout, e.g. before a change) on a fresh copy: the baseline of
the same run.  Finally the roll-up of the copy is compared with a rebuild from the history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from pipelines.incidents import intake  # noqa: E402
from pipelines.incidents.simulate import Simulator  # noqa: E402
from pipelines.store import Database  # noqa: E402

ACTIONS = {
    "dispatch": ("accepted", {"assignee_type": "department", "assignee": "城管执法"}),
    "resolve": ("in_progress", {"note": "已处置"}),
}


def copy(db: Path, work: Path) -> None:
    if work.resolve() == db.resolve():
        raise SystemExit("--work must differ from --db: the benchmark writes to its copy only")
    shutil.copy(db, work)
    Path(f"{work}.wal").unlink(missing_ok=True)
    if Path(f"{db}.wal").exists():
        shutil.copy(f"{db}.wal", f"{work}.wal")


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms  p95 {np.percentile(ms, 95):7.1f} ms  (n={len(ms)})"


def measure(work: Path, n: int, ticks: int) -> None:
    db = Database(work)
    try:
        with db.cursor() as cur:
            now = cur.execute("SELECT max(reported_at) FROM incidents").fetchone()[0] + dt.timedelta(minutes=1)
            picked = {
                action: [
                    r[0]
                    for r in cur.execute(
                        "SELECT incident_id FROM open_incidents WHERE status = ? ORDER BY hash(incident_id) LIMIT ?",
                        [status, n],
                    ).fetchall()
                ]
                for action, (status, _) in ACTIONS.items()
            }
        for action, ids in picked.items():
            seconds = []
            for incident_id in ids:
                start = time.perf_counter()
                intake.act(db, incident_id, action, ACTIONS[action][1], now, "bench")
                seconds.append(time.perf_counter() - start)
            print(f"  {action:<9} {percentiles(seconds)}", flush=True)
        clock = [now]
        simulator = Simulator(db, clock=lambda: clock[0], seed=5)
        seconds = []
        for _ in range(ticks):
            clock[0] += dt.timedelta(minutes=1)
            start = time.perf_counter()
            simulator.tick()
            seconds.append(time.perf_counter() - start)
        if seconds:
            print(f"  sim tick  {percentiles(seconds)}", flush=True)
    finally:
        db.close()


def same_as_rebuild(work: Path) -> bool:
    from pipelines import store
    from pipelines.store.loop_rollup import SUMS, rebuild

    sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in SUMS)
    query = f"SELECT day, grid_code, {sums} FROM loop_daily GROUP BY ALL ORDER BY ALL"
    con = store.connect(work)
    try:
        con.execute("BEGIN")
        kept = [r for r in con.execute(query).fetchall() if any(r[2:])]
        rebuild(con)
        built = [r for r in con.execute(query).fetchall() if any(r[2:])]
        con.execute("ROLLBACK")
    finally:
        con.close()
    return kept == built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="database to copy (never written)")
    parser.add_argument("--work", type=Path, required=True, help="the copy that is written")
    parser.add_argument("--n", type=int, default=30, help="dispatches and resolves each")
    parser.add_argument("--ticks", type=int, default=10, help="simulator ticks")
    parser.add_argument("--baseline-code", type=Path, help="a checkout whose pipelines package gives the baseline")
    parser.add_argument("--no-check", action="store_true", help="skip the roll-up == rebuild comparison")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    if args.baseline_code:
        print(f"baseline: pipelines from {args.baseline_code}", flush=True)
        copy(args.db, args.work)
        env = {**os.environ, "PYTHONPATH": str(args.baseline_code.resolve())}
        cmd = [sys.executable, __file__, "--db", str(args.db), "--work", str(args.work), "--n", str(args.n)]
        subprocess.run([*cmd, "--ticks", str(args.ticks), "--no-check"], env=env, check=True)
    print(f"this checkout: pipelines from {Path(intake.__file__).parents[2]}", flush=True)
    copy(args.db, args.work)
    measure(args.work, args.n, args.ticks)
    if not args.no_check:
        print(f"  roll-up equals a rebuild from the history: {same_as_rebuild(args.work)}")
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)


if __name__ == "__main__":
    main()
