"""What an imported incident must make sense as: status, time order, deadline, archive.

* Status: our codes after value mapping (:mod:`pipelines.values`); unknown words are rejected and listed once with
  counts and the ``--value`` line that maps them; no status → 办结 (resolved) when resolved_at is given, else 上报.
* Time order: resolved_at before reported_at is rejected; a closed status (resolved/evaluated) without
  resolved_at is rejected unless ``--allow-closed-without-time``; an open status with a resolved_at is rejected.
* Deadlines: ``--deadline CATEGORY=HOURS`` sets a category's 时限 before due times are computed; categories new to
  the database get the default and are listed with it and the option that sets theirs.
* ``--archive-before DATE``: open incidents reported before DATE are stored archived (``archived`` = true, no
  due time), so a historical import does not show years of overdue items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.domain import DEFAULT_DEADLINE_H, DEFAULT_DEPARTMENT, PRIORITIES, SOURCES
from pipelines.errors import LoadError
from pipelines.options import LoadOptions
from pipelines.store.categories import category_deadlines, ensure_categories, set_deadline
from pipelines.values import unknown_values_line
from pipelines.vocabulary import DEFAULT_AFFAIR_CLASS, OPEN_STATUSES, STATUS_ALIASES, STATUSES

CLOSED = ("resolved", "evaluated")


def _reject(problems: pd.Series, mask: np.ndarray, reason: str) -> None:
    fresh = mask & (problems == "").to_numpy(bool)
    problems[fresh] = reason


def statuses(frame: pd.DataFrame, problems: pd.Series, notes: list[str]) -> pd.Series:
    """Our status per row; unknown words become rejects, listed once in ``notes``."""
    text = frame["status"].astype("string").str.strip()
    status = text.str.lower().map(STATUS_ALIASES)
    unknown = (text.notna() & status.isna()).to_numpy(bool)
    if unknown.any():
        line = unknown_values_line("status", text[unknown], "/".join(STATUSES), "resolved")
        notes.append(line)
        _reject(problems, unknown, "unknown status (see the load summary for the --value line that maps it)")
    default = pd.Series(np.where(frame["resolved_at"].notna(), "resolved", "reported"), index=frame.index)
    return status.fillna(default)


def check_sequence(frame: pd.DataFrame, problems: pd.Series, allow_closed_without_time: bool) -> None:
    reported, resolved = frame["reported_at"], frame["resolved_at"]
    _reject(problems, (resolved < reported).fillna(False).to_numpy(bool), "resolved_at is before reported_at")
    closed = frame["status"].isin(CLOSED).to_numpy(bool)
    if not allow_closed_without_time:
        _reject(
            problems,
            closed & resolved.isna().to_numpy(bool),
            "closed status without resolved_at (load with --allow-closed-without-time to keep such rows)",
        )
    _reject(
        problems,
        frame["status"].isin(OPEN_STATUSES).to_numpy(bool) & resolved.notna().to_numpy(bool),
        "open status but resolved_at is given",
    )


def set_deadlines(con, deadlines: dict[str, int]) -> None:
    for category, hours in deadlines.items():
        ensure_categories(con, [category], (DEFAULT_AFFAIR_CLASS, hours, DEFAULT_DEPARTMENT))
        set_deadline(con, category, hours)


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def new_categories_line(new: list[str], frame: pd.DataFrame) -> str:
    counts = frame["category"].value_counts()
    shown = ", ".join(f"{name} ({_rows(counts.get(name, 0))})" for name in new[:10]) + (" …" if len(new) > 10 else "")
    return (
        f"{len(new)} new categor{'y' if len(new) == 1 else 'ies'} got the default {DEFAULT_DEADLINE_H} h deadline: "
        f"{shown}; set theirs with --deadline '{new[0]}=HOURS' (repeatable) or on the settings page"
    )


def incident_defaults(con, frame: pd.DataFrame, problems: pd.Series, notes: list[str] | None, options: LoadOptions):
    """Fill affair class, deadline, status, source and priority; reject impossible rows."""
    notes = notes if notes is not None else []
    problems = problems.copy()
    set_deadlines(con, options.deadlines)
    new = ensure_categories(
        con,
        frame["category"].dropna().unique().tolist(),
        (DEFAULT_AFFAIR_CLASS, DEFAULT_DEADLINE_H, DEFAULT_DEPARTMENT),
    )
    if new:
        notes.append(new_categories_line(new, frame))
    categories = category_deadlines(con).set_index("category")
    frame = frame.copy()
    frame["affair_class"] = frame["affair_class"].fillna(frame["category"].map(categories["affair_class"]))
    deadline = pd.to_timedelta(
        frame["category"].map(categories["deadline_h"]).astype("Float64").fillna(DEFAULT_DEADLINE_H).to_numpy(float),
        unit="h",
    )
    frame["due_at"] = frame["due_at"].fillna(frame["reported_at"] + deadline)
    frame["status"] = statuses(frame, problems, notes)
    check_sequence(frame, problems, options.allow_closed_without_time)
    frame["source"] = frame["source"].fillna(SOURCES[2])
    frame["priority"] = frame["priority"].fillna(PRIORITIES[0])
    satisfaction = frame["satisfaction"]
    bad_score = (satisfaction.notna() & ~satisfaction.between(1, 5)).fillna(False).to_numpy(bool)
    _reject(problems, bad_score, "satisfaction must be 1 to 5")
    if options.archive_before is not None:
        frame = archive(frame, options.archive_before, notes)
    return frame, problems


def archive(frame: pd.DataFrame, before, notes: list[str]) -> pd.DataFrame:
    old = (frame["status"].isin(OPEN_STATUSES) & (frame["reported_at"] < pd.Timestamp(before))).to_numpy(bool)
    frame = frame.assign(archived=old)
    frame.loc[old, "due_at"] = pd.NaT
    if old.any():
        notes.append(
            f"archived {int(old.sum()):,} open incident(s) reported before {before:%Y-%m-%d}: kept with their status, "
            "flagged archived and without a deadline, so they are not counted overdue"
        )
    return frame


def parse_deadlines(items: list[str]) -> dict[str, int]:
    deadlines = {}
    for item in items:
        category, _, hours = item.rpartition("=")
        if not category.strip() or not hours.strip().isdigit() or int(hours) <= 0:
            raise LoadError(f"--deadline {item!r}: write it as CATEGORY=HOURS, e.g. --deadline 'Pothole=120'")
        deadlines[category.strip()] = int(hours)
    return deadlines
