"""The load side of the command line: the options of `gridtwin load`, and `gridtwin quality`.

Kept apart from :mod:`pipelines.cli` so the entry point can move without these; each piece is a small function.
"""

from __future__ import annotations

import argparse
import datetime as dt

from pipelines import store
from pipelines.errors import GridtwinError, LoadError
from pipelines.incident_rules import parse_deadlines
from pipelines.options import LoadOptions
from pipelines.values import merge_values, parse_value_items, read_value_file


def add_value_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--value",
        action="append",
        default=[],
        metavar="COLUMN:SOURCE=TARGET",
        help="map a value, e.g. --value status:Pending=reported (repeat; empty TARGET = no value)",
    )
    p.add_argument("--values", action="append", default=[], metavar="FILE", help="a file of COLUMN:SOURCE=TARGET lines")


def add_date_options(p: argparse.ArgumentParser) -> None:
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", action="store_const", const="dayfirst", dest="date_order", help="13/05/2024")
    order.add_argument("--monthfirst", action="store_const", const="monthfirst", dest="date_order", help="05/13/2024")
    p.add_argument(
        "--tz", help="zone of times without an offset, e.g. America/New_York (default: the database's, Asia/Shanghai)"
    )


def add_shape_options(p: argparse.ArgumentParser) -> None:
    merge = p.add_mutually_exclusive_group()
    merge.add_argument(
        "--merge-parts",
        action="store_const",
        const=True,
        dest="merge_parts",
        help="features sharing an id become one (Multi)geometry (default for OpenStreetMap ids)",
    )
    merge.add_argument("--no-merge-parts", action="store_const", const=False, dest="merge_parts")
    p.add_argument(
        "--density",
        action="append",
        default=[],
        metavar="USE=PERSONS_PER_M2",
        help="residents per m² of floor area for a use (residential, mixed, unknown, other, or a use value)",
    )


def add_incident_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-closed-without-time",
        action="store_true",
        help="keep rows whose status is closed (办结) but have no resolved_at",
    )
    p.add_argument("--archive-before", metavar="DATE", help="open incidents reported before DATE are archived")
    p.add_argument(
        "--deadline", action="append", default=[], metavar="CATEGORY=HOURS", help="a category's deadline (时限)"
    )


def add_load_options(p: argparse.ArgumentParser) -> None:
    add_value_options(p)
    add_date_options(p)
    add_shape_options(p)
    add_incident_options(p)


def _densities(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        use, _, number = item.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not use.strip() or value < 0:
            raise LoadError(f"--density {item!r}: write it as USE=PERSONS_PER_M2, e.g. --density office=0")
        out[use.strip()] = value
    return out


def _date(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise LoadError(f"{option} {text!r}: write a date like 2025-01-01") from exc


def load_options(args) -> LoadOptions:
    values = merge_values(*(read_value_file(f) for f in args.values), parse_value_items(args.value))
    return LoadOptions(
        values=values,
        date_order=args.date_order,
        tz=args.tz,
        merge_parts=args.merge_parts,
        archive_before=_date(args.archive_before, "--archive-before"),
        deadlines=parse_deadlines(args.deadline),
        allow_closed_without_time=args.allow_closed_without_time,
        densities=_densities(args.density),
    )


def nothing_loaded(summary, db: str, kind: str) -> None:
    """A load that stored no row is a failure: say so and exit non-zero."""
    if summary.loaded == 0:
        raise GridtwinError(
            f"nothing was loaded from {summary.source} ({summary.rows_in:,} rows read): "
            f"see the reasons above and `gridtwin rejects --db {db} --kind {kind} --all`"
        )


def cmd_quality(args) -> None:
    from pipelines.quality import quality_report

    con = store.connect(args.db, read_only=True)
    try:
        report = quality_report(con)
    finally:
        con.close()
    print("\n".join(report.lines()))


def add_quality_parser(sub) -> None:
    p = sub.add_parser("quality", help="data-quality report: rejects, grid topology, stray points, facility gaps")
    p.add_argument("--db", default="gridtwin.duckdb")
    p.set_defaults(func=cmd_quality)


def add_coverage_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--require", action="append", default=[], metavar="TYPE", help="count TYPE in the life circle")
    p.add_argument("--exclude-class", action="append", default=[], metavar="CLASS", help="a road class not walked on")
    p.add_argument("--include-class", action="append", default=[], metavar="CLASS", help="walk on this class after all")
    p.add_argument("--all-roads", action="store_true", help="walk on every line, rail and ferries included")
