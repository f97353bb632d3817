"""`gridtwin batch`: whole-archive jobs on a Dask cluster, one task per incidents file.

``reassign`` recomputes every point's grid after a redraw (网格调整) and writes a new archive;
``aggregate`` counts incidents per grid × month with 结案率 and 按期结案率.  The scheduler is
``local`` (a :class:`distributed.LocalCluster` of worker processes on this machine) or the address of
a running scheduler (``tcp://host:8786``), whose workers must reach the archive at the same URL
(a shared folder or object storage such as ``s3://``).  Each task reads one incidents file (and the events
file of the same name), so a worker's memory is bounded by the largest file, whatever the archive's size.
"""

from __future__ import annotations

import contextlib
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import shapely

from pipelines import store
from pipelines.archive import layout, partitions
from pipelines.archive.partitions import AreaPayload
from pipelines.area import read_area
from pipelines.errors import GridtwinError
from pipelines.store.archive import layer_rows


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int = 2, memory_limit: str = "4GB") -> Iterator:
    """A Dask client: ``local`` starts a cluster of ``workers`` processes; otherwise connect to ``scheduler``."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        if not 1 <= workers <= 256:
            raise GridtwinError(f"--workers must be from 1 to 256, got {workers}")
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    if not scheduler.startswith(("tcp://", "tls://", "ucx://")):
        raise GridtwinError(f"--scheduler {scheduler!r}: give `local` or a scheduler address such as tcp://host:8786")
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise GridtwinError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        yield client


def archive_partitions(archive: str) -> list[tuple[str, str]]:
    """(district, month) of every incident partition of the archive."""
    return sorted({(d, m) for d, m, _ in archive_files(archive)})


def archive_files(archive: str) -> list[tuple[str, str, str]]:
    """(district, month, file name without ``.parquet``) of every incidents file: one batch task each.

    Every writer of an archive puts a file's events in the ``incident_events`` file of the same partition and
    name, so a task reads one file of each; an events file without its incidents file is refused.
    """
    fs, root = layout.filesystem(archive)
    if not fs.exists(f"{root}/incidents"):
        raise GridtwinError(f"{archive} holds no incidents/ folder: write one with `gridtwin export --to {archive}`")

    def units(table: str) -> set[tuple[str, str, str]]:
        found = layout.partition_files(fs, root, table)
        return {(*layout.partition_of(p), posixpath.basename(p).removesuffix(".parquet")) for p in found}

    files = units("incidents")
    stray = units("incident_events") - files
    if stray:
        district, month, name = sorted(stray)[0]
        raise GridtwinError(
            f"{archive}: {len(stray):,} incident_events file(s) without the incidents file of the same name,"
            f" e.g. {layout.partition_dir('incident_events', district, month)}/{name}.parquet;"
            " write the archive with `gridtwin export`"
        )
    return sorted(files)


def area_from_file(grids_path: str | Path) -> tuple[AreaPayload, pa.Table, list[str]]:
    """Read new grids exactly as `gridtwin load grids` does (same checks, codes, H3 cover) into a scratch database."""
    from pipelines.loaders import load_file

    path = Path(grids_path)
    if not path.exists():
        raise GridtwinError(f"--grids {grids_path} does not exist")
    with tempfile.TemporaryDirectory(prefix="gridtwin-grids-") as scratch:
        db = Path(scratch) / "grids.duckdb"
        summary = load_file(db, "grids", path, progress=False)
        con = store.connect(db, read_only=True)
        try:
            area = read_area(con)
            grids = layer_rows(con, "grids")
        finally:
            con.close()
    if area is None:
        raise GridtwinError(f"--grids {grids_path}: no valid grid in the file (see `gridtwin rejects`)")
    notes = [f"{summary.rejected:,} grid(s) of the file were rejected"] if summary.rejected else []
    payload = AreaPayload(uuid.uuid4().hex, area.cover, shapely.to_wkb(area.geoms), area.grids.copy())
    return payload, grids, notes


def reassign(archive: str, grids_path: str, out: str, client, prepared=None) -> list[str]:
    """Write ``out``: the archive's incidents, events, buildings and facilities assigned to the new grids.

    ``prepared`` is :func:`area_from_file`'s result when the caller already read the grids.
    """
    if layout.filesystem(out) == layout.filesystem(archive):
        raise GridtwinError("--to must differ from --archive: the new archive is written beside the old one")
    ofs, oroot = layout.filesystem(out)
    if layout.partition_files(ofs, oroot, "incidents"):
        raise GridtwinError(f"--to {out} already holds an archive: give a new folder (old files would stay mixed in)")
    todo = archive_files(archive)
    area, grids, notes = prepared or area_from_file(grids_path)
    shared = client.scatter(area, broadcast=True)
    futures = [
        client.submit(partitions.reassign_file, archive, out, d, m, name, shared, pure=False) for d, m, name in todo
    ]
    layers = [
        client.submit(partitions.reassign_layer, archive, out, t, shared, pure=False)
        for t in ("buildings", "facilities")
    ]
    results = client.gather(futures)
    layer_results = client.gather(layers)
    layout.write_file(
        ofs,
        f"{oroot}/grids.parquet",
        layout.with_geometry(grids, *layout.shape_geometry(grids.column("geometry").combine_chunks())),
    )
    rows = sum(r["rows"] for r in results)
    lines = [
        f"{rows:,} incidents in {len(todo):,} files re-assigned to {len(area.codes):,} grids;"
        f" {sum(r['moved'] for r in results):,} changed district, {sum(r['outside'] for r in results):,} outside every grid",
        *(
            f"{t}: {r['rows']:,} re-assigned, {r['outside']:,} outside"
            for t, r in zip(("buildings", "facilities"), layer_results, strict=True)
            if r["rows"]
        ),
        *notes,
    ]
    return lines


def aggregate(archive: str, out: str, client) -> pd.DataFrame:
    """Per grid × report month: incidents, closed, closed on time, closure and on-time rates; written to ``out``."""
    by_partition: dict[tuple[str, str], list[str]] = {}
    for district, month, name in archive_files(archive):
        by_partition.setdefault((district, month), []).append(name)
    futures = [  # one task per partition: its result is one row per grid, not one per grid and file
        client.submit(partitions.aggregate_partition, archive, d, m, names, pure=False)
        for (d, m), names in by_partition.items()
    ]
    table = partitions.combine_counts(client.gather(futures))
    ofs, opath = layout.filesystem(out)
    layout.write_file(ofs, opath, pa.Table.from_pandas(table, preserve_index=False))
    return table
