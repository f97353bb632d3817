"""The pipelines' commands of `gridtwin`: generate, load, summary, rejects, coverage, user, apikey, simulate, export, batch.

The account commands (user, apikey) are in :mod:`pipelines.cli_accounts`, the archive ones (export, batch)
in :mod:`pipelines.cli_archive`.

:func:`add_commands` puts them on an argparse sub-command set and :func:`main` runs a parsed
command, turning a :class:`~pipelines.errors.GridtwinError` into one line and exit code 1.  The
console script is :func:`dashboard.cli.main`: it adds ``serve`` and ``demo`` (which need the
dashboard) to these, so this package never imports the dashboard.  :func:`prepare_demo` is the
pipelines' half of ``demo``: build or refresh the demo city and its accounts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pipelines import cli_load, store
from pipelines.cli_accounts import DEFAULT_DB, add_account_commands
from pipelines.cli_archive import add_archive_commands
from pipelines.errors import GridtwinError
from pipelines.incidents.repository import incident_status_counts, overdue_count
from pipelines.kinds import KINDS
from pipelines.party.kinds import PARTY_KINDS
from pipelines.store.accounts import user_row
from pipelines.store.coverage import coverage_by_area
from pipelines.store.loads import rejects_frame
from pipelines.store.meta import meta_value, set_meta
from pipelines.store.rows import facility_type_counts, table_counts

__all__ = ["DEFAULT_DB", "add_commands", "build_parser", "main", "prepare_demo"]

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
        counts = table_counts(con)
        statuses = incident_status_counts(con)
        types = facility_type_counts(con)
        end = meta_value(con, "generated_end")
        now = dt.datetime.fromisoformat(end) if end else dt.datetime.now()
        overdue = overdue_count(con, now)
        party = _party_summary(con)
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
    print("\n".join(party))


def _party_summary(con) -> list[str]:
    from pipelines.party.report import summary_lines

    return summary_lines(con)


def cmd_generate(args) -> None:
    from pipelines.generate import generate

    end = dt.datetime.fromisoformat(args.end) if args.end else None
    generate(args.db, args.scale, args.seed, end=end, incidents=args.incidents)
    _print_summary(args.db)


def cmd_load(args) -> None:
    from pipelines.loaders import load_file

    if args.kind in PARTY_KINDS:
        from pipelines.party.load import load_party_file

        summary = load_party_file(args.db, args.kind, args.file, mapping=_parse_mapping(args.map))
    else:
        options = cli_load.load_options(args)
        summary = load_file(
            args.db, args.kind, args.file, crs=args.crs, mapping=_parse_mapping(args.map), options=options
        )
    print("\n".join(summary.lines()))
    if summary.rejected:
        print(f"  see the rejected rows with: gridtwin rejects --db {args.db} --kind {args.kind}")
    cli_load.nothing_loaded(summary, args.db, args.kind)


def cmd_summary(args) -> None:
    _print_summary(args.db)


def cmd_rejects(args) -> None:
    con = store.connect(args.db, read_only=True)
    try:
        frame = rejects_frame(con, args.kind, None if args.all else args.limit)
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
        areas, by_type = coverage_by_area(con, "community")
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


def cmd_simulate(args) -> None:
    from pipelines.incidents.http_simulator import run

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
            if user_row(con, name) is None:
                auth.add_user(con, name, role, password)
        set_meta(con, "demo_accounts", ", ".join(f"{n} / {p}" for n, _, p in DEMO_ACCOUNTS))
    finally:
        con.close()
    print("demo accounts: " + ", ".join(f"{n} / {p} ({r})" for n, r, p in DEMO_ACCOUNTS))


DEMO_STALE = dt.timedelta(hours=6)


def _demo_is_stale(db: Path) -> bool:
    """A generated demo whose history ended hours ago shows an empty 'today': rebuild it."""
    con = store.connect(db, read_only=True)
    try:
        generated, end = meta_value(con, "generated"), meta_value(con, "generated_end")
    finally:
        con.close()
    if not (generated or "").startswith("demo") or end is None:
        return False
    return dt.datetime.now() - dt.datetime.fromisoformat(end) > DEMO_STALE


def _refuse_real_database(db: Path) -> None:
    """The demo accounts have published passwords: they go only into a city `generate` made."""
    con = store.connect(db, read_only=True)
    try:
        marked = meta_value(con, "demo_city") == "true"
    finally:
        con.close()
    if not marked:
        raise GridtwinError(
            f"{db} is not a demo city (gridtwin generate did not build it), so the demo accounts are not added:"
            " give `gridtwin demo --db` a new path, or build a demo city with `gridtwin generate --db PATH`"
        )


def prepare_demo(db: Path) -> None:
    """Build the demo city in ``db`` if it is missing or its history is stale; print it; add the demo accounts.

    An existing database that ``generate`` did not make (no ``meta.demo_city``) is refused untouched.
    """
    from pipelines.generate import generate

    if db.exists():
        _refuse_real_database(db)
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


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The `gridtwin` parser with the pipelines' commands, and its sub-command set to add more to."""
    parser = argparse.ArgumentParser(prog="gridtwin", description="gridtwin: 一网统管 geospatial digital twin")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub)
    return parser, sub


def cmd_party(args) -> None:
    from pipelines.party.indicators import indicator_table
    from pipelines.party.report import table_lines

    con = store.connect(args.db, read_only=True)
    try:
        table = indicator_table(con, args.level, args.parent)
    finally:
        con.close()
    if table.empty:
        raise GridtwinError(f"no {args.level} in {args.db}" + (f" within {args.parent}" if args.parent else ""))
    print(f"党建引领 indicators per {args.level}" + (f" within {args.parent}" if args.parent else ""))
    print("\n".join(table_lines(table, args.level, args.lang)))


def _add_party_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("party", help="party-building indicators (党建引领) per district, street, community or grid")
    p.add_argument("--db", default=DEFAULT_DB)
    p.add_argument("--level", choices=("district", "street", "community", "grid"), default="street")
    p.add_argument("--parent", help="only the units within this code of the level above")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.set_defaults(func=cmd_party)


def add_commands(sub: argparse._SubParsersAction) -> None:
    _add_party_command(sub)
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
    p.add_argument("kind", choices=(*KINDS, *PARTY_KINDS))
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
    p.add_argument("--kind", choices=(*KINDS, *PARTY_KINDS))
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

    add_account_commands(sub)
    add_archive_commands(sub)

    p = sub.add_parser("simulate", help="post realistic incidents to a running server and move some along")
    p.add_argument("--url", required=True, help="the server, e.g. http://localhost:8050")
    p.add_argument("--rate", type=float, default=0.5, help="new incidents per second (default: %(default)s)")
    p.add_argument("--api-key", required=True, help="an intake key (gridtwin apikey add NAME)")
    p.add_argument("--advance-key", help="a dispatcher key: also accept, dispatch, start and resolve incidents")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl+C)")
    p.add_argument("--seed", type=int, default=5)
    p.set_defaults(func=cmd_simulate)


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command (of ``parser``, default: the pipelines' commands); 0 on success, 1 with one line on error."""
    args = (parser or build_parser()[0]).parse_args(argv)
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
