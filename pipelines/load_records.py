"""What a load leaves behind besides its rows: the file's digest, the rejected rows, the import history.

Every loader (the five kinds and the party rosters) records through these, so `gridtwin rejects` and the
data-quality report read one shape of history.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from pipelines.kinds import Kind
from pipelines.store.loads import record_load
from pipelines.store.meta import bump_data_version
from pipelines.store.rows import append_rows
from pipelines.summary import LoadSummary
from pipelines.validate import Prepared


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_summary(con, load_id: int, path: Path, sha: str, crs: str | None, summary: LoadSummary) -> None:
    """The import history row of one load (every loader, the party rosters too) and the change counter."""
    record_load(
        con,
        {
            "load_id": load_id,
            "kind": summary.kind,
            "source_file": str(path),
            "file_sha256": sha,
            "crs": crs or "",
            "rows_in": summary.rows_in,
            "rows_loaded": summary.loaded,
            "rows_rejected": summary.rejected,
            "rows_repaired": summary.repaired,
        },
    )
    bump_data_version(con)


def quarantine(
    con,
    kind: Kind,
    load_id: int,
    source: str,
    sha: str,
    prepared: Prepared,
    problems: pd.Series,
    summary: LoadSummary,
    row_numbers: np.ndarray,
) -> None:
    bad = (problems != "").to_numpy(bool)
    ids = prepared.frame[kind.id_column].astype("string")
    summary.add_rejects(problems.reset_index(drop=True), ids.reset_index(drop=True), row_numbers)
    if not bad.any():
        return
    raw = prepared.raw[bad].copy()
    if "geometry" in raw.columns:
        raw["geometry"] = [g.wkt if isinstance(g, shapely.Geometry) else g for g in raw["geometry"]]
    raw_json = raw.astype("string").to_json(orient="records", lines=True, force_ascii=False).splitlines()
    frame = pd.DataFrame(
        {
            "load_id": load_id,
            "kind": kind.name,
            "source_file": source,
            "file_sha256": sha,
            "row_number": row_numbers[bad],
            "record_id": ids[bad].to_numpy(),
            "reason": problems[bad].to_numpy(dtype=object),
            "raw": raw_json,
        }
    )
    append_rows(con, "rejects", frame)
