"""Dashboard benchmark: time and payload of every view at the city scale.

    python bench/dashboard.py [--db /tmp/gridtwin-city.duckdb] [--repeat 20] [--only party]

Builds the city (``gridtwin generate --scale city``: 65,025 grids, 10,000,000
incidents) into ``--db`` if the file holds no incidents, then runs each view's
work exactly as its Dash callback does (SQL, shaping, Plotly figure) and
prints p50/p95 of the warm runs, the first (cold-cache) run, and the JSON
payload the browser would receive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

# This file is named like the package it measures: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import plotly.io as pio  # noqa: E402

from dashboard.components.urls import DEFAULT_LAYERS  # noqa: E402
from dashboard.data import DashboardData  # noqa: E402
from dashboard.models import hex_resolution  # noqa: E402
from dashboard.views import cockpit, command, leader, party  # noqa: E402
from pipelines import store  # noqa: E402
from pipelines.errors import GridtwinError  # noqa: E402
from pipelines.generate import generate  # noqa: E402
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
                data.con, until - dt.timedelta(weeks=cockpit.TREND_WEEKS), until, level, code, by="week"
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
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="measure only the views whose name contains this (e.g. party)")
    args = parser.parse_args(argv)

    ONLY[0] = args.only
    ensure_city(args.db, args.seed)
    probe = store.connect(args.db, read_only=True)
    end = probe.execute("SELECT max(reported_at) FROM incidents").fetchone()[0]
    counts = table_counts(probe)
    probe.close()
    data = DashboardData(args.db, clock=lambda: end)

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
