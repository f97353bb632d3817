"""What one write costs the whole-city views: each view computed afresh, in process, on a copy of the city.

    flock /tmp/gridtwin-bench.lock python bench/city_views.py --db /tmp/city.duckdb --work /tmp/city-NAME.duckdb
    PYTHONPATH=/path/to/other/checkout python bench/city_views.py …   (the same views on another version of the code)

Every write changes the city's map, side panels and leader street table (and the district views around it), so
each is computed again after every write (:mod:`dashboard.models.shared` shares the result between clients, but
someone waits for it).  This prints p50/p95 of ``--repeat`` computations of each (shared results off, the clock
at the data's end) with the CPU time each took, the load average at start and end, and which code it ran
(``dashboard.__file__``), so a baseline run on another checkout in the same locked session is a fair comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import dashboard  # noqa: E402
from dashboard.components.urls import DEFAULT_LAYERS  # noqa: E402
from dashboard.data import DashboardData  # noqa: E402
from dashboard.models import hex_resolution  # noqa: E402
from dashboard.views import command, leader  # noqa: E402
from pipelines import store  # noqa: E402


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def timed(work, repeat: int) -> tuple[float, float, float, float]:
    """(cold, p50, p95) wall time and the process's CPU time per run (all threads: DuckDB's and the query
    pool's), which depends far less on others' work on the machine than the wall time does."""
    t0 = time.perf_counter()
    work()
    cold = time.perf_counter() - t0
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu) / repeat
    times.sort()
    return cold, statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/city.duckdb"), help="the city (only read)")
    parser.add_argument("--work", type=Path, required=True, help="the copy the views open (it is written)")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="reuse --work when it exists (no fresh copy)")
    args = parser.parse_args(argv)
    print(f"load average at start: {load()} ({os.cpu_count()} CPUs); code: {Path(dashboard.__file__).parent}")
    if args.work.resolve() == args.db.resolve():
        sys.exit("error: --work must differ from --db")
    if not (args.keep and args.work.exists()):
        shutil.copy(args.db, args.work)
        Path(f"{args.work}.wal").unlink(missing_ok=True)
    probe = store.connect(args.work, read_only=True)
    end = probe.execute("SELECT max(reported_at) FROM incidents").fetchone()[0]
    probe.close()
    data = DashboardData(args.work, clock=lambda: end)
    data.shapes.warm()
    data.shared.enabled = False  # every call computes its view: what a new data version costs
    district = data.shapes.children("city", None)["frame"]["code"].iloc[0]
    res = hex_resolution(data.shapes.children("city", None)["zoom"])
    layers = list(DEFAULT_LAYERS)
    views = {
        "map city": lambda: command.build_command_map(
            data, None, "city", None, layers, "window", "24h", (None, None), res, "zh"
        ),
        "side panels city": lambda: command.build_side(data, "city", None, "24h", (None, None), "zh"),
        "leader streets (city)": lambda: leader.ranking_rows(data, "city", None, "street", "7d"),
        "map district": lambda: command.build_command_map(
            data, None, "district", district, layers, "window", "24h", (None, None), res + 1, "zh"
        ),
        "side panels district": lambda: command.build_side(data, "district", district, "24h", (None, None), "zh"),
        "leader communities (district)": lambda: leader.ranking_rows(data, "district", district, "community", "7d"),
    }
    print(f"\n{args.repeat} computations per view at {end} (shared results off)")
    print(f"  {'view':<32} {'cold ms':>9} {'p50 ms':>9} {'p95 ms':>9} {'CPU ms':>9}")
    for name, work in views.items():
        cold, p50, p95, cpu = timed(work, args.repeat)
        print(f"  {name:<32} {cold * 1000:>9.1f} {p50 * 1000:>9.1f} {p95 * 1000:>9.1f} {cpu * 1000:>9.1f}", flush=True)
    data.close()
    print(f"load average at end: {load()}")


if __name__ == "__main__":
    main()
