"""The archive commands of `gridtwin`: ``export`` (database → GeoParquet archive) and ``batch`` (Dask jobs on it)."""

from __future__ import annotations

import argparse
import time

from pipelines.cli_accounts import DEFAULT_DB


def cmd_export(args) -> None:
    from pipelines.archive.export import export_archive

    started = time.perf_counter()
    summary = export_archive(args.db, args.to, row_group_rows=args.row_group_rows)
    print(f"archive {args.to} from {args.db} in {time.perf_counter() - started:.1f} s")
    for line in summary.lines():
        print(f"  {line}")


def cmd_batch_reassign(args) -> None:
    from pipelines.archive import batch

    started = time.perf_counter()
    with batch.dask_client(args.scheduler, args.workers, args.memory_limit) as client:
        lines = batch.reassign(args.archive, args.grids, args.to, client)
    print(f"new archive {args.to} in {time.perf_counter() - started:.1f} s")
    for line in lines:
        print(f"  {line}")


def cmd_batch_aggregate(args) -> None:
    from pipelines.archive import batch

    out = args.to or f"{args.archive.rstrip('/')}/aggregates/grid_month.parquet"
    started = time.perf_counter()
    with batch.dask_client(args.scheduler, args.workers, args.memory_limit) as client:
        table = batch.aggregate(args.archive, out, client)
    print(f"{len(table):,} grid × month rows ({int(table['incidents'].sum()):,} incidents) written to {out}")
    print(f"  in {time.perf_counter() - started:.1f} s")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _dask_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--archive", required=True, help="archive folder or URL (file://, s3:// … reachable by every worker)"
    )
    p.add_argument(
        "--scheduler",
        default="local",
        help="`local` (worker processes on this machine) or a scheduler address, e.g. tcp://host:8786",
    )
    p.add_argument("--workers", type=_positive, default=2, help="worker processes of a local cluster (default: 2)")
    p.add_argument("--memory-limit", default="4GB", help="memory limit per local worker (default: %(default)s)")


def add_archive_commands(sub: argparse._SubParsersAction) -> None:
    from pipelines.archive.layout import ROW_GROUP_ROWS

    p = sub.add_parser("export", help="write (or bring up to date) a partitioned GeoParquet archive of a database")
    p.add_argument("--db", default=DEFAULT_DB, help="database file (default: %(default)s; opened read-only)")
    p.add_argument("--to", required=True, help="archive folder or URL; only changed partitions are rewritten")
    p.add_argument(
        "--row-group-rows",
        type=_positive,
        default=ROW_GROUP_ROWS,
        help="rows per Parquet row group (default: %(default)s)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("batch", help="whole-archive jobs on a Dask cluster (reassign, aggregate)")
    jobs = p.add_subparsers(dest="job", required=True)
    j = jobs.add_parser("reassign", help="re-assign every point to redrawn grids and write a new archive")
    _dask_options(j)
    j.add_argument("--grids", required=True, help="the new grids (any file `gridtwin load grids` reads)")
    j.add_argument("--to", required=True, help="folder or URL of the new archive (must differ from --archive)")
    j.set_defaults(func=cmd_batch_reassign)
    j = jobs.add_parser("aggregate", help="per grid × month counts, 结案率 and 按期结案率, as Parquet")
    _dask_options(j)
    j.add_argument("--to", help="output Parquet file (default: ARCHIVE/aggregates/grid_month.parquet)")
    j.set_defaults(func=cmd_batch_aggregate)
