"""Dashboard benchmark: time and payload of every view at the city scale, in process and over HTTP.

    python bench/dashboard.py [--db /tmp/gridtwin-city.duckdb] [--repeat 100] [--only party]
    python bench/dashboard.py --db /tmp/city-party.duckdb --clients 5 --work /tmp/city-intake.duckdb

Builds the city (``gridtwin generate --scale city``: 65,025 grids, 10,000,000
incidents) into ``--db`` if the file holds no incidents, prints the machine's
load average, then runs each view's work exactly as its Dash callback does
(SQL, shaping, Plotly figure) and prints p50/p95 of the warm runs, the first
(cold-cache) run, and the JSON payload the browser would receive.

With ``--clients N`` it then copies ``--db`` to ``--work`` (the original is only
read), serves the copy on the real server (waitress, ``--threads``, the clock
set to the data's end, or running on from it with ``--clock-moves``: results
then also expire by the clock) and runs operator sessions over HTTP, first 1
then N at once: each logs in, polls the change counter every 1.5 s and drills city →
district → street → community → grid (map and side panels at every step, the
leader's street and community tables), posting the Dash callback requests the
browser would post; a writer adds ``--writes-per-s`` Open311 reports, so polls
see changes.  Every callback's HTTP round trip is timed until each view has
``--samples`` samples; target: every view p95 < 100 ms with 5 clients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

# This file is named like the package it measures: keep its own folder off the import path
# (its HTTP sessions live beside it in bench_sessions.py, imported from the folder explicitly).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import plotly.io as pio  # noqa: E402

from dashboard.components.urls import DEFAULT_LAYERS  # noqa: E402
from dashboard.data import DashboardData  # noqa: E402
from dashboard.models import hex_resolution  # noqa: E402
from dashboard.views import cockpit, command, leader, party  # noqa: E402
from pipelines import store  # noqa: E402
from pipelines.errors import GridtwinError  # noqa: E402
from pipelines.generate import generate  # noqa: E402
from pipelines.incidents.simulate import LiveFeed, Simulator  # noqa: E402
from pipelines.store import loop_indicators  # noqa: E402
from pipelines.store.rows import table_counts  # noqa: E402

PAYLOAD_LIMIT = 2 * 2**20
ONLY = [""]
QUERY_TARGET_S = 0.100


def ensure_city(db: Path, seed: int) -> None:
    if db.exists():
        con = store.connect(db, read_only=True)
        try:
            if con.execute("SELECT count(*) FROM incidents").fetchone()[0] > 0:
                return
        finally:
            con.close()
    print(f"building the city into {db} (once; reused by later runs) …", flush=True)
    generate(db, "city", seed=seed)


def payload_bytes(result) -> int:
    if hasattr(result, "to_plotly_json"):
        return len(pio.to_json(result, validate=False))
    return len(json.dumps(result, default=_plain))


def _plain(obj):
    if hasattr(obj, "to_plotly_json"):
        return obj.to_plotly_json()
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    return str(obj)


def measure(name: str, work, repeat: int) -> dict | None:
    if ONLY[0] not in name:
        return None
    t0 = time.perf_counter()
    result = work()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"view": name, "cold": cold, "p50": statistics.median(times), "p95": p95, "bytes": payload_bytes(result)}


def cockpit_rows(data, units, repeat: int) -> list:
    """The leader cockpit per level: each of its queries alone, the whole uncached build (queries, shaping,
    figures: what a new data version costs), the memoised build, and the 周报 workbook."""
    context = SimpleNamespace(tile_url=None)
    until = data.clock().replace(second=0, microsecond=0)
    spans = cockpit.periods(until, "7d")
    rows = []
    for level, code in units:
        child = loop_indicators.child_level(level) if level != "grid" else None
        queries = {
            "unit": lambda level=level, code=code: loop_indicators.indicators(data.con, *spans["current"], level, code),
            "children": lambda level=level, code=code, child=child: loop_indicators.indicators(
                data.con, *spans["current"], level, code, by=child
            ),
            "trend": lambda level=level, code=code: loop_indicators.indicators(
                data.con, cockpit.trend_since(until), until, level, code, by="week"
            ),
        }
        for part, work in queries.items():
            rows.append(measure(f"cockpit sql {part} {level}", work, repeat))

        def uncached(level=level, code=code):
            cockpit._cockpit.cache_clear()
            return leader.cockpit_parts(data, level, code, "closure_rate", "7d", "zh", context)

        rows.append(measure(f"cockpit build {level}", uncached, max(3, repeat // 4)))
        rows.append(
            measure(
                f"cockpit cached {level}",
                lambda level=level, code=code: leader.cockpit_parts(
                    data, level, code, "closure_rate", "7d", "zh", context
                ),
                repeat,
            )
        )
    rows.append(
        measure(
            "cockpit sql departments", lambda: loop_indicators.department_ranking(data.con, *spans["current"]), repeat
        )
    )
    level, code = units[1]
    rows.append(
        measure(
            "weekly report (district)",
            lambda: leader.weekly_report(data, level, code, "closure_rate", "7d", "zh")[0],
            3,
        )
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridtwin-city.duckdb"))
    parser.add_argument("--repeat", type=int, default=100, help="warm runs per view in process")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--live", type=float, default=0, help="run the simulated live feed during the runs: a tick every LIVE s"
    )
    parser.add_argument("--only", default="", help="measure only the views whose name contains this (e.g. party)")
    parser.add_argument("--clients", type=int, default=0, help="also run 1 and N concurrent HTTP sessions")
    parser.add_argument("--samples", type=int, default=100, help="HTTP samples per view (at least)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each operator looks at the screen after a drill step before the next click (polling on);"
        " 0: drill flat out, as fast as the server answers (a stress test)",
    )
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="with --think: every operator pauses exactly that long from the same start (all screens refresh"
        " on the same tick: the worst case)",
    )
    parser.add_argument(
        "--single-samples",
        type=int,
        default=0,
        help="HTTP samples per view for the 1-client phase (default: --samples; at an operator's pace one"
        " client takes --think × 5 s per sample of each level)",
    )
    parser.add_argument("--work", type=Path, help="copy of --db that the HTTP server opens (default: next to --db)")
    parser.add_argument("--port", type=int, default=0, help="HTTP server port (default: a free one)")
    parser.add_argument("--threads", type=int, default=8, help="HTTP server threads")
    parser.add_argument("--writes-per-s", type=float, default=1.0, help="Open311 reports per second during sessions")
    parser.add_argument("--skip-inprocess", action="store_true", help="only the HTTP sessions")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also run the N sessions on a server whose views are not shared (each request computes its own)",
    )
    parser.add_argument(
        "--clock-moves",
        action="store_true",
        help="the server's clock runs on from the data's end (results then also expire by the clock, as in a live centre)",
    )
    parser.add_argument("--no-share", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("DB", "CLOCK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(Path(args.serve[0]), args.serve[1], args.port, args.threads, not args.no_share, args.clock_moves)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    ONLY[0] = args.only
    ensure_city(args.db, args.seed)
    db = args.db
    if args.work or args.clients:  # the server opens its database for writing: give it a copy
        db = args.work or args.db.with_name(f"{args.db.stem}-dashboard-run.duckdb")
        if db.resolve() == args.db.resolve():
            raise GridtwinError("--work must differ from --db: the benchmark opens its copy for writing")
        print(f"copying {args.db} to {db} …", flush=True)
        shutil.copy(args.db, db)
        Path(f"{db}.wal").unlink(missing_ok=True)
    if not args.skip_inprocess:
        in_process(args, db)
    if args.clients:
        spec = importlib.util.spec_from_file_location("bench_sessions", HERE / "bench_sessions.py")
        sessions = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sessions)
        sessions.run_sessions(args, db, Path(__file__).resolve())


def serve(db: Path, clock: str, port: int, threads: int, share: bool = True, moves: bool = False) -> None:
    """The real server (waitress) on ``db`` with the clock fixed at ``clock``; prints its port, serves until killed.

    ``share`` False: each request computes its own view (:class:`~dashboard.models.shared.SharedResults` off);
    ``moves``: the clock runs on from ``clock`` at the wall's pace (whole seconds, as the server's own clock)."""
    from dashboard.app import create_app
    from dashboard.security import Settings
    from dashboard.server import make_server

    end = dt.datetime.fromisoformat(clock)
    settings = Settings.from_env()
    started = time.monotonic()
    moving = lambda: end + dt.timedelta(seconds=int(time.monotonic() - started))  # noqa: E731 - the app's clock
    app = create_app(db, clock=moving if moves else lambda: end, settings=settings)
    app.gridtwin_data.shared.enabled = share
    http = make_server(app.server, "127.0.0.1", port, settings, threads)
    print(f"serving on port {http.effective_port}", flush=True)
    http.run()


def in_process(args, db: Path) -> None:
    probe = store.connect(db, read_only=True)
    end = probe.execute("SELECT max(reported_at) FROM incidents").fetchone()[0]
    counts = table_counts(probe)
    probe.close()
    data = DashboardData(db, clock=lambda: end)
    t0 = time.perf_counter()
    data.warm()  # what the server does in the background at start
    print(f"caches warmed at start in {time.perf_counter() - t0:.1f} s (the server does this in the background)")
    # each run computes its view: what a new data version or a unit no other client shows costs (the HTTP
    # sessions measure the views as served, shared between clients per data version)
    data.shared.max_age_s = 0
    feed = None
    if args.live:  # new incidents arrive while the views are timed, as on a command centre's server
        feed = LiveFeed(Simulator(data.db, clock=lambda: end), args.live)
        first_version = data.live.version()
        feed.start()

    district = data.shapes.children("city", None)["frame"]["code"].iloc[0]
    street = data.shapes.children("district", district)["frame"]["code"].iloc[0]
    community = data.shapes.children("street", street)["frame"]["code"].iloc[0]
    grid = data.shapes.children("community", community)["frame"]["code"].iloc[0]
    units = [("city", None), ("district", district), ("street", street), ("community", community), ("grid", grid)]
    layers = [*DEFAULT_LAYERS, "hex", "facilities"]

    rows = []
    for level, code in units:
        res = hex_resolution(data.shapes.children(level, code)["zoom"])
        rows.append(
            measure(
                f"map {level}",
                lambda level=level, code=code, res=res: command.build_command_map(
                    data, None, level, code, layers, "window", "24h", (None, None), res, "zh"
                ),
                args.repeat,
            )
        )
        rows.append(
            measure(
                f"side panels {level}",
                lambda level=level, code=code: command.build_side(data, level, code, "24h", (None, None), "zh"),
                args.repeat,
            )
        )
        rows.append(
            measure(
                f"party page {level}",
                lambda level=level, code=code: party.build_view(
                    data, None, level, code, "head_coverage", "viewer", "zh"
                ),
                args.repeat,
            )
        )
    since = end - dt.timedelta(days=7)
    rows.append(
        measure(
            "leader streets (city)",
            lambda: data.live.ranking("city", None, "street", since).to_dict("records"),
            args.repeat,
        )
    )
    rows.append(
        measure(
            "leader communities (district)",
            lambda: data.live.ranking("district", district, "community", since).to_dict("records"),
            args.repeat,
        )
    )
    day = dt.datetime.combine(end.date(), dt.time())
    rows.append(
        measure(
            "playback day (district)",
            lambda: data.live.playback("district", district, 9, day, day + dt.timedelta(days=1)).to_dict("list"),
            args.repeat,
        )
    )
    rows.append(measure("change counter", data.live.version, args.repeat))
    if feed is not None:
        feed.stop()
        feed.join()
        ticks = data.live.version() - first_version
        print(f"\nlive feed: {ticks} ticks (new incidents and steps) during the runs, one every {args.live} s")
    rows += cockpit_rows(data, units, args.repeat)

    print(
        f"\ndashboard benchmark on {args.db}: {counts['grids']:,} grids, {counts['incidents']:,} incidents; "
        f"{args.repeat} warm runs per view; targets p95 < {QUERY_TARGET_S * 1000:.0f} ms, payload < 2 MB"
    )
    print(f"  {'view':<32} {'cold ms':>9} {'p50 ms':>9} {'p95 ms':>9} {'payload KB':>11}")
    for r in filter(None, rows):
        flag = "" if r["p95"] < QUERY_TARGET_S and r["bytes"] < PAYLOAD_LIMIT else "   ← over target"
        print(
            f"  {r['view']:<32} {r['cold'] * 1000:>9.1f} {r['p50'] * 1000:>9.1f} {r['p95'] * 1000:>9.1f} "
            f"{r['bytes'] / 1024:>11.1f}{flag}"
        )
    data.close()


if __name__ == "__main__":
    try:
        main()
    except GridtwinError as exc:
        sys.exit(f"error: {exc}")
