"""The data-quality page's view model (数据质量): the tables of :func:`pipelines.quality.quality_report`.

Per kind, rows in/loaded/rejected and the reject reasons; grid topology problems (overlaps, gaps, slivers);
points outside every grid; buildings far from any road; facilities by type against the service standards.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.i18n import facility_label, t
from pipelines.quality import FAR_FROM_ROAD_M, quality_report

MAX_ROWS = 200
"""Long tables (topology problems, far buildings) show this many rows; the CLI `gridtwin quality` has the rest."""

FACILITY_KEYS = ("type", "tier_minutes", "required", "facilities", "state")
KIND_LABELS = ("grids", "buildings", "roads", "facilities", "incidents", "grid_workers")


@dataclass
class Section:
    key: str
    """The table's id on the page: quality-<key>."""
    title: str
    note: str
    columns: list[dict]
    rows: list[dict]


def _kind(value, lang: str) -> str:
    return t(f"kind_{value}", lang) if value in KIND_LABELS else str(value)


def _columns(keys: tuple[str, ...], lang: str) -> list[dict]:
    return [{"name": t(f"q_{key}", lang), "id": key} for key in keys]


def _records(frame: pd.DataFrame, keys: tuple[str, ...], lang: str) -> list[dict]:
    frame = frame.head(MAX_ROWS).copy()
    if "kind" in frame.columns:
        frame["kind"] = [_kind(k, lang) for k in frame["kind"]]
    for column in ("area_m2", "width_m"):
        if column in frame.columns:
            frame[column] = frame[column].astype(float).round(1)
    for column in ("lon", "lat"):
        if column in frame.columns:
            frame[column] = frame[column].astype(float).round(5)
    return frame[list(keys)].astype(object).where(frame[list(keys)].notna(), None).to_dict("records")


def _more(frame: pd.DataFrame, lang: str) -> str:
    return t("q_first_rows", lang).format(n=MAX_ROWS, total=len(frame)) if len(frame) > MAX_ROWS else ""


def sections(data, lang: str) -> list[Section]:
    """The report's tables, in the order the page shows them."""
    with data.cursor() as cur:
        report = quality_report(cur)
    loads = ("kind", "source_file", "rows_in", "rows_loaded", "rows_rejected", "rows_repaired")
    reasons = ("kind", "reason", "rows")
    topology = ("problem", "grids", "area_m2", "width_m", "lon", "lat")
    outside = ("kind", "stored_without_grid", "rejected")
    far = ("building_id", "lon", "lat")
    types = report.facility_types.assign(
        type=[facility_label(k, lang) for k in report.facility_types["type"]],
        required=[t("yes" if r else "no", lang) for r in report.facility_types["required"]],
        tier_minutes=report.facility_types["tier_minutes"].astype("Float64"),
        state=[
            t("q_missing" if r and not n else ("q_custom" if not s else "q_ok"), lang)
            for r, n, s in zip(
                report.facility_types["required"],
                report.facility_types["facilities"],
                report.facility_types["standard"],
                strict=True,
            )
        ],
    )
    topo = report.topology.assign(problem=[t(f"q_{p}", lang) for p in report.topology["problem"]])
    counts = report.topology["problem"].value_counts()
    return [
        Section(
            "loads",
            t("q_loads", lang),
            "" if len(report.loads) else t("q_no_loads", lang),
            _columns(loads, lang),
            _records(report.loads, loads, lang),
        ),
        Section("reasons", t("q_reasons", lang), "", _columns(reasons, lang), _records(report.reasons, reasons, lang)),
        Section(
            "topology",
            t("q_topology", lang),
            t("q_topology_note", lang).format(
                overlap=counts.get("overlap", 0), gap=counts.get("gap", 0), sliver=counts.get("sliver", 0)
            )
            + _more(topo, lang),
            _columns(topology, lang),
            _records(topo, topology, lang),
        ),
        Section("outside", t("q_outside", lang), "", _columns(outside, lang), _records(report.outside, outside, lang)),
        Section(
            "far",
            t("q_far", lang).format(m=FAR_FROM_ROAD_M),
            t("q_far_note", lang).format(n=len(report.far_buildings)) + _more(report.far_buildings, lang),
            _columns(far, lang),
            _records(report.far_buildings, far, lang),
        ),
        Section(
            "facilities",
            t("q_facilities", lang),
            "",
            [{"name": t("q_facilities_n" if k == "facilities" else f"q_{k}", lang), "id": k} for k in FACILITY_KEYS],
            _records(types, FACILITY_KEYS, lang),
        ),
    ]
