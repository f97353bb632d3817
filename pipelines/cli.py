"""The `gridtwin` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from pipelines import cli_load, store
from pipelines.errors import GridtwinError
from pipelines.kinds import KINDS

DEFAULT_DB = "gridtwin.duckdb"
DEMO_DB = Path("data") / "demo.duckdb"

TABLE_LABELS = {
    "districts": "区 districts",
    "streets": "街道 streets",
    "communities": "社区 communities",
    "grids": "网格 grids",
    "grid_cells": "H3 cover cells",
    "buildings": "楼栋 buildings",
    "roads": "道路 roads",
    "facilities": "设施 facilities",
    "grid_workers": "网格员 grid workers",
    "categories": "事件类别 categories",
    "incidents": "事件 incidents",
    "incident_events": "流转记录 incident events",
    "rejects": "隔离行 rejects",
}


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        for item in pair.split(","):
            target, sep, source = item.partition("=")
            if not sep or not target.strip() or not source.strip():
                raise GridtwinError(f"--map {item!r}: write it as target=source, e.g. --map lon=经度")
            if target.strip() in mapping and mapping[target.strip()] != source.strip():
                raise GridtwinError(
                    f"--map {target.strip()} is given twice ({mapping[target.strip()]}, {source.strip()})"
                )
            mapping[target.strip()] = source.strip()
    return mapping


def _print_summary(db_path: str) -> None:
    con = store.connect(db_path, read_only=True)
    try:
        counts = store.table_counts(con)
        statuses = store.incident_status_counts(con)
        types = store.facility_type_counts(con)
        end = con.execute("SELECT value FROM meta WHERE key = 'generated_end'").fetchone()
        now = dt.datetime.fromisoformat(end[0]) if end else dt.datetime.now()
        overdue = store.overdue_count(con, now)
    finally:
        con.close()
    print(f"database {db_path}")
    for table, count in counts.items():
        print(f"  {TABLE_LABELS[table]:<28} {count:>12,}")
    if statuses:
        print("  incidents by status: " + ", ".join(f"{k} {v:,}" for k, v in statuses.items()))
        print(f"  open and overdue (超期未办结): {overdue:,}")
    if types:
        print("  facilities by type: " + ", ".join(f"{k} {v:,}" for k, v in types.items()))


def cmd_generate(args) -> None:
    from pipelines.generate import generate

    end = dt.datetime.fromisoformat(args.end) if args.end else None
    generate(args.db, args.scale, args.seed, end=end, incidents=args.incidents)
    _print_summary(args.db)


def cmd_load(args) -> None:
    from pipelines.loaders import load_file

    options = cli_load.load_options(args)
    summary = load_file(args.db, args.kind, args.file, crs=args.crs, mapping=_parse_mapping(args.map), options=options)
    print("\n".join(summary.lines()))
    if summary.rejected:
        print(f"  see the rejected rows with: gridtwin rejects --db {args.db} --kind {args.kind}")
    cli_load.nothing_loaded(summary, args.db, args.kind)


def cmd_summary(args) -> None:
    _print_summary(args.db)


def cmd_rejects(args) -> None:
    con = store.connect(args.db, read_only=True)
    try:
        frame = store.rejects_frame(con, args.kind, None if args.all else args.limit)
    finally:
        con.close()
    if frame.empty:
        print("no rejected rows")
        return
    for row in frame.itertuples():
        print(
            f"load {row.load_id} {row.kind} {Path(row.source_file).name} row {row.row_number} "
            f"[{row.record_id}]: {row.reason}"
        )


COVERAGE_PRINT_LIMIT = 200
"""Above this many communities the CLI prints the worst-served ones; --csv writes them all."""


def cmd_coverage(args) -> None:
    from pipelines.coverage import METHOD_LABELS, compute_coverage
    from pipelines.roadclass import RoadFilter

    con = store.connect(args.db)
    try:
        result = compute_coverage(
            con,
            types=args.type or None,
            minutes=args.minutes,
            walk_speed_m_per_min=args.speed,
            progress=lambda step: print(f"  … {step}", file=sys.stderr),
            required=args.require,
            road_filter=RoadFilter.build(args.exclude_class, args.include_class, enabled=not args.all_roads),
        )
        areas, by_type = store.coverage_by_area(con, "community")
    finally:
        con.close()
    print(
        f"service coverage (服务圈) by {METHOD_LABELS[result.method]}, walking {args.speed:g} m/min, "
        f"{sum(result.timings_s.values()):.2f} s"
    )
    if result.report is not None:
        r = result.report
        print(
            f"  walking network: {r.nodes:,} nodes, {r.segments:,} segments, {r.length_m / 1000:,.1f} km; "
            f"{r.ends_snapped + r.ends_joined_to_lines:,} line ends snapped; "
            f"{r.dropped_components:,} disconnected parts left out ({r.dropped_length_m / 1000:,.1f} km)"
        )
        print(f"  {result.road_filter.line()}")
    else:
        print("  no roads loaded: distances are STRAIGHT-LINE distances, not walking distances")
    for row in result.types.itertuples():
        print(
            f"  {row.type:<8} {row.tier_minutes:g} min ≤{row.threshold_m:,.0f} m  facilities {row.facilities:>6,}  "
            f"residents covered {row.covered_share:6.1%}"
        )
    table = _coverage_table(areas, by_type, list(result.types["type"]))
    if args.csv:
        table.to_csv(args.csv, index=False, encoding="utf-8-sig")
        print(f"  wrote {len(table):,} communities to {args.csv}")
    shown = table
    if len(table) > COVERAGE_PRINT_LIMIT:
        shown = table.nsmallest(COVERAGE_PRINT_LIMIT, "types_in_reach")
        print(f"  the {COVERAGE_PRINT_LIMIT} worst-served of {len(table):,} communities (all of them: --csv FILE):")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def _coverage_table(areas, by_type, types: list[str]):
    """One row per community: residents, % covered per type, mean required types in reach."""
    shares = by_type[by_type["type"].isin(types)].pivot(index="code", columns="type", values="share") * 100
    table = areas.set_index("code")[["name", "residents", "types_in_reach", "required_types"]].join(
        shares[types].add_suffix(" %")
    )
    return table.reset_index().rename(columns={"code": "community_code"})


def cmd_user_add(args) -> None:
    import getpass

    from pipelines import auth

    password = args.password or os.environ.get("GRIDTWIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise GridtwinError("no password given: pass --password, set GRIDTWIN_PASSWORD, or run in a terminal")
        password = getpass.getpass(f"password for {args.name}: ")
    con = store.connect(args.db)
    try:
        new = auth.add_user(con, args.name, args.role, password)
    finally:
        con.close()
    print(f"{'created' if new else 'updated'} user {args.name} ({args.role}) in {args.db}")


def cmd_user_list(args) -> None:
    con = store.connect(args.db, read_only=True)
    try:
        frame = store.users_frame(con)
    finally:
        con.close()
    print(frame.to_string(index=False) if len(frame) else "no users yet: gridtwin user add NAME --role admin")


def cmd_apikey_add(args) -> None:
    from pipelines import auth

    con = store.connect(args.db)
    try:
        key = auth.new_api_key(con, args.name, args.role)
    finally:
        con.close()
    print(f"API key for {args.name} ({args.role}); it is stored hashed, so keep it now:\n{key}")


def cmd_simulate(args) -> None:
    from pipelines.http_simulator import run

    run(args.url, args.api_key, args.rate, args.duration, args.advance_key, seed=args.seed)


DEMO_ACCOUNTS = (
    ("viewer", "viewer", "demo-viewer"),
    ("dispatcher", "dispatcher", "demo-dispatcher"),
    ("admin", "admin", "demo-admin"),
)
"""(user, role, password) created by `gridtwin demo` — documented in the README, for the demo city only."""


def _demo_accounts(db: Path) -> None:
    from pipelines import auth

    con = store.connect(db)
    try:
        for name, role, password in DEMO_ACCOUNTS:
            if store.user_row(con, name) is None:
                auth.add_user(con, name, role, password)
        store.set_meta(con, "demo_accounts", ", ".join(f"{n} / {p}" for n, _, p in DEMO_ACCOUNTS))
    finally:
        con.close()
    print("demo accounts: " + ", ".join(f"{n} / {p} ({r})" for n, r, p in DEMO_ACCOUNTS))


DEMO_STALE = dt.timedelta(hours=6)


def _demo_is_stale(db: Path) -> bool:
    """A generated demo whose history ended hours ago shows an empty 'today': rebuild it."""
    con = store.connect(db, read_only=True)
    try:
        rows = dict(con.execute("SELECT key, value FROM meta WHERE key IN ('generated', 'generated_end')").fetchall())
    finally:
        con.close()
    if not rows.get("generated", "").startswith("demo") or "generated_end" not in rows:
        return False
    return dt.datetime.now() - dt.datetime.fromisoformat(rows["generated_end"]) > DEMO_STALE


def cmd_demo(args) -> None:
    db = Path(args.db)
    from pipelines.generate import generate

    if not db.exists():
        print(f"building the demo city in {db} …")
        generate(db, "demo", 7)
    elif _demo_is_stale(db):
        print(
            f"the demo history in {db} ended more than {DEMO_STALE.seconds // 3600} hours ago: rebuilding it up to now …"
        )
        generate(db, "demo", 7)
    _print_summary(str(db))
    _demo_accounts(db)
    if args.no_serve:
        return
    _serve(db, args.host, args.port, args.tiles, live_feed=True)


def cmd_serve(args) -> None:
    db = Path(args.db)
    if not db.exists():
        raise GridtwinError(f"database {db} does not exist: build one with `gridtwin generate --db {db}`")
    _serve(db, args.host, args.port, args.tiles, live_feed=args.live)


def _serve(db: Path, host: str, port: int, tiles: str | None, live_feed: bool) -> None:
    from dashboard.app import create_app

    app = create_app(db, tile_url=tiles, live_feed=live_feed)
    where = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"gridtwin dashboard on http://{where}:{port}/  (wall screen: http://{where}:{port}/?screen=wall)")
    if live_feed:
        print("live feed on: a simulated incident arrives every few seconds; Ctrl+C stops")
    try:
        app.run(host=host, port=port, debug=False)
    except OSError as exc:
        raise GridtwinError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from exc
    finally:
        if app.gridtwin_feed is not None:
            app.gridtwin_feed.stop()
        app.gridtwin_data.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridtwin", description="gridtwin: 一网统管 geospatial digital twin")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="build the synthetic demo city (示例区) into a database")
    p.add_argument("--db", default=DEFAULT_DB, help="database file (default: %(default)s)")
    p.add_argument(
        "--scale",
        choices=("demo", "city"),
        default="demo",
        help="demo: 300 grids, 50k incidents; city: 65k grids, 10M incidents",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed and --end, same city)")
    p.add_argument("--end", help="last moment of incident history, e.g. 2026-11-22T18:00 (default: now)")
    p.add_argument("--incidents", type=int, help="override the number of incidents")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("load", help="load a file of grids, buildings, roads, facilities or incidents")
    p.add_argument("kind", choices=tuple(KINDS))
    p.add_argument("file", help="GeoJSON, GeoPackage, zipped Shapefile, GeoParquet, CSV or XLSX")
    p.add_argument("--db", default=DEFAULT_DB, help="database file (default: %(default)s)")
    p.add_argument("--crs", help="coordinate system of the file: EPSG:4326, EPSG:4490, EPSG:4547, gcj02, bd09 …")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="TARGET=SOURCE",
        help="take our column TARGET from the file's column SOURCE (repeat, or comma-separate)",
    )
    cli_load.add_load_options(p)
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("summary", help="print what a database holds")
    p.add_argument("--db", default=DEFAULT_DB)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("rejects", help="list quarantined rows with their reasons")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--kind", choices=tuple(KINDS))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--all", action="store_true", help="every rejected row (no --limit)")
    p.set_defaults(func=cmd_rejects)
    cli_load.add_quality_parser(sub)

    p = sub.add_parser("coverage", help="walking access to facilities (15-minute life circle) per community")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--type", action="append", help="facility type, e.g. 幼儿园 (repeat; default: every loaded type)")
    p.add_argument("--minutes", type=float, help="one walking time for all types instead of the life-circle tiers")
    p.add_argument("--speed", type=float, default=60.0, help="walking speed in m/min (default: %(default)s)")
    p.add_argument("--csv", help="also write the per-community table to this CSV file")
    cli_load.add_coverage_options(p)
    p.set_defaults(func=cmd_coverage)

    p = sub.add_parser("user", help="dashboard accounts: add or list (roles viewer, dispatcher, admin)")
    user_sub = p.add_subparsers(dest="user_command", required=True)
    q = user_sub.add_parser("add", help="create a user or reset its role and password")
    q.add_argument("name")
    q.add_argument("--role", choices=("viewer", "dispatcher", "admin"), default="viewer")
    q.add_argument("--password", help="at least 8 characters (default: GRIDTWIN_PASSWORD, or asked for)")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_user_add)
    q = user_sub.add_parser("list", help="list the users")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_user_list)

    p = sub.add_parser("apikey", help="API keys for the intake API (stored hashed)")
    key_sub = p.add_subparsers(dest="key_command", required=True)
    q = key_sub.add_parser("add", help="create a key and print it once")
    q.add_argument("name", help="who gets it, e.g. 12345热线")
    q.add_argument("--role", choices=("intake", "dispatcher", "admin"), default="intake")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_apikey_add)

    p = sub.add_parser("simulate", help="post realistic incidents to a running server and move some along")
    p.add_argument("--url", required=True, help="the server, e.g. http://localhost:8050")
    p.add_argument("--rate", type=float, default=0.5, help="new incidents per second (default: %(default)s)")
    p.add_argument("--api-key", required=True, help="an intake key (gridtwin apikey add NAME)")
    p.add_argument("--advance-key", help="a dispatcher key: also accept, dispatch, start and resolve incidents")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--seed", type=int, default=5)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("serve", help="start the dashboard on a database")
    p.add_argument("--db", default=DEFAULT_DB)
    _server_options(p)
    p.add_argument("--live", action="store_true", help="also run the simulated live incident feed")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo city if missing and start the dashboard with a live feed")
    p.add_argument("--db", default=str(DEMO_DB))
    _server_options(p)
    p.add_argument("--no-serve", action="store_true", help="only build the demo database and print its summary")
    p.set_defaults(func=cmd_demo)
    return parser


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8050, help="port (default: %(default)s)")
    p.add_argument("--tiles", help="optional XYZ tile URL template, e.g. an intranet server or 天地图 with your key")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except GridtwinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing partial was committed", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
